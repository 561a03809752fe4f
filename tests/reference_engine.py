"""A reference evaluator of the rule language, for tests only: docs/rules.md read
literally, with nothing compiled, specialised, cached or indexed.

It interprets the condition tree on each subject, finds referrers by scanning every
resource of the kind (following each one's chain of references), constructs findings
with the dataclasses' own constructors and renders every message with Jinja2. Slow
(quadratic in places) and obviously so: the native engine must give exactly what it
gives, finding for finding and in the same order (tests/test_engine_reference.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from zenpolicy.engines.compile import compare, get_path
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.model import Check, Finding, Location, Status
from zenpolicy.rules import ast
from zenpolicy.rules.message import compile_template
from zenpolicy.rules.model import INVENTORY, Rule
from zenpolicy.rules.schedule import cron_max_gap
from zenpolicy.rules.timeutil import AsOf, age_seconds, duration_seconds, until_seconds


class _Run:
    def __init__(self, inv: Inventory, as_of: AsOf, params: Mapping[str, Any]) -> None:
        self.inv, self.as_of, self.params = inv, as_of, params
        self.root: Any = None

    def path(self, path: ast.Path, subj: Any, outer: Any) -> Any:
        base = {"self": subj, "outer": outer, "root": self.root}[path.scope]
        return get_path(base, path.parts)

    def value(self, value: ast.Value, subj: Any, outer: Any) -> Any:
        if isinstance(value, ast.Literal):
            return value.value
        if isinstance(value, ast.Param):
            return value.convert(self.params.get(value.name))
        return self.path(value.path, subj, outer)

    def holds(self, cond: ast.Condition, subj: Any, addr: str | None, outer: Any) -> bool:
        if isinstance(cond, ast.All):
            return all(self.holds(c, subj, addr, outer) for c in cond.items)
        if isinstance(cond, ast.Any_):
            return any(self.holds(c, subj, addr, outer) for c in cond.items)
        if isinstance(cond, ast.Not):
            return not self.holds(cond.item, subj, addr, outer)
        return bool(self.leaf(cond, subj, addr, outer)[0])

    def leaf(self, cond: ast.Condition, subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        if isinstance(cond, ast.Compare):
            a, b = self.path(cond.path, subj, outer), self.value(cond.value, subj, outer)
            return compare(cond.op, a, b), a, b
        if isinstance(cond, ast.Exists):
            v = self.path(cond.path, subj, outer)
            return (v is not None) == cond.expected, v, cond.expected
        if isinstance(cond, ast.Age | ast.CronMaxGap):
            v = self.path(cond.path, subj, outer)
            if isinstance(cond, ast.CronMaxGap):
                a = cron_max_gap(v) if isinstance(v, str) else None
            else:
                a = until_seconds(v, self.as_of) if cond.until else age_seconds(v, self.as_of)
            b = self.value(cond.value, subj, outer)
            return compare(cond.op, a, b), a, b
        if isinstance(cond, ast.Duration):
            a = duration_seconds(self.path(cond.start, subj, outer), self.path(cond.end, subj, outer))
            b = self.value(cond.value, subj, outer)
            return compare(cond.op, a, b), a, b
        if isinstance(cond, ast.Every | ast.Some):
            items, every = self.path(cond.path, subj, outer), isinstance(cond, ast.Every)
            if not isinstance(items, list):
                return False, None, (None if every else 1)
            n = sum(1 for item in items if self.holds(cond.satisfy, item, None, subj))
            return (n == len(items), n, len(items)) if every else (n >= 1, n, 1)
        if isinstance(cond, ast.Follow):
            target_addr = self.path(cond.path, subj, outer)
            target = self.inv.get(target_addr) if isinstance(target_addr, str) else None
            ok = target is not None and self.holds(cond.satisfy, target.attrs, target.address, subj)
            return ok, int(ok), 1
        if isinstance(cond, ast.Referrers):
            b = self.value(cond.count.value, subj, outer)
            if addr is None:
                return False, None, b
            n = sum(
                1
                for r in self.inv.kind(cond.kind)
                if self._reaches(r, cond.via, addr)
                and (cond.where is None or self.holds(cond.where, r.attrs, r.address, subj))
            )
            return compare(cond.count.op, n, b), n, b
        if isinstance(cond, ast.ExistsKind):
            n = sum(
                1
                for r in self.inv.kind(cond.kind)
                if cond.where is None or self.holds(cond.where, r.attrs, r.address, subj)
            )
            b = self.value(cond.count.value, subj, outer)
            return compare(cond.count.op, n, b), n, b
        raise TypeError(cond)

    def _reaches(self, res: Resource, via: tuple[str, ...], target: str) -> bool:
        """Whether `res`'s attribute via[0] names (a resource whose via[1] names...) `target`."""
        values = _references(res.attrs, via[0])
        if len(via) == 1:
            return target in values
        return any(
            (nxt := self.inv.get(v)) is not None and self._reaches(nxt, via[1:], target) for v in values
        )


def _references(attrs: Mapping[str, Any], dotted: str) -> list[str]:
    """The references at a dotted path of nested mappings: a text, or a list of them."""
    value: Any = attrs
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, str):
        return [value]
    return [x for x in value if isinstance(x, str)] if isinstance(value, list) else []


def _leaves(cond: ast.Condition) -> list[ast.Condition]:
    if isinstance(cond, ast.All | ast.Any_):
        return [leaf for c in cond.items for leaf in _leaves(c)]
    if isinstance(cond, ast.Not):
        return _leaves(cond.item)
    return [cond]


def _verdict(cond: ast.Condition, results: list[bool]) -> bool:
    """`cond` from its top leaves' results, consumed in order."""
    if isinstance(cond, ast.All | ast.Any_):
        values = [_verdict(c, results) for c in cond.items]
        return all(values) if isinstance(cond, ast.All) else any(values)
    if isinstance(cond, ast.Not):
        return not _verdict(cond.item, results)
    return results.pop(0)


def _leaf_path(leaf: ast.Condition) -> tuple[str, ...] | None:
    path = getattr(leaf, "end", None) if isinstance(leaf, ast.Duration) else getattr(leaf, "path", None)
    if isinstance(leaf, ast.Referrers | ast.ExistsKind) or path is None:
        return None
    if path.scope != "self" or not path.parts:
        return None
    parts: tuple[str, ...] = path.parts
    return parts


def evaluate(
    rules: Sequence[Rule],
    inv: Inventory,
    *,
    as_of: AsOf,
    params: Mapping[str, Any],
    display_params: Mapping[str, Any],
) -> list[Finding]:
    run = _Run(inv, as_of, params)
    out: list[Finding] = []
    for rule in rules:
        subjects: list[Resource | None] = (
            [None] if rule.resource == INVENTORY else list(inv.kind(rule.resource))
        )
        found: list[Finding] = []
        for res in subjects:
            run.root = None if res is None else res.attrs
            address = "inventory" if res is None else res.address
            location = inv.root if res is None else res.location
            attrs: Mapping[str, Any] = {} if res is None else res.attrs
            try:
                if (
                    rule.where is not None
                    and res is not None
                    and not run.holds(rule.where, attrs, address, None)
                ):
                    continue
            except Exception as exc:
                found.append(_error(rule, address, location, exc))
                continue
            found.append(_judge(run, rule, res, address, attrs, location, display_params))
        if not found:
            scope = " in this rule's scope" if rule.where else ""
            found.append(
                Finding(
                    rule_id=rule.id,
                    address="inventory",
                    status=Status.NOT_APPLICABLE,
                    severity=rule.severity,
                    location=inv.root,
                    message=f"no {rule.resource} to check{scope}",
                )
            )
        out += found
    return out


def _judge(
    run: _Run,
    rule: Rule,
    res: Resource | None,
    address: str,
    attrs: Mapping[str, Any],
    location: Location,
    shown: Mapping[str, Any],
) -> Finding:
    try:
        leaves = _leaves(rule.require)
        evidence = []
        for leaf in leaves:
            result, actual, expected = run.leaf(leaf, attrs, None if res is None else address, None)
            evidence.append(Check(test=ast.describe(leaf), actual=actual, expected=expected, result=result))
        if _verdict(rule.require, [c.result for c in evidence]):
            status, message = Status.PASS, rule.title
        else:
            status = Status.FAIL
            text = compile_template(rule.message).render(
                address=address, resource=attrs, params=shown, evidence=[c.to_dict() for c in evidence]
            )
            message = " ".join(text.split())
            failing = [_leaf_path(leaf) for leaf, c in zip(leaves, evidence, strict=True) if not c.result]
            path = next((p for p in failing if p is not None), None)
            if res is not None and path is not None:
                location = res.attribute_location(path)
        return Finding(
            rule_id=rule.id,
            address=address,
            status=status,
            severity=rule.severity,
            location=location,
            message=message,
            evidence=tuple(evidence),
        )
    except Exception as exc:
        return _error(rule, address, location, exc)


def _error(rule: Rule, address: str, location: Location, exc: Exception) -> Finding:
    return Finding(
        rule_id=rule.id,
        address=address,
        status=Status.ERROR,
        severity=rule.severity,
        location=location,
        message=f"rule could not be evaluated: {type(exc).__name__}: {exc}",
    )
