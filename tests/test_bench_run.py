"""bench/run.py: which interpreter a series ran on, and Checkov's environment made from
the same one (a faster build of CPython for one side only would skew the ratio)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import run  # noqa: E402 - from bench/, put on the path above


def test_a_venv_is_known_by_the_interpreter_it_was_made_from(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    assert run.venv_base(venv) == run.base_interpreter()


def test_a_venv_made_elsewhere_or_unreadable_differs(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "pyvenv.cfg").write_text(
        "home = /opt/python/bin\nversion = 3.11.9\nexecutable = /opt/python/bin/python3.11\n",
        encoding="utf-8",
    )
    assert run.venv_base(other) == "/opt/python/bin/python3.11"
    assert run.venv_base(other) != run.base_interpreter()
    old = tmp_path / "old"
    old.mkdir()
    (old / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n", encoding="utf-8")
    assert run.venv_base(old) is None  # made before `executable` was written: made again
    assert run.venv_base(tmp_path / "missing") is None


@pytest.mark.skipif(shutil.which("ldd") is None or not sys.platform.startswith("linux"), reason="needs ldd")
def test_libpython_says_how_the_interpreter_is_linked() -> None:
    # ldd reads the executable's dynamic section: an independent answer.
    linked = subprocess.run(["ldd", sys.executable], capture_output=True, text=True, check=True).stdout
    assert run.libpython() == ("shared" if "libpython" in linked else "static")


def test_the_usage_of_a_check_is_measured_though_it_ends_without_python_s_exit() -> None:
    # zenpolicy's program ends with os._exit (zenpolicy/exiting.py), where no atexit
    # handler runs: the wrapper still reports the run's peak memory and CPU time, once.
    _, usage, out, err = run.run_child(run.py("zenpolicy", "check", "inventory", "--no-cache"))
    assert err.count("BENCH_USAGE=") == 1
    assert usage["self"] > 0 and usage["cpu_ms"] > 0
    assert "failing" in out
