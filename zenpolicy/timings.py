"""Where a run's time goes: stage durations on standard error, when asked.

`ZENPOLICY_TIMINGS=1` prints one line per stage as it ends (`zenpolicy: timing: load
0.412 s`), on standard error so that reports stay byte-identical. bench/run.py reads
them instead of re-running the stages itself; ops use it to see what a slow run spends
its time on. Off, a stage costs one dictionary lookup.
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
    yield
    print(f"{PREFIX}{name} {time.perf_counter() - start:.3f} s", file=sys.stderr, flush=True)
