"""Where a run's time goes: stage durations on standard error, when asked.

`ZENPOLICY_TIMINGS=1` prints one line per stage as it ends (`zenpolicy: timing: load
0.412 s`), on standard error so that reports stay byte-identical. A stage run inside
another (the catalogue, read while the inventory's files are parsed) is not counted
in it: the figures add up to the run. bench/run.py reads them instead of re-running
the stages itself; ops use it to see what a slow run spends its time on. Off, a stage
costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

ENV = "ZENPOLICY_TIMINGS"
PREFIX = "zenpolicy: timing: "


def enabled() -> bool:
    return os.environ.get(ENV) == "1"


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time the block as stage `name` (printed only when it completes)."""
    if not enabled():
        yield
        return
    start = time.perf_counter()
    _nested.append(0.0)
    try:
        yield
    finally:
        inner = _nested.pop()
    spent = time.perf_counter() - start
    if _nested:
        _nested[-1] += spent
    print(f"{PREFIX}{name} {spent - inner:.3f} s", file=sys.stderr, flush=True)


_nested: list[float] = []
"""For each stage running, the time of the stages that ran inside it so far."""
