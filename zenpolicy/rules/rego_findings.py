"""The compiled Rego's answer -> `Finding`s, exactly as the native engine makes them.

Rego yields `{rule_id, address, status, evidence}` per subject (rules/rego.py); the rest
of a finding (severity, location, message) is the client's: the same functions the
native engine uses (`render_message`, `failure_location`, `leaf_path`) fill it in from
the local rule and the Inventory, so both engines' findings are equal field for field.

An answer is checked before it is believed: anything that is not the expected shape, a
finding for a rule the client does not know, or a rule without any finding (every rule
yields at least one: pass/fail per subject, or not_applicable) is an error, reported by
the caller as an EngineError.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zenpolicy.inventory.model import Inventory
from zenpolicy.model import Check, Finding, Status
from zenpolicy.rules import ast
from zenpolicy.rules.leaves import failure_location, leaf_path, top_leaves
from zenpolicy.rules.message import render_message
from zenpolicy.rules.model import INVENTORY, INVENTORY_ADDRESS, Rule
from zenpolicy.rules.rego_custom import CustomModule

_STATUSES = {"pass": Status.PASS, "fail": Status.FAIL, "not_applicable": Status.NOT_APPLICABLE}
_CHECK_KEYS = ("test", "actual", "expected", "result")


class AnswerError(ValueError):
    """The answer is not what the compiled catalogue yields (one line)."""


def findings_from_answer(
    rules: Sequence[Rule], inventory: Inventory, answer: Any, params: Mapping[str, Any]
) -> list[Finding]:
    """`answer` is data.zenpolicy.findings; `params` are the values as written (31d),
    for messages. Raises AnswerError."""
    if not isinstance(answer, list):
        raise AnswerError(f"data.zenpolicy.findings is {_type(answer)}, not a list of findings")
    by_id = {rule.id: rule for rule in rules}
    # Each rule's top leaves described and located once, not once per finding.
    shapes = {rule.id: _leaf_shape(rule) for rule in rules}
    seen: dict[tuple[str, str], Status] = {}
    findings: list[Finding] = []
    for index, raw in enumerate(answer):
        rule_id, address, status, evidence = _shape(raw, index)
        rule = by_id.get(rule_id)
        if rule is None:
            raise AnswerError(
                f"a finding for rule {rule_id!r}, which this catalogue does not define "
                "(the server holds other policies: rebuild and redeploy the bundle, or restart it)"
            )
        if (rule_id, address) in seen:
            raise AnswerError(f"two findings for rule {rule_id} on {address}")
        seen[(rule_id, address)] = status
        findings.append(_finding(rule, shapes[rule_id], inventory, address, status, evidence, params))
    answered = {rule_id for rule_id, _ in seen}  # a set: an answer holds 319k findings at 100k
    missing = [rule.id for rule in rules if rule.id not in answered]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise AnswerError(
            f"no finding for rule{'s' if len(missing) > 1 else ''} {shown}: the server does not "
            "know them (is its bundle built from this catalogue?)"
        )
    return findings


def _shape(raw: Any, index: int) -> tuple[str, str, Status, list[Check]]:
    where = f"finding #{index + 1}"
    if not isinstance(raw, dict):
        raise AnswerError(f"{where} is {_type(raw)}, not an object")
    for key, kind in (("rule_id", str), ("address", str), ("status", str), ("evidence", list)):
        if not isinstance(raw.get(key), kind):
            raise AnswerError(f"{where} has no {kind.__name__} {key!r}")
    status = _STATUSES.get(raw["status"])
    if status is None:
        raise AnswerError(f"{where} has status {raw['status']!r} (pass, fail or not_applicable)")
    checks: list[Check] = []
    for item in raw["evidence"]:
        if not isinstance(item, dict) or any(k not in item for k in _CHECK_KEYS):
            raise AnswerError(f"{where} ({raw['rule_id']}) has evidence without {', '.join(_CHECK_KEYS)}")
        if not isinstance(item["test"], str) or not isinstance(item["result"], bool):
            raise AnswerError(f"{where} ({raw['rule_id']}) has evidence whose test or result is mistyped")
        checks.append(
            Check(test=item["test"], actual=item["actual"], expected=item["expected"], result=item["result"])
        )
    return raw["rule_id"], raw["address"], status, checks


def _leaf_shape(rule: Rule) -> tuple[list[str], list[tuple[str, ...] | None]]:
    """The tests a finding of `rule` lists as evidence, in order, and the attribute each
    one reads (see rules/leaves.py)."""
    leaves = top_leaves(rule.require)
    return [ast.describe(leaf) for leaf in leaves], [leaf_path(leaf) for leaf in leaves]


def _finding(
    rule: Rule,
    shape: tuple[list[str], list[tuple[str, ...] | None]],
    inventory: Inventory,
    address: str,
    status: Status,
    evidence: list[Check],
    params: Mapping[str, Any],
) -> Finding:
    texts, paths = shape
    if status is Status.NOT_APPLICABLE:
        if address != INVENTORY_ADDRESS or rule.resource == INVENTORY:
            raise AnswerError(f"rule {rule.id}: a not_applicable finding on {address}")
        message = rule.not_applicable_message()
        return Finding(
            rule_id=rule.id,
            address=address,
            status=status,
            severity=rule.severity,
            location=inventory.root,
            message=message,
        )
    if [check.test for check in evidence] != texts:
        raise AnswerError(
            f"rule {rule.id} on the server is not the local one (its tests differ): "
            "rebuild and redeploy the bundle"
        )
    resource = None if address == INVENTORY_ADDRESS else inventory.get(address)
    if rule.resource == INVENTORY:
        if address != INVENTORY_ADDRESS:
            raise AnswerError(f"rule {rule.id} is about the inventory, not {address}")
    elif resource is None or resource.kind != rule.resource:
        raise AnswerError(
            f"rule {rule.id} has a finding on {address}, which is not a {rule.resource} of this inventory"
        )
    location = inventory.root if resource is None else resource.location
    if status is Status.PASS:
        message = rule.title
    else:
        attrs = {} if resource is None else resource.attrs
        message = render_message(rule.message, address=address, attrs=attrs, params=params, evidence=evidence)
        location = failure_location(paths, evidence, resource, location)
    return Finding(
        rule_id=rule.id,
        address=address,
        status=status,
        severity=rule.severity,
        location=location,
        message=message,
        evidence=tuple(evidence),
    )


def custom_findings(modules: Sequence[CustomModule], answer: Any, inventory: Inventory) -> list[Finding]:
    """`answer` is data.zenpolicy.custom: each module's `deny` values -> fail findings."""
    findings: list[Finding] = []
    for module in modules:
        package: Any = answer
        for part in module.name.split("."):
            package = package.get(part) if isinstance(package, dict) else None
        if not isinstance(package, dict):
            raise AnswerError(
                f"the server does not know the Rego module {module.path} (package zenpolicy.custom.{module.name})"
            )
        deny = package.get("deny", [])
        if not isinstance(deny, list):
            raise AnswerError(f"{module.path}: deny is {_type(deny)}, not a set")
        for item in deny:
            findings.append(_custom_finding(module, item, inventory))
    return findings


def _custom_finding(module: CustomModule, item: Any, inventory: Inventory) -> Finding:
    if isinstance(item, str):
        address, message = INVENTORY_ADDRESS, item
    elif isinstance(item, dict) and isinstance(item.get("msg"), str):
        address, message = str(item.get("address", INVENTORY_ADDRESS)), item["msg"]
    else:
        raise AnswerError(
            f"{module.path}: a deny value is {_type(item)}: expected a message or {{msg, address}}"
        )
    resource = inventory.get(address)
    return Finding(
        rule_id=module.rule_id,
        address=address,
        status=Status.FAIL,
        severity=module.severity,
        location=inventory.root if resource is None else resource.location,
        message=" ".join(message.split()),
    )


def _type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )
