"""Rule parameters: their specs (policies/params.yaml) and the values a run uses.

Precedence: `--param name=value` over the inventory configuration's `params:` over the
default. Values are typed once, here; engines receive durations as seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenpolicy.errors import UsageError
from zenpolicy.model import Location, Problem
from zenpolicy.rules.ast import parse_duration
from zenpolicy.rules.model import ParamSpec

if TYPE_CHECKING:
    from zenpolicy.inventory.config import Config

TYPES = ("duration", "integer", "number", "string")


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolvedParams:
    values: dict[str, Any]
    """Typed values (durations in seconds) for the engines."""
    display: dict[str, Any]
    """The values as written (`31d`), for reports."""
    origin: dict[str, str]
    """Where each value came from: `default`, `config` or `command line`."""


_SHAPES = {
    "duration": "a duration such as 31d, 72h or 15m",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
}


def _typed(spec: ParamSpec, raw: Any) -> Any:
    """`raw` typed for `spec`; ValueError when it has not that type's shape."""
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


def coerce(spec: ParamSpec, raw: Any, where: str) -> Any:
    """Type a value for `spec`; raises UsageError naming `where` it came from."""
    try:
        return _typed(spec, raw)
    except ValueError:
        raise UsageError(
            f"parameter {spec.name} ({where}) must be {_SHAPES[spec.type]}, not {raw!r}"
        ) from None


def _did_you_mean(name: str, specs: Mapping[str, ParamSpec]) -> str:
    import difflib

    hint = difflib.get_close_matches(name, list(specs), n=1)
    return f" (did you mean {hint[0]}?)" if hint else ""


def config_problems(specs: Mapping[str, ParamSpec], config: Config, root: Path) -> list[Problem]:
    """What is wrong with the `params:` of the configuration of the inventory at `root`:
    names the catalogue does not declare, values without their type's shape; each at
    the parameter's place in the file. The file is judged on its own: a value `--param`
    overrides is still checked."""
    anchor = config.location or Location(path=root.as_posix())
    problems: list[Problem] = []
    for name, raw in config.params.items():
        spec = specs.get(name)
        if spec is None:
            hint = _did_you_mean(name, specs) or " (`zenpolicy rules params` lists them)"
            message, code = f"unknown parameter {name!r}{hint}", "unknown-parameter"
        else:
            try:
                _typed(spec, raw)
                continue
            except ValueError:
                message = f"parameter {name} must be {_SHAPES[spec.type]}, not {raw!r}"
                code = "bad-parameter"
        # Asked only now: a lazy source map parses the file again to answer.
        problems.append(Problem(location=config.param_location(name) or anchor, message=message, code=code))
    return problems


def resolve_params(
    specs: Mapping[str, ParamSpec],
    config_params: Mapping[str, Any],
    cli_params: Mapping[str, str],
    *,
    source: str = "config",
) -> ResolvedParams:
    """The run's parameters: `--param` over the configuration's over the default.
    Unknown or ill-typed values are usage errors (`check` reports the configuration's
    with their places first, see `config_problems`). `source` names where
    `config_params` come from in those errors and in `origin` (a rule's example is not
    a configuration file)."""
    values: dict[str, Any] = {}
    display: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for where, given in ((source, config_params), ("command line", cli_params)):
        for name in given:
            if name not in specs:
                raise UsageError(f"unknown parameter {name!r} in the {where}{_did_you_mean(name, specs)}")
    for name in sorted(specs):
        spec = specs[name]
        raw, where = spec.default, "default"
        if name in config_params:
            raw, where = config_params[name], source
        if name in cli_params:
            raw, where = cli_params[name], "command line"
        values[name] = coerce(spec, raw, where)
        display[name] = raw
        origin[name] = where
    return ResolvedParams(values=values, display=display, origin=origin)
