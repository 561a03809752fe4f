"""The program ends its process with the command (zenpolicy/exiting.py): output and
exit code as a normal exit gives them, nothing held for a library caller."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from zenpolicy import exiting


def _run(code: str) -> subprocess.CompletedProcess[str]:
    # Buffered output, as most users have it (a pipe's is written when full or flushed).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)


def test_output_still_buffered_is_written_before_the_process_ends() -> None:
    done = _run(
        "import sys\n"
        "from zenpolicy import exiting\n"
        "exiting.end_with_command()\n"
        "sys.stdout.write('x' * 1000)\n"
        "sys.stderr.write('said')\n"
        "exiting.leave(SystemExit(3))\n"
        "print('not reached')\n"
    )
    assert (done.returncode, len(done.stdout), set(done.stdout), done.stderr) == (3, 1000, {"x"}, "said")


def test_no_exit_code_is_success() -> None:
    done = _run("from zenpolicy import exiting\nexiting.end_with_command()\nexiting.leave(SystemExit())\n")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_an_exit_with_a_message_goes_pythons_way() -> None:
    # Python prints the message and exits 1: `leave` lets it.
    done = _run(
        "from zenpolicy import exiting\nexiting.end_with_command()\nexiting.leave(SystemExit('gave up'))\n"
    )
    assert (done.returncode, done.stderr) == (1, "gave up\n")


def test_a_library_caller_keeps_nothing_and_is_not_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exiting, "_kept", None)
    exiting.keep(object())
    assert exiting._kept is None
    with pytest.raises(SystemExit) as raised:
        exiting.leave(SystemExit(4))
    assert raised.value.code == 4


def test_the_program_keeps_what_a_run_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exiting, "_kept", None)
    exiting.end_with_command()
    built = object()
    exiting.keep(built)
    assert exiting._kept == [built]
