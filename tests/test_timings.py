"""Stage timings (`ZENPOLICY_TIMINGS=1`): one line per stage on standard error, a stage
run inside another not counted in it (tests/test_cli_check.py runs them end to end)."""

from __future__ import annotations

import itertools
import time

import pytest

from zenpolicy import timings


def test_a_stage_inside_another_is_not_counted_in_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = itertools.count(0.0, 0.25)  # every reading of the clock a quarter second later
    monkeypatch.setattr(time, "perf_counter", lambda: next(clock))  # what timings reads
    monkeypatch.setenv(timings.ENV, "1")
    with timings.stage("load"):  # reads 0 and, at its end, 2.0
        with timings.stage("catalogue"):  # 0.25 .. 0.5
            pass
        with timings.stage("inner"):  # 0.75 .. 1.75, its own inner stage 1.0 .. 1.25
            with timings.stage("deepest"):
                pass
            next(clock)
    with pytest.raises(ValueError, match="boom"), timings.stage("failed"):
        raise ValueError("boom")
    with timings.stage("after"):  # nothing nested is left over from the failed one
        pass
    assert capsys.readouterr().err.splitlines() == [
        "zenpolicy: timing: catalogue 0.250 s",
        "zenpolicy: timing: deepest 0.250 s",
        "zenpolicy: timing: inner 0.750 s",
        "zenpolicy: timing: load 0.750 s",
        "zenpolicy: timing: after 0.250 s",
    ]
