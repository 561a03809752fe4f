"""Running rules' pass/fail examples: the rules' own tests (`zenpolicy test`, pytest).

An example is a miniature inventory; it must be valid like any inventory (schemas and
references), then the rule alone is evaluated on it and the subject's status compared
with the expected one. A subject that the rule's `where` excludes counts as
`not_applicable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zenpolicy.engines.native import evaluate
from zenpolicy.errors import UsageError
from zenpolicy.inventory.build import collect_resources, link, schema_problems
from zenpolicy.inventory.loader import Document
from zenpolicy.inventory.model import Inventory
from zenpolicy.inventory.yaml12 import SourceMap
from zenpolicy.model import Finding
from zenpolicy.rules.model import INVENTORY_ADDRESS, Example, ParamSpec, Rule
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.timeutil import parse_as_of


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleResult:
    rule_id: str
    kind: str
    """The list the example is in: pass, fail or not_applicable."""
    index: int
    expected: str
    actual: str
    """The subject's status, `not_applicable`, or `invalid` for a broken example."""
    ok: bool
    detail: str
    """Why it did not match (empty when ok)."""
    location: str
    """The rule file."""


def example_inventory(rule: Rule, example: Example) -> tuple[Inventory | None, list[str]]:
    doc = Document(path=rule.source.path, value=example.resources, source_map=SourceMap(), sha256="")
    resources, problems = collect_resources([doc])
    problems += schema_problems(resources)
    inventory, link_problems = link(resources, rule.source)
    problems += link_problems
    if problems:
        return None, [p.message for p in problems]
    return inventory, []


def subject_status(rule: Rule, example: Example, findings: Sequence[Finding]) -> str:
    # Without a subject, the example is about the inventory: an organisation-wide rule,
    # or a kind rule with nothing in scope (its not_applicable finding).
    subject = example.subject or INVENTORY_ADDRESS
    for f in findings:
        if f.address == subject:
            return str(f.status)
    return "not_applicable"


def run_example(rule: Rule, example: Example, params: dict[str, ParamSpec]) -> ExampleResult:
    def result(actual: str, detail: str = "") -> ExampleResult:
        return ExampleResult(
            rule_id=rule.id,
            kind=example.expect,
            index=example.index,
            expected=example.expect,
            actual=actual,
            ok=actual == example.expect and not detail,
            detail=detail,
            location=str(example.location or rule.source),
        )

    inventory, problems = example_inventory(rule, example)
    if inventory is None:
        return result("invalid", "invalid example inventory: " + "; ".join(problems))
    try:
        resolved = resolve_params(params, example.params, {}, source="example")
        as_of = parse_as_of(example.as_of)
    except UsageError as exc:
        return result("invalid", str(exc))
    findings = evaluate(
        [rule], inventory, as_of=as_of, params=resolved.values, display_params=resolved.display
    )
    status = subject_status(rule, example, findings)
    detail = ""
    if status != example.expect:
        subject = [f for f in findings if f.address == (example.subject or INVENTORY_ADDRESS)]
        detail = f"expected {example.expect}, got {status}" + (f": {subject[0].message}" if subject else "")
    return result(status, detail)


def run_examples(rules: Sequence[Rule], params: dict[str, ParamSpec]) -> list[ExampleResult]:
    return [run_example(rule, ex, params) for rule in rules for ex in rule.examples]
