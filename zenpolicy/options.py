"""What a check is asked to do: the options of a run, as the CLI, the API and the result
cache's key read them.

Plain data, apart from the stages that act on it, so that an engine can take its own
options without depending on the API that runs the stages (`zenpolicy.api` re-exports
both classes, its public names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


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
