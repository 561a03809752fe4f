"""Ending the process with the command, without freeing what the command built.

At 100k resources a run's inventory is millions of objects: freeing them one by one
takes 0.05 s (measured alone), and the interpreter's teardown after a `check` took
8-9 ms (`strace`: from the last line written to `exit_group`), for nothing, since the
operating system takes a process's memory back whole when it ends. So the command line
(`cli.main`, and only it) says that the process ends with its command; from then on
`keep` holds what a run built (so that no change of who holds what makes a run free
it before the end), and `leave` flushes standard output and error and ends the
process with `os._exit`, with the command's exit code. mypy does the same
(`util.hard_exit`).

Nothing else is skipped: zenpolicy registers no `atexit` handler, its children and its
cache's writer thread are waited for and its files closed before the command returns,
and the report is in place by then. Library callers and tests (click's runner, which
never calls `cli.main`) never ask: `keep` does nothing, and everything is freed as
usual.
"""

from __future__ import annotations

import os
import sys
from typing import NoReturn

_kept: list[object] | None = None
"""What runs built, held until the process ends; None: the process outlives the
command (a library caller, a test), nothing is held."""


def end_with_command() -> None:
    """Say that the process ends when the command returns (`cli.main`)."""
    global _kept
    if _kept is None:
        _kept = []


def keep(value: object) -> None:
    """Hold `value` until the process ends, if it ends with the command."""
    if _kept is not None:
        _kept.append(value)


def leave(done: SystemExit) -> NoReturn:
    """End the process as `done` would, without freeing its objects one by one. An
    exit with a message instead of a number, or output that cannot be flushed (a
    closed pipe), goes Python's usual way: it says what it says about them."""
    code = done.code
    if _kept is None or not (code is None or isinstance(code, int)):
        raise done
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        raise done from None
    os._exit(code or 0)
