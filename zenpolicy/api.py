"""The one place the stages meet: load -> validate -> build -> evaluate -> Report.

The CLI is a thin adapter over these functions; tests and other front ends call them
directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenpolicy.model import Report, Tally

if TYPE_CHECKING:
    from zenpolicy.formats import RenderOptions


@dataclass(frozen=True, slots=True, kw_only=True)
class OpaOptions:
    url: str
    token: str | None = None
    """Bearer token; never printed, logged or put in a report."""
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    insecure: bool = False
    """Skip certificate verification (off by default; say so loudly when on)."""
    timeout: float = 10.0
    use_bundle: bool = False
    """Rely on the bundle the server already holds instead of uploading policies."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOptions:
    path: Path
    as_of: str | None = None
    """`--as-of`; else the inventory config's `as_of`; else today in UTC."""
    policies: tuple[Path, ...] = ()
    """Extra rule directories (custom rules)."""
    select: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    """`--param name=value` overrides (strings, typed by the parameter's spec)."""
    engine: str = "native"
    opa: OpaOptions | None = None
    rego_modules: tuple[Path, ...] = ()
    """User Rego modules (conftest-style `deny` rules) for the OPA engine."""
    jobs: int | None = None
    """Processes to share the work among (None: the default, see `zenpolicy.parallel`);
    the report is the same for any number."""
    extra: dict[str, Any] = field(default_factory=dict)


def run_check_rendered(
    options: CheckOptions, format_: str, render: RenderOptions
) -> tuple[Report, Tally, Iterable[bytes]]:
    """Validate the inventory, evaluate the catalogue, and render the report in
    `format_`: the report (holding only the findings the format lists, none when they
    were rendered by the processes that evaluated them: use `run_check` for them all),
    the tally of every finding, and the chunks, to be consumed once. The bytes are those
    of `FORMATS[format_](run_check(options), render)`.

    Raises as `run_check`.
    """
    from zenpolicy.check import run_rendered

    return run_rendered(options, format_, render)


def run_check(options: CheckOptions) -> Report:
    """Validate the inventory, evaluate the catalogue, and return the report.

    Raises `InputError` (invalid inventory or rules), `UsageError`, `EngineError`.
    """
    from zenpolicy.check import run

    return run(options)
