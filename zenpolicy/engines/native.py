"""The native engine: each rule compiled once to closures, run over the indexed
inventory. Cost is linear: a rule visits the resources of its kind, and relations go
through the reverse-reference index, never through a scan of the inventory.

Checks yield, the engine annotates: predicates return verdicts and values; this module
attaches rule ID, severity, location and message to make findings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zenpolicy.engines.compile import Ctx, Leaf, Pred, compile_leaf, compile_pred
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.model import Check, Finding, Location, Status
from zenpolicy.rules import ast
from zenpolicy.rules.message import render_message
from zenpolicy.rules.model import INVENTORY, Rule
from zenpolicy.rules.timeutil import AsOf

INVENTORY_ADDRESS = "inventory"


@dataclass(frozen=True, slots=True)
class _TopLeaf:
    text: str
    fn: Leaf
    path: tuple[str, ...] | None
    """The subject's attribute the leaf reads (for the finding's location)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    where: Pred | None
    leaves: tuple[_TopLeaf, ...]
    combine: Callable[[list[bool]], bool]
    """The require tree's verdict from its top-level leaves' results."""


def top_leaves(cond: ast.Condition) -> list[ast.Condition]:
    """The leaves of `cond` not nested under a quantifier, relation or `exists`, in order."""
    if isinstance(cond, ast.All | ast.Any_):
        return [leaf for c in cond.items for leaf in top_leaves(c)]
    if isinstance(cond, ast.Not):
        return top_leaves(cond.item)
    return [cond]


def _combiner(cond: ast.Condition, counter: list[int]) -> Callable[[list[bool]], bool]:
    if isinstance(cond, ast.All):
        parts = [_combiner(c, counter) for c in cond.items]
        return lambda results: all(p(results) for p in parts)
    if isinstance(cond, ast.Any_):
        parts = [_combiner(c, counter) for c in cond.items]
        return lambda results: any(p(results) for p in parts)
    if isinstance(cond, ast.Not):
        inner = _combiner(cond.item, counter)
        return lambda results: not inner(results)
    index = counter[0]
    counter[0] += 1
    return lambda results: results[index]


def leaf_path(leaf: ast.Condition) -> tuple[str, ...] | None:
    """The plain attribute of the subject a leaf reads, if any."""
    path: ast.Path | None = None
    if isinstance(leaf, ast.Duration):
        path = leaf.end
    elif isinstance(
        leaf, ast.Compare | ast.Exists | ast.Age | ast.CronMaxGap | ast.Every | ast.Some | ast.Follow
    ):
        path = leaf.path
    if path is None or path.scope != "self" or not path.parts:
        return None
    return path.parts


def compile_rule(rule: Rule) -> CompiledRule:
    leaves = top_leaves(rule.require)
    return CompiledRule(
        rule=rule,
        where=None if rule.where is None else compile_pred(rule.where, rule.resource),
        leaves=tuple(
            _TopLeaf(text=ast.describe(leaf), fn=compile_leaf(leaf, rule.resource), path=leaf_path(leaf))
            for leaf in leaves
        ),
        combine=_combiner(rule.require, [0]),
    )


def failure_location(
    leaves: Sequence[_TopLeaf | tuple[str, tuple[str, ...] | None]],
    evidence: Sequence[Check],
    resource: Resource | None,
    fallback: Location,
) -> Location:
    """Where a finding points: the attribute read by the first failing leaf, else the
    resource, else `fallback` (the inventory root)."""
    if resource is None:
        return fallback
    for leaf, check in zip(leaves, evidence, strict=False):
        path = leaf.path if isinstance(leaf, _TopLeaf) else leaf[1]
        if not check.result and path is not None:
            return resource.attribute_location(path)
    return resource.location


class NativeEngine:
    """Evaluates compiled rules; `display_params` are the values as written, for messages."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.compiled = [compile_rule(r) for r in rules]

    def evaluate(
        self,
        inventory: Inventory,
        *,
        as_of: AsOf,
        params: Mapping[str, Any],
        display_params: Mapping[str, Any] | None = None,
    ) -> list[Finding]:
        shown = display_params if display_params is not None else params
        findings: list[Finding] = []
        for cr in self.compiled:
            findings.extend(_evaluate_rule(cr, inventory, as_of, params, shown))
        return findings


def evaluate(
    rules: Sequence[Rule],
    inventory: Inventory,
    *,
    as_of: AsOf,
    params: Mapping[str, Any],
    display_params: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Every finding of `rules` on `inventory` (unsorted; see model.sort_findings)."""
    return NativeEngine(rules).evaluate(inventory, as_of=as_of, params=params, display_params=display_params)


def _evaluate_rule(
    cr: CompiledRule, inv: Inventory, as_of: AsOf, params: Mapping[str, Any], shown: Mapping[str, Any]
) -> list[Finding]:
    rule = cr.rule
    if rule.resource == INVENTORY:
        ctx = Ctx(inventory=inv, as_of=as_of, params=params, root=None)
        return [_finding(cr, None, INVENTORY_ADDRESS, {}, inv.root, ctx, shown)]
    out: list[Finding] = []
    for res in inv.kind(rule.resource):
        ctx = Ctx(inventory=inv, as_of=as_of, params=params, root=res.attrs)
        try:
            if cr.where is not None and not cr.where(res.attrs, res.address, None, ctx):
                continue
        except Exception as exc:  # fail closed: an error finding, the run goes on
            out.append(_error(cr, res.address, res.location, exc))
            continue
        out.append(_finding(cr, res, res.address, res.attrs, res.location, ctx, shown))
    if not out:
        out.append(
            Finding(
                rule_id=rule.id,
                address=INVENTORY_ADDRESS,
                status=Status.NOT_APPLICABLE,
                severity=rule.severity,
                location=inv.root,
                message=f"no {rule.resource} to check" + (" in this rule's scope" if rule.where else ""),
            )
        )
    return out


def _finding(
    cr: CompiledRule,
    res: Resource | None,
    address: str,
    attrs: Mapping[str, Any],
    location: Location,
    ctx: Ctx,
    shown: Mapping[str, Any],
) -> Finding:
    rule = cr.rule
    try:
        evidence = []
        for leaf in cr.leaves:
            result, actual, expected = leaf.fn(attrs, None if res is None else address, None, ctx)
            evidence.append(Check(test=leaf.text, actual=actual, expected=expected, result=result))
        ok = cr.combine([c.result for c in evidence])
        if ok:
            return Finding(
                rule_id=rule.id,
                address=address,
                status=Status.PASS,
                severity=rule.severity,
                location=location,
                message=rule.title,
                evidence=tuple(evidence),
            )
        message = render_message(rule.message, address=address, attrs=attrs, params=shown, evidence=evidence)
        return Finding(
            rule_id=rule.id,
            address=address,
            status=Status.FAIL,
            severity=rule.severity,
            location=failure_location(cr.leaves, evidence, res, location),
            message=message,
            evidence=tuple(evidence),
        )
    except Exception as exc:  # fail closed: an error finding, the run goes on
        return _error(cr, address, location, exc)


def _error(cr: CompiledRule, address: str, location: Location, exc: Exception) -> Finding:
    return Finding(
        rule_id=cr.rule.id,
        address=address,
        status=Status.ERROR,
        severity=cr.rule.severity,
        location=location,
        message=f"rule could not be evaluated: {type(exc).__name__}: {exc}",
    )
