"""Dates, date-times and durations, as the rule language defines them (docs/rules.md).

Ages and durations are whole seconds, rounded down. A `date` value's age counts whole
days from the as_of date; a `date-time` value's age is measured from the as_of instant.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from zenpolicy.errors import UsageError

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_RFC3339_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
_UTC = dt.UTC


@dataclass(frozen=True, slots=True, kw_only=True)
class AsOf:
    """The evaluation moment."""

    text: str
    """As given (`2026-11-26` or an RFC 3339 date-time)."""
    instant: dt.datetime
    """Timezone-aware; a date means T00:00:00Z of that day."""
    date: dt.date
    """The UTC date of `instant`."""

    def iso(self) -> str:
        return self.instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_as_of(text: str) -> AsOf:
    if _DATE_RE.match(text):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            raise UsageError(f"--as-of {text!r} is not a valid date (YYYY-MM-DD)") from None
        return AsOf(text=text, instant=dt.datetime(day.year, day.month, day.day, tzinfo=_UTC), date=day)
    moment = parse_datetime(text)
    if moment is None:
        raise UsageError(
            f"--as-of {text!r} is not a date (YYYY-MM-DD) or an RFC 3339 date-time with an offset"
        )
    moment = moment.astimezone(_UTC)
    return AsOf(text=text, instant=moment, date=moment.date())


def today() -> str:
    return dt.datetime.now(_UTC).date().isoformat()


# No cache here: the engines keep each text's seconds or instant for the run, and an
# estate's date-times are mostly distinct (20k last logins at 100k resources), for
# which a cache only costs.


def parse_date(value: str) -> dt.date | None:
    if len(value) != 10 or not _DATE_RE.match(value):  # YYYY-MM-DD and nothing more
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def parse_datetime(value: str) -> dt.datetime | None:
    """An RFC 3339 date-time with an offset (`Z` or `+02:00`); None otherwise.

    Only RFC 3339's shape is accepted (not the looser ISO 8601 forms `fromisoformat`
    also takes, such as `+0200` or a missing seconds field), because that is what
    OPA's `time.parse_rfc3339_ns` accepts: both engines must read the same instants.
    """
    if _RFC3339_RE.match(value) is None:
        # Upper-case `T` and `Z` only: RFC 3339 also allows `t` and `z`, but Go's
        # `time.RFC3339` layout, which OPA parses with, does not.
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def age_seconds(value: object, as_of: AsOf) -> int | None:
    """`as_of - value` in whole seconds, or None when value is no date or date-time."""
    if not isinstance(value, str):
        return None
    day = parse_date(value)
    if day is not None:
        return (as_of.date - day).days * 86400
    moment = parse_datetime(value)
    if moment is None:
        return None
    return _floor_seconds(as_of.instant - moment)


def until_seconds(value: object, as_of: AsOf) -> int | None:
    """`value - as_of` in whole seconds, rounded down, or None (see `age_seconds`)."""
    if not isinstance(value, str):
        return None
    day = parse_date(value)
    if day is not None:
        return (day - as_of.date).days * 86400
    moment = parse_datetime(value)
    if moment is None:
        return None
    return _floor_seconds(moment - as_of.instant)


def instant(value: object) -> dt.datetime | None:
    """A date-time, or a date taken as its T00:00:00Z."""
    if not isinstance(value, str):
        return None
    day = parse_date(value)
    if day is not None:
        return dt.datetime(day.year, day.month, day.day, tzinfo=_UTC)
    return parse_datetime(value)


def duration_seconds(start: object, end: object) -> int | None:
    a, b = instant(start), instant(end)
    if a is None or b is None:
        return None
    return _floor_seconds(b - a)


_SECOND = dt.timedelta(seconds=1)


def _floor_seconds(delta: dt.timedelta) -> int:
    # timedelta keeps microseconds exactly: floor division avoids float rounding.
    return delta // _SECOND
