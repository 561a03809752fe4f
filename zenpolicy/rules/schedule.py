"""Cron schedules: the longest gap between consecutive firings, via cronsim.

The window is fixed (366 days from 2026-01-01T00:00:00Z) so the answer does not depend
on the evaluation date, and both engines share this one computation (the OPA engine
receives it precomputed in its input).

A five-field cron expression fires at the same times of day (minute x hour) on every
day it fires, so instead of walking up to half a million firings of `* * * * *`, we let
cronsim enumerate the firing *days* (`0 0 DOM MON DOW`) and the times of one day
(`MIN HOUR * * *`) and combine them: exact, and bounded whatever the input, which
matters because the expression comes from user files.

Walking even those with cronsim's iterator cost 1-15 ms per expression (its `advance`
ticks through hours and minutes to reach each day): 50 ms of a 0.25 s check of the
example estate, a fifth of it. The times of a day are cronsim's parsed minute and hour
sets, combined; the firing days are the dates cronsim's own day test (`match_day`, with
the month set) accepts, tested one date at a time. The iterator remains the reference
(tests compare both on generated expressions) and the fallback.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from itertools import pairwise

from cronsim import CronSim

WINDOW_START = dt.datetime(2026, 1, 1)
WINDOW_DAYS = 366
_DAY = 86400


@lru_cache(maxsize=4096)
def cron_max_gap(expr: str) -> int:
    """Longest interval, in seconds, between two consecutive firings of `expr` whose
    first firing lies in the window (so a yearly schedule reports about a year).

    Raises ValueError (cronsim's CronSimError) for an invalid expression; validation
    rejects those before rules run.
    """
    minute, hour, dom, month, dow = expr.split()
    times = _times_of_day(minute, hour)
    days = _firing_days(f"0 0 {dom} {month} {dow}")
    within = max((b - a for a, b in pairwise(times)), default=0)
    wrap = _DAY - times[-1] + times[0]  # last firing of a day to first of the next
    longest = within
    for a, b in pairwise(days):
        longest = max(longest, (b - a - 1) * _DAY + wrap)
    return longest


def _times_of_day(minute: str, hour: str) -> list[int]:
    """Seconds after midnight of each firing, in a day the expression fires."""
    sim = CronSim(f"{minute} {hour} * * *", WINDOW_START)
    try:
        return sorted(h * 3600 + m * 60 for h in sim.hours for m in sim.minutes)
    except (AttributeError, TypeError):  # another cronsim's insides: walk it instead
        return _walked_times_of_day(minute, hour)


def _walked_times_of_day(minute: str, hour: str) -> list[int]:
    """`_times_of_day` by cronsim's iterator (the reference)."""
    it = CronSim(f"{minute} {hour} * * *", WINDOW_START - dt.timedelta(seconds=1))
    out: list[int] = []
    for moment in it:
        if moment >= WINDOW_START + dt.timedelta(days=1):
            break
        out.append(int((moment - WINDOW_START).total_seconds()))
    return out


_SCANNED_DAYS = 11 * 366
"""How far `_firing_days` tests dates before leaving a rare schedule (`0 0 * 2 MON#5`)
to cronsim's iterator: ten years past the window cover every leap-day schedule."""


@lru_cache(maxsize=1024)
def _firing_days(expr: str) -> tuple[int, ...]:
    """Day numbers (from WINDOW_START) on which the expression fires: every one in the
    window, plus the first one after it (at least two days, even for a schedule
    such as `0 4 29 2 *` whose first firing is years away). Kept per day fields: the
    schedules of an estate differ mostly in their times (283 expressions, 14 sets of
    days in the 100k benchmark estate), and testing 367 dates costs 0.5 ms."""
    sim = CronSim(expr, WINDOW_START)
    try:
        months, fires = sim.months, sim.match_day
        day, step = WINDOW_START.date(), dt.timedelta(days=1)
        out: list[int] = []
        for number in range(_SCANNED_DAYS):
            if day.month in months and fires(day):
                out.append(number)
                if number >= WINDOW_DAYS and len(out) >= 2:
                    return tuple(out)
            day += step
    except (AttributeError, TypeError):  # another cronsim's insides
        pass
    return tuple(_walked_firing_days(expr))


def _walked_firing_days(expr: str) -> list[int]:
    """`_firing_days` by cronsim's iterator (the reference)."""
    it = CronSim(expr, WINDOW_START - dt.timedelta(seconds=1))
    out: list[int] = []
    for moment in it:
        day = (moment - WINDOW_START).days
        out.append(day)
        if day >= WINDOW_DAYS and len(out) >= 2:
            break
    return out
