"""Where reports go: atomic files, and colour only for a person at a terminal."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from zenpolicy import cli as cli_module
from zenpolicy import cli_check, output, resources
from zenpolicy.formats import FORMATS
from zenpolicy.formats import json as json_format
from zenpolicy.model import Report
from zenpolicy.output import OutputError, check_writable, write_atomic, write_atomic_chunks

ROOT = Path(__file__).parents[1]
ANSI = re.compile(rb"\x1b\[[0-9;]*m")


# ---- atomic writes ----------------------------------------------------------------------


def test_write_atomic_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    write_atomic(target, "new ✓\n")
    assert target.read_text(encoding="utf-8") == "new ✓\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["r.json"]


def test_write_atomic_new_file_is_readable_like_open(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "r.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "r.txt").stat().st_mode) == 0o644


def test_failed_replace_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: Any) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OutputError, match=r"cannot write .*r\.json: Permission denied"):
        write_atomic(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["r.json"]


@pytest.mark.parametrize("after", [0, 1, 3])
def test_rendering_failure_writes_nothing(tmp_path: Path, monkeypatch: Any, after: int) -> None:
    """The report goes to a temporary file as it is rendered: a renderer that fails after
    some chunks leaves neither a partial report nor a temporary file, nor a cache entry."""

    def broken(report: Report, *_: Any) -> Iterator[bytes]:
        yield from [b"{\n"] * after
        raise RuntimeError("renderer bug")

    # A JSON report of the native engine is framed from its rules' blocks
    # (zenpolicy/sharded.py); of the OPA engine, and for the API, rendered whole.
    monkeypatch.setitem(FORMATS, "json", broken)
    monkeypatch.setattr(json_format, "framed", broken)
    monkeypatch.chdir(ROOT)
    target = tmp_path / "r.json"
    for existing in (None, "previous report\n"):
        if existing is not None:
            target.write_text(existing, encoding="utf-8")
        result = CliRunner().invoke(
            cli_module.cli,
            ["check", "inventory", "--select", "AUTH-02", "--format", "json", "-o", str(target)],
        )
        assert result.exit_code == 3
        assert result.stderr == (
            "zenpolicy: error: unexpected RuntimeError: renderer bug (set ZENPOLICY_DEBUG=1 for the traceback)\n"
        )
        if existing is None:
            assert not target.exists()
        assert os.listdir(tmp_path) == ([] if existing is None else ["r.json"])
        assert existing is None or target.read_text(encoding="utf-8") == existing
    assert list(resources.cache_dir().glob("*")) == []


def test_write_atomic_chunks_streams_and_fails_whole(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    write_atomic_chunks(target, iter([b"a", b"", "é\n".encode()]))
    assert target.read_text(encoding="utf-8") == "aé\n"

    def failing() -> Iterator[bytes]:
        yield b"half"
        raise OSError(28, "No space left on device")  # from the producer: passed on as it is

    with pytest.raises(OSError, match="No space left"):
        write_atomic_chunks(target, failing())
    assert target.read_text(encoding="utf-8") == "aé\n"
    assert os.listdir(tmp_path) == ["r.json"]


@pytest.mark.skipif(not output._FADVISE, reason="write-behind is asked of Linux only")
def test_write_behind_hands_every_written_byte_to_the_kernel_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Every WRITE_BEHIND bytes, the range written since the last hint is handed to
    the kernel's writeback (the real call, on a real file); the file is the chunks."""
    asked: list[tuple[int, int, int]] = []
    real = os.posix_fadvise

    def spy(fd: int, offset: int, length: int, advice: int) -> None:
        asked.append((offset, length, advice))
        real(fd, offset, length, advice)

    monkeypatch.setattr(output, "WRITE_BEHIND", 10)
    monkeypatch.setattr(os, "posix_fadvise", spy)
    chunks = [b"a" * 4, b"b" * 7, b"", b"c" * 25, b"d" * 3, b"e" * 9]
    target = tmp_path / "r.json"
    write_atomic_chunks(target, iter(chunks))
    assert target.read_bytes() == b"".join(chunks)
    dontneed = os.POSIX_FADV_DONTNEED
    # After 11 bytes, 36, then 48 (3 + 9 more); the last 0 bytes pending: no call.
    assert asked == [(0, 11, dontneed), (11, 25, dontneed), (36, 12, dontneed)]


@pytest.mark.skipif(not output._FADVISE, reason="write-behind is asked of Linux only")
@settings(max_examples=examples(60), deadline=None)
@given(
    chunks=st.lists(st.binary(max_size=40), max_size=25),
    every=st.integers(min_value=1, max_value=64),
)
def test_write_behind_ranges_follow_each_other_whatever_the_chunks(chunks: list[bytes], every: int) -> None:
    """Any chunks, any threshold: the file is their concatenation, and the ranges handed
    to the kernel start at 0, follow each other, each at least the threshold long,
    and leave less than the threshold to the final fsync."""
    asked: list[tuple[int, int]] = []
    real = os.posix_fadvise

    def spy(fd: int, offset: int, length: int, advice: int) -> None:
        asked.append((offset, length))
        real(fd, offset, length, advice)

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as patch:
        patch.setattr(output, "WRITE_BEHIND", every)
        patch.setattr(os, "posix_fadvise", spy)
        target = Path(tmp) / "r.json"
        write_atomic_chunks(target, iter(chunks))
        assert target.read_bytes() == b"".join(chunks)
    starts = [0] + [offset + length for offset, length in asked]
    assert [offset for offset, _ in asked] == starts[:-1]
    assert all(length >= every for _, length in asked)
    assert starts[-1] <= sum(map(len, chunks))
    assert 0 <= sum(map(len, chunks)) - starts[-1] < every  # what is left, for the fsync


@pytest.mark.skipif(not output._FADVISE, reason="write-behind is asked of Linux only")
def test_write_behind_refused_once_is_not_asked_again(tmp_path: Path, monkeypatch: Any) -> None:
    calls: list[int] = []

    def refuse(fd: int, offset: int, length: int, advice: int) -> None:
        calls.append(offset)
        raise OSError(29, "Illegal seek")  # what a pipe or FIFO answers

    monkeypatch.setattr(output, "WRITE_BEHIND", 2)
    monkeypatch.setattr(os, "posix_fadvise", refuse)
    target = tmp_path / "r.json"
    write_atomic_chunks(target, iter([b"ab", b"cd", b"ef"]))
    assert target.read_bytes() == b"abcdef"
    assert calls == [0]


def test_check_writable_fails_as_a_write_would(tmp_path: Path, monkeypatch: Any) -> None:
    check_writable(tmp_path / "r.json")
    assert os.listdir(tmp_path) == []
    with pytest.raises(OutputError, match=r"directory .*nope does not exist"):
        check_writable(tmp_path / "nope" / "r.json")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    attempts: tuple[Callable[[], None], ...] = (
        lambda: check_writable(tmp_path / "r.json"),
        lambda: write_atomic(tmp_path / "r.json", "x"),
    )
    for attempt in attempts:
        with pytest.raises(OutputError, match=r"cannot write .*r\.json: Permission denied"):
            attempt()


# ---- colour -----------------------------------------------------------------------------


def run_in_pty(args: list[str], env: dict[str, str]) -> bytes:
    """Run the CLI with a pseudo-terminal as stdout, as a person at a terminal would."""
    import pty

    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "TERM")}
    full_env.update(env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zenpolicy", *args], cwd=ROOT, env=full_env, stdout=slave, stderr=slave
    )
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=600)
    os.close(master)
    assert b"Traceback" not in out
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
@pytest.mark.parametrize(
    ("extra", "env", "coloured"),
    [
        ([], {}, True),
        ([], {"NO_COLOR": "1"}, False),
        ([], {"NO_COLOR": ""}, False),  # any value, even empty, turns colour off
        (["--format", "json"], {}, False),
    ],
)
def test_colour_on_a_terminal_only_without_no_color(
    extra: list[str], env: dict[str, str], coloured: bool
) -> None:
    out = run_in_pty(["check", "inventory", *extra], env)
    assert b"params: " in out or b'"params"' in out
    assert bool(ANSI.search(out)) is coloured


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_output_file_has_no_colour_even_from_a_terminal(tmp_path: Path) -> None:
    run_in_pty(["check", "inventory", "--output", str(tmp_path / "r.txt")], {})
    assert not ANSI.search((tmp_path / "r.txt").read_bytes())


def test_no_colour_when_piped() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "zenpolicy", "check", "inventory", "--verbose"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
        capture_output=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 1
    assert b"passing (" in proc.stdout
    assert not ANSI.search(proc.stdout + proc.stderr)


@pytest.mark.parametrize(
    ("env", "isatty", "expected"),
    [({}, True, True), ({}, False, False), ({"NO_COLOR": "x"}, True, False), ({"NO_COLOR": ""}, True, False)],
)
def test_use_color(monkeypatch: Any, env: dict[str, str], isatty: bool, expected: bool) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)

    class Stream:
        def isatty(self) -> bool:
            return isatty

    assert cli_check.use_color(Stream()) is expected


def test_closed_pipe_is_quiet() -> None:
    """`zenpolicy check | head -1`: the reader leaves early; no traceback, no noise."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "zenpolicy", "check", "inventory", "--format", "json"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # before the report is written: the write fails with EPIPE
    stderr = proc.stderr.read()
    assert (proc.wait(timeout=600), stderr) == (3, b"")
