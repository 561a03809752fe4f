"""A loaded rule: its metadata and its parsed conditions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zenpolicy.model import Clause, Location, RuleInfo, Severity
from zenpolicy.rules.ast import Condition

INVENTORY = "inventory"
"""The `resource:` of organisation-wide rules."""

INVENTORY_ADDRESS = "inventory"
"""The address of the findings of organisation-wide rules (their subject is the whole
inventory, which has no address of its own)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Example:
    """A miniature inventory and the status the rule must give its subject."""

    expect: str
    """`pass`, `fail` or `not_applicable`."""
    resources: dict[str, dict[str, Any]]
    subject: str | None
    as_of: str = "2026-01-01"
    params: dict[str, Any] = field(default_factory=dict)
    index: int = 0
    """Position in its list, for messages (`fail[1]`)."""
    location: Location | None = None
    """Where the example is written in its rule file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    id: str
    control: str
    title: str
    description: str
    severity: Severity
    domain: str
    resource: str
    """A kind, or `inventory`."""
    where: Condition | None
    require: Condition
    message: str
    """Jinja2 template (sandboxed)."""
    clause: Clause
    frameworks: dict[str, tuple[str, ...]]
    params: tuple[str, ...]
    remediation: str
    examples: tuple[Example, ...]
    source: Location
    """The rule file."""
    builtin: bool = True
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    """The file's content as loaded (for `rules show` and the Rego compiler's metadata)."""

    def not_applicable_message(self) -> str:
        """What a not_applicable finding says, in both engines."""
        return f"no {self.resource} to check" + (" in this rule's scope" if self.where else "")

    def info(self) -> RuleInfo:
        return RuleInfo(
            id=self.id,
            control=self.control,
            title=self.title,
            severity=self.severity,
            domain=self.domain,
            clause=self.clause,
            remediation=self.remediation,
            frameworks=self.frameworks,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ParamSpec:
    """A rule parameter with its default (from policies/params.yaml)."""

    name: str
    type: str
    """`duration`, `integer`, `number` or `string`."""
    default: Any
    description: str
    clause: str
