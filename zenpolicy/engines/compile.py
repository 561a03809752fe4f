"""Compile the condition AST to Python closures (the native engine's predicates).

Semantics are docs/rules.md's: a test on an absent or null value is false, values are
compared as JSON values without coercion, ages and durations in whole seconds.

Every leaf compiles to a function returning `(result, actual, expected)` so that one
piece of code gives both the verdict and the evidence; nested conditions only use the
verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.inventory.schema import kind_schemas, reference_paths
from zenpolicy.rules import ast
from zenpolicy.rules.regex import regex
from zenpolicy.rules.schedule import cron_max_gap
from zenpolicy.rules.timeutil import AsOf, age_seconds, duration_seconds, until_seconds


@dataclass(frozen=True, slots=True)
class Ctx:
    """What every predicate may read besides its subject."""

    inventory: Inventory
    as_of: AsOf
    params: Mapping[str, Any]
    root: Mapping[str, Any] | None


# subject value, subject address (None for list items), outer subject, context
Pred = Callable[[Any, str | None, Any, Ctx], bool]
Leaf = Callable[[Any, str | None, Any, Ctx], tuple[bool, Any, Any]]

_MISSING = None


def get_path(value: Any, parts: tuple[str, ...]) -> Any:
    for part in parts:
        # `type(...) is dict` first: inventory values are plain dicts, and an
        # isinstance check against the Mapping ABC costs ~0.4 us (15% of evaluation).
        if type(value) is dict or isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
        if value is None:
            return None
    return value


def _reader(path: ast.Path) -> Callable[[Any, Any, Ctx], Any]:
    parts = path.parts
    if path.scope == "self":
        return lambda subj, outer, ctx: get_path(subj, parts)
    if path.scope == "outer":
        return lambda subj, outer, ctx: get_path(outer, parts)
    return lambda subj, outer, ctx: get_path(ctx.root, parts)


def _value(value: ast.Value) -> Callable[[Any, Any, Ctx], Any]:
    if isinstance(value, ast.Literal):
        literal = value.value
        return lambda subj, outer, ctx: literal
    if isinstance(value, ast.Param):
        name, param = value.name, value
        if param.unit is None:
            return lambda subj, outer, ctx: ctx.params.get(name)
        return lambda subj, outer, ctx: param.convert(ctx.params.get(name))
    return _reader(value.path)


def json_eq(a: Any, b: Any) -> bool:
    """JSON equality: booleans are not numbers, 1 == 1.0, containers compared deeply."""
    kind = type(a)
    if kind is type(b) and (kind is str or kind is bool or kind is int):
        return bool(a == b)  # the common case, decided without the isinstance chain below
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_eq(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_eq(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _ordered(a: Any, b: Any) -> bool:
    return (_is_number(a) and _is_number(b)) or (isinstance(a, str) and isinstance(b, str))


def compare(op: str, a: Any, b: Any) -> bool:
    """The comparison operators; false whenever either side is absent."""
    if a is None or b is None:
        return False
    if op == "eq":
        return json_eq(a, b)
    if op == "ne":
        return not json_eq(a, b)
    if op in ("lt", "le", "gt", "ge"):
        if not _ordered(a, b):
            return False
        if op == "lt":
            return bool(a < b)
        if op == "le":
            return bool(a <= b)
        if op == "gt":
            return bool(a > b)
        return bool(a >= b)
    if op == "in":
        return isinstance(b, list) and any(json_eq(a, x) for x in b)
    if op == "not_in":
        return isinstance(b, list) and not any(json_eq(a, x) for x in b)
    if op == "contains":
        return isinstance(a, list) and any(json_eq(x, b) for x in a)
    if op == "matches":
        return isinstance(a, str) and isinstance(b, str) and regex(b).search(a) is not None
    raise ValueError(f"unknown operator {op}")


def compile_leaf(node: ast.Condition, rule_kind: str) -> Leaf:
    """A leaf as a function giving (result, actual, expected)."""
    if isinstance(node, ast.Compare):
        read, rhs, op = _reader(node.path), _value(node.value), node.op

        def cmp_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            a, b = read(subj, outer, ctx), rhs(subj, outer, ctx)
            return compare(op, a, b), a, b

        return cmp_leaf
    if isinstance(node, ast.Exists):
        read, expected = _reader(node.path), node.expected
        return lambda subj, addr, outer, ctx: (
            ((v := read(subj, outer, ctx)) is not None) == expected,
            v,
            expected,
        )
    if isinstance(node, ast.Age | ast.CronMaxGap):
        read, rhs, op = _reader(node.path), _value(node.value), node.op
        measure = _gap if isinstance(node, ast.CronMaxGap) else _until if node.until else _age

        def time_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            a, b = measure(read(subj, outer, ctx), ctx), rhs(subj, outer, ctx)
            return compare(op, a, b), a, b

        return time_leaf
    if isinstance(node, ast.Duration):
        start, end, rhs, op = _reader(node.start), _reader(node.end), _value(node.value), node.op

        def dur_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            a = duration_seconds(start(subj, outer, ctx), end(subj, outer, ctx))
            b = rhs(subj, outer, ctx)
            return compare(op, a, b), a, b

        return dur_leaf
    if isinstance(node, ast.Every | ast.Some):
        read, inner, every = (
            _reader(node.path),
            compile_pred(node.satisfy, rule_kind),
            isinstance(node, ast.Every),
        )

        def quant_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            items = read(subj, outer, ctx)
            if not isinstance(items, list):
                return False, None, (None if every else 1)
            n = sum(1 for item in items if inner(item, None, subj, ctx))
            return (n == len(items), n, len(items)) if every else (n >= 1, n, 1)

        return quant_leaf
    if isinstance(node, ast.Follow):
        read, inner = _reader(node.path), compile_pred(node.satisfy, rule_kind)

        def follow_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            target_addr = read(subj, outer, ctx)
            target = ctx.inventory.get(target_addr) if isinstance(target_addr, str) else None
            ok = target is not None and inner(target.attrs, target.address, subj, ctx)
            return ok, int(ok), 1

        return follow_leaf
    if isinstance(node, ast.Referrers):
        return _referrers_leaf(node, rule_kind)
    if isinstance(node, ast.ExistsKind):
        kind, where, count = node.kind, _opt_pred(node.where, rule_kind), node.count
        rhs = _value(count.value)

        def exists_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
            n = sum(
                1 for r in ctx.inventory.kind(kind) if where is None or where(r.attrs, r.address, subj, ctx)
            )
            b = rhs(subj, outer, ctx)
            return compare(count.op, n, b), n, b

        return exists_leaf
    raise TypeError(f"not a leaf: {node!r}")


def _age(value: Any, ctx: Ctx) -> int | None:
    return age_seconds(value, ctx.as_of)


def _until(value: Any, ctx: Ctx) -> int | None:
    return until_seconds(value, ctx.as_of)


def _gap(value: Any, ctx: Ctx) -> int | None:
    return cron_max_gap(value) if isinstance(value, str) else None


def _opt_pred(node: ast.Condition | None, rule_kind: str) -> Pred | None:
    return None if node is None else compile_pred(node, rule_kind)


def via_kinds(kind: str, via: tuple[str, ...]) -> list[tuple[str, ...]]:
    """For a referrer kind and a `via` chain, the kinds at each hop (`kinds[i]` are the
    kinds that `via[i]` may name), read from the schemas' `x-reference`."""
    schemas = kind_schemas()
    hops: list[tuple[str, ...]] = []
    current: tuple[str, ...] = (kind,)
    for step in via:
        allowed: list[str] = []
        for k in current:
            for path, targets, _ in reference_paths(schemas.get(k, {})):
                if ".".join(path) == step:
                    allowed += [t for t in targets if t not in allowed]
        hops.append(tuple(allowed))
        current = tuple(allowed)
    return hops


def referring(
    inv: Inventory, address: str, kind: str, via: tuple[str, ...], hops: list[tuple[str, ...]]
) -> list[Resource]:
    """Resources of `kind` that reach `address` through the chain `via`, by name."""
    # Walk the chain backwards through the reverse index: linear in what is found.
    targets = [address]
    for i in range(len(via) - 1, 0, -1):
        source_kinds = hops[i - 1]
        found: dict[str, Resource] = {}
        for t in targets:
            for k in source_kinds:
                for r in inv.referrers(t, k, via[i]):
                    found.setdefault(r.address, r)
        targets = sorted(found)
    out: dict[str, Resource] = {}
    for t in targets:
        for r in inv.referrers(t, kind, via[0]):
            out.setdefault(r.address, r)
    return [out[k] for k in sorted(out)]


def _referrers_leaf(node: ast.Referrers, rule_kind: str) -> Leaf:
    kind, via, count = node.kind, node.via, node.count
    where = _opt_pred(node.where, rule_kind)
    rhs = _value(count.value)
    hops = via_kinds(kind, via)

    def ref_leaf(subj: Any, addr: str | None, outer: Any, ctx: Ctx) -> tuple[bool, Any, Any]:
        b = rhs(subj, outer, ctx)
        if addr is None:
            return False, None, b
        found = referring(ctx.inventory, addr, kind, via, hops)
        n = sum(1 for r in found if where is None or where(r.attrs, r.address, subj, ctx))
        return compare(count.op, n, b), n, b

    return ref_leaf


def compile_pred(node: ast.Condition, rule_kind: str) -> Pred:
    """A condition as a boolean function (short-circuiting)."""
    if isinstance(node, ast.All):
        items = [compile_pred(c, rule_kind) for c in node.items]
        return lambda s, a, o, c: all(p(s, a, o, c) for p in items)
    if isinstance(node, ast.Any_):
        items = [compile_pred(c, rule_kind) for c in node.items]
        return lambda s, a, o, c: any(p(s, a, o, c) for p in items)
    if isinstance(node, ast.Not):
        inner = compile_pred(node.item, rule_kind)
        return lambda s, a, o, c: not inner(s, a, o, c)
    leaf = compile_leaf(node, rule_kind)
    return lambda s, a, o, c: leaf(s, a, o, c)[0]
