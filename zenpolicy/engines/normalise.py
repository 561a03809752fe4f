"""The normalised input: one JSON document with everything a compiled rule reads.

    {"as_of": "2026-11-26T00:00:00Z",        the evaluation instant (RFC 3339, UTC)
     "as_of_date": "2026-11-26",              its UTC date (ages of `date` values)
     "params": {"password_rotation": 2678400, ...},   typed: durations in seconds
     "resources": {kind: {name: attributes}},          as declared
     "derived": {"cron_max_gap": {expr: seconds}}}     computed here, not in Rego

`derived` holds what Rego cannot compute the way the native engine does: the longest
gap of a cron schedule is computed by the very function the native engine calls
(zenpolicy.rules.schedule.cron_max_gap), for every cron expression the kind schemas
mark (`x-cron`), so both engines read one number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from zenpolicy.inventory.model import Inventory
from zenpolicy.inventory.schema import cron_paths, kind_schemas
from zenpolicy.rules.schedule import cron_max_gap
from zenpolicy.rules.timeutil import AsOf


def normalise(inventory: Inventory, as_of: AsOf, params: Mapping[str, Any]) -> dict[str, Any]:
    """The input document of `data.zenpolicy.findings` (see the module docstring)."""
    resources = {
        kind: {res.name: dict(res.attrs) for res in inventory.kind(kind)}
        for kind in sorted(inventory.by_kind)
    }
    return {
        "as_of": instant_text(as_of.instant),
        "as_of_date": as_of.date.isoformat(),
        "params": dict(sorted(params.items())),
        "resources": resources,
        "derived": {"cron_max_gap": cron_gaps(inventory)},
    }


def instant_text(moment: dt.datetime) -> str:
    """RFC 3339 in UTC with `Z`; microseconds only when there are some (the native
    engine keeps them, so the Rego side must see them too)."""
    utc = moment.astimezone(dt.UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def cron_gaps(inventory: Inventory) -> dict[str, int]:
    """Every valid cron expression at a schema's `x-cron` attribute -> its longest gap.

    An invalid expression is left out (validation rejects it before any rule runs);
    the Rego test on it is then false."""
    schemas = kind_schemas()
    gaps: dict[str, int] = {}
    for kind in sorted(inventory.by_kind):
        for path in cron_paths(schemas.get(kind, {})):
            for res in inventory.kind(kind):
                expr = _at(res.attrs, path)
                if not isinstance(expr, str) or expr in gaps:
                    continue
                try:
                    gaps[expr] = cron_max_gap(expr)
                except Exception:  # noqa: S112 - cronsim raises its own types and ValueError
                    continue
    return dict(sorted(gaps.items()))


def _at(attrs: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = attrs
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
