"""The condition language as typed values (see docs/rules.md for the semantics).

`parse_condition` turns a rule file's `where`/`require` mapping (already checked against
schemas/rule.schema.json) into these frozen nodes. Both engines compile from here: the
native engine to Python closures, the Rego compiler to Rego text, so they cannot read a
rule differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from zenpolicy.rules.regex import RegexError, regex

COMPARISONS = ("eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "matches")
SYMBOLS = {
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "in": "in",
    "not_in": "not in",
    "contains": "contains",
    "matches": "matches",
}

_DURATION_RE = re.compile(r"([0-9]+)([smhdw])\Z")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_UNIT_SECONDS = UNIT_SECONDS


class ConditionError(ValueError):
    """A condition that the schema accepted but that makes no sense (bad regex...)."""


def parse_duration(text: str) -> int:
    """`31d` -> seconds. Raises ValueError for anything else."""
    match = _DURATION_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 31d, 72h, 15m, 45s or 2w")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


# ---- values ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Path:
    """A path from the current subject. `scope` is `self` (the current subject),
    `outer` (one level up) or `root` (the rule's resource). `parts` empty means `@`."""

    parts: tuple[str, ...]
    scope: str = "self"

    def __str__(self) -> str:
        prefix = {"self": "", "outer": "$outer.", "root": "$root."}[self.scope]
        body = ".".join(self.parts) if self.parts else "@"
        return prefix + body if self.parts else (prefix.rstrip(".") or "@")


@dataclass(frozen=True, slots=True, kw_only=True)
class Literal:
    value: Any

    def __str__(self) -> str:
        return _show(self.value)


UNIT_NAMES = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    name: str
    unit: str | None = None
    """For a duration parameter compared with a plain number of days, hours... (a
    password policy's `max_age_days`): the unit to express the duration in."""

    def __str__(self) -> str:
        return self.name if self.unit is None else f"{self.name} (in {UNIT_NAMES[self.unit]})"

    def convert(self, value: Any) -> Any:
        """The parameter's value expressed in `unit` (whole when it divides exactly)."""
        if self.unit is None or isinstance(value, bool) or not isinstance(value, int | float):
            return value
        size = _UNIT_SECONDS[self.unit]
        return value // size if isinstance(value, int) and value % size == 0 else value / size


@dataclass(frozen=True, slots=True, kw_only=True)
class PathValue:
    path: Path

    def __str__(self) -> str:
        return str(self.path)


Value = Literal | Param | PathValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Count:
    """A comparison applied to a count: `count: {ge: 6}`."""

    op: str
    value: Value


# ---- conditions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class All:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Any_:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Not:
    item: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class Compare:
    path: Path
    op: str
    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class Exists:
    path: Path
    expected: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Age:
    """`as_of - value at path` (an `age`), or `value at path - as_of` (an `until`: the
    time left before a date, such as a certificate's expiry), in seconds, compared with
    a duration."""

    path: Path
    op: str
    value: Value  # a duration: Literal(seconds) after parsing, or Param
    until: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration:
    """`value at end - value at start`, in seconds."""

    start: Path
    end: Path
    op: str
    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class Every:
    path: Path
    satisfy: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class Some:
    path: Path
    satisfy: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class Follow:
    path: Path
    satisfy: Condition


@dataclass(frozen=True, slots=True, kw_only=True)
class Referrers:
    """Resources of `kind` reaching the subject through the reference chain `via`
    (`via[0]` on the referrer; each next step on the resource the previous names)."""

    kind: str
    via: tuple[str, ...]
    where: Condition | None
    count: Count


@dataclass(frozen=True, slots=True, kw_only=True)
class ExistsKind:
    kind: str
    where: Condition | None
    count: Count


@dataclass(frozen=True, slots=True, kw_only=True)
class CronMaxGap:
    path: Path
    op: str
    value: Value


Condition = (
    All
    | Any_
    | Not
    | Compare
    | Exists
    | Age
    | Duration
    | Every
    | Some
    | Follow
    | Referrers
    | ExistsKind
    | CronMaxGap
)
LEAVES = (Compare, Exists, Age, Duration, Every, Some, Follow, Referrers, ExistsKind, CronMaxGap)
AT_LEAST_ONE = Count(op="ge", value=Literal(value=1))


# ---- parsing --------------------------------------------------------------------------


def parse_path(text: str) -> Path:
    if not isinstance(text, str) or not text:
        raise ConditionError(f"a path must be a non-empty string, not {text!r}")
    scope = "self"
    if text.startswith("$outer"):
        scope, text = "outer", text[len("$outer") :].lstrip(".")
    elif text.startswith("$root"):
        scope, text = "root", text[len("$root") :].lstrip(".")
    if text in ("", "@"):
        return Path(parts=(), scope=scope)
    parts = tuple(text.split("."))
    if any(not p for p in parts):
        raise ConditionError(f"empty segment in path {text!r}")
    return Path(parts=parts, scope=scope)


def parse_value(raw: Any, *, duration: bool = False) -> Value:
    if isinstance(raw, dict):
        if set(raw) == {"param"}:
            return Param(name=str(raw["param"]))
        if set(raw) == {"param", "unit"}:
            if raw["unit"] not in UNIT_NAMES:
                raise ConditionError(f"unit must be one of {', '.join(UNIT_NAMES)}, not {raw['unit']!r}")
            return Param(name=str(raw["param"]), unit=raw["unit"])
        if set(raw) == {"path"}:
            return PathValue(path=parse_path(raw["path"]))
        raise ConditionError(
            f"a value mapping must be {{param: NAME}}, {{param: NAME, unit: d}} or {{path: P}}, not {raw!r}"
        )
    if duration:
        try:
            return Literal(value=parse_duration(raw))
        except ValueError as exc:
            raise ConditionError(str(exc)) from None
    return Literal(value=raw)


def _single_op(raw: dict[str, Any], allowed: tuple[str, ...], context: str) -> tuple[str, Any]:
    ops = [k for k in raw if k in allowed]
    if len(ops) != 1:
        raise ConditionError(
            f"{context} needs exactly one operator of {', '.join(allowed)}; got {sorted(raw)}"
        )
    return ops[0], raw[ops[0]]


def _count(raw: Any) -> Count:
    if raw is None:
        return AT_LEAST_ONE
    if not isinstance(raw, dict):
        raise ConditionError(f"count must be a mapping such as {{ge: 6}}, not {raw!r}")
    op, value = _single_op(raw, ("eq", "ne", "lt", "le", "gt", "ge"), "count")
    return Count(op=op, value=parse_value(value))


def parse_condition(raw: Any) -> Condition:
    """Parse one condition mapping; raises ConditionError with a precise message."""
    if not isinstance(raw, dict):
        raise ConditionError(f"a condition must be a mapping, not {raw!r}")
    if "all" in raw:
        return All(items=tuple(parse_condition(c) for c in raw["all"]))
    if "any" in raw:
        return Any_(items=tuple(parse_condition(c) for c in raw["any"]))
    if "not" in raw:
        return Not(item=parse_condition(raw["not"]))
    if "every" in raw or "some" in raw or "follow" in raw:
        key = "every" if "every" in raw else "some" if "some" in raw else "follow"
        path, satisfy = parse_path(raw[key]), parse_condition(raw["satisfy"])
        if key == "every":
            return Every(path=path, satisfy=satisfy)
        if key == "some":
            return Some(path=path, satisfy=satisfy)
        return Follow(path=path, satisfy=satisfy)
    if "referrers" in raw:
        spec = raw["referrers"]
        via = spec["via"]
        via_t = tuple(via) if isinstance(via, list) else (via,)
        where = parse_condition(raw["where"]) if "where" in raw else None
        return Referrers(kind=spec["kind"], via=via_t, where=where, count=_count(raw.get("count")))
    if "exists" in raw and isinstance(raw["exists"], dict):
        spec = raw["exists"]
        where = parse_condition(spec["where"]) if "where" in spec else None
        return ExistsKind(kind=spec["kind"], where=where, count=_count(raw.get("count")))
    if "age" in raw or "until" in raw:
        key = "age" if "age" in raw else "until"
        op, value = _single_op(raw, COMPARISONS[:6], key)
        return Age(
            path=parse_path(raw[key]), op=op, value=parse_value(value, duration=True), until=key == "until"
        )
    if "duration" in raw:
        start, end = raw["duration"]
        op, value = _single_op(raw, COMPARISONS[:6], "duration")
        return Duration(
            start=parse_path(start), end=parse_path(end), op=op, value=parse_value(value, duration=True)
        )
    if "cron_max_gap" in raw:
        op, value = _single_op(raw, COMPARISONS[:6], "cron_max_gap")
        return CronMaxGap(
            path=parse_path(raw["cron_max_gap"]), op=op, value=parse_value(value, duration=True)
        )
    if "path" in raw:
        path = parse_path(raw["path"])
        if "exists" in raw:
            return Exists(path=path, expected=bool(raw["exists"]))
        op, value = _single_op(raw, COMPARISONS, "a test")
        if op == "matches":
            try:
                regex(value)
            except RegexError as exc:
                raise ConditionError(f"invalid regular expression {value!r}: {exc}") from None
        return Compare(path=path, op=op, value=parse_value(value))
    raise ConditionError(f"unknown condition {sorted(raw)}")


def params_used(cond: Condition | None) -> set[str]:
    """Every parameter a condition reads (rules must declare them)."""
    out: set[str] = set()
    for node in walk(cond):
        for attr in ("value",):
            val = getattr(node, attr, None)
            if isinstance(val, Param):
                out.add(val.name)
        count = getattr(node, "count", None)
        if isinstance(count, Count) and isinstance(count.value, Param):
            out.add(count.value.name)
    return out


def walk(cond: Condition | None) -> list[Condition]:
    """Every node of a condition tree, depth first."""
    if cond is None:
        return []
    out: list[Condition] = [cond]
    if isinstance(cond, (All, Any_)):
        for c in cond.items:
            out += walk(c)
    elif isinstance(cond, Not):
        out += walk(cond.item)
    elif isinstance(cond, (Every, Some, Follow)):
        out += walk(cond.satisfy)
    elif isinstance(cond, (Referrers, ExistsKind)):
        out += walk(cond.where)
    return out


def describe(cond: Condition) -> str:
    """A leaf written back as text, for evidence (`age(password_changed_on) <= password_rotation`)."""
    if isinstance(cond, Compare):
        return f"{cond.path} {SYMBOLS[cond.op]} {cond.value}"
    if isinstance(cond, Exists):
        return f"exists({cond.path})" if cond.expected else f"not exists({cond.path})"
    if isinstance(cond, Age):
        name = "until" if cond.until else "age"
        return f"{name}({cond.path}) {SYMBOLS[cond.op]} {_dur(cond.value)}"
    if isinstance(cond, Duration):
        return f"duration({cond.start}, {cond.end}) {SYMBOLS[cond.op]} {_dur(cond.value)}"
    if isinstance(cond, CronMaxGap):
        return f"cron_max_gap({cond.path}) {SYMBOLS[cond.op]} {_dur(cond.value)}"
    if isinstance(cond, (Every, Some, Follow)):
        name = type(cond).__name__.lower()
        return f"{name}({cond.path})"
    if isinstance(cond, Referrers):
        return f"count(referrers {cond.kind} via {'.'.join(cond.via)}) {SYMBOLS[cond.count.op]} {cond.count.value}"
    if isinstance(cond, ExistsKind):
        return f"count({cond.kind}) {SYMBOLS[cond.count.op]} {cond.count.value}"
    return type(cond).__name__.lower().rstrip("_")


def _dur(value: Value) -> str:
    if isinstance(value, Literal) and isinstance(value.value, int):
        secs = value.value
        for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
            if secs % size == 0 and secs >= size:
                return f"{secs // size}{unit}"
        return f"{secs}s"
    return str(value)


def _show(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
