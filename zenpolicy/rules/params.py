"""Rule parameters: their specs (policies/params.yaml) and the values a run uses.

Precedence: `--param name=value` over the inventory configuration's `params:` over the
default. Values are typed once, here; engines receive durations as seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zenpolicy.errors import UsageError
from zenpolicy.model import Location
from zenpolicy.rules.ast import parse_duration
from zenpolicy.rules.model import ParamSpec

TYPES = ("duration", "integer", "number", "string")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedParams:
    values: dict[str, Any]
    """Typed values (durations in seconds) for the engines."""
    display: dict[str, Any]
    """The values as written (`31d`), for reports."""
    origin: dict[str, str]
    """Where each value came from: `default`, `config` or `command line`."""


def coerce(spec: ParamSpec, raw: Any, where: str) -> Any:
    """Type a value for `spec`; raises UsageError naming `where` it came from."""
    try:
        if spec.type == "duration":
            return parse_duration(str(raw))
        if spec.type == "integer":
            if isinstance(raw, bool):
                raise ValueError
            return int(raw) if isinstance(raw, int) else int(str(raw), 10)
        if spec.type == "number":
            if isinstance(raw, bool):
                raise ValueError
            return raw if isinstance(raw, int | float) else float(str(raw))
        return str(raw)
    except ValueError:
        shape = {
            "duration": "a duration such as 31d, 72h or 15m",
            "integer": "an integer",
            "number": "a number",
            "string": "a string",
        }[spec.type]
        raise UsageError(f"parameter {spec.name} ({where}) must be {shape}, not {raw!r}") from None


def resolve_params(
    specs: Mapping[str, ParamSpec],
    config_params: Mapping[str, Any],
    cli_params: Mapping[str, str],
    *,
    config_location: Callable[[str], Location | None] | None = None,
) -> ResolvedParams:
    """The run's parameters. `config_location`: where the configuration sets a
    parameter, to point an error about it at the file, line and column."""

    def located(name: str, source: str, message: str) -> UsageError:
        at = config_location(name) if source == "config" and config_location is not None else None
        return UsageError(message if at is None else f"{at}: {message}")

    values: dict[str, Any] = {}
    display: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for source, given in (("config", config_params), ("command line", cli_params)):
        for name in given:
            if name not in specs:
                import difflib

                hint = difflib.get_close_matches(name, list(specs), n=1)
                suggestion = f" (did you mean {hint[0]}?)" if hint else ""
                raise located(name, source, f"unknown parameter {name!r} in the {source}{suggestion}")
    for name in sorted(specs):
        spec = specs[name]
        raw, where = spec.default, "default"
        if name in config_params:
            raw, where = config_params[name], "config"
        if name in cli_params:
            raw, where = cli_params[name], "command line"
        try:
            values[name] = coerce(spec, raw, where)
        except UsageError as exc:
            raise located(name, where, str(exc)) from None
        display[name] = raw
        origin[name] = where
    return ResolvedParams(values=values, display=display, origin=origin)


def parse_cli_params(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param expects name=value, not {item!r}")
        out[name.strip()] = value.strip()
    return out
