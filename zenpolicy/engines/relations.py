"""Relations between resources for the native engine: `referrers` (the resources that
reference the subject, through a chain of references) and `exists` (resources of a
kind), compiled for one run.

Both go through the inventory's indexes, never through a scan per subject, and cache
per run what depends on the target only: the resources found (shared by every rule
that asks), and the count when `where` reads nothing but the candidate. A `where`
comparing a candidate's attribute with the rule's resource (`{path: username, eq:
{path: $root.username}}`: no login twice on one system) is answered from a table of
the candidates' values, counted once per target: without it, the rule is quadratic in
the accounts of a system.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from zenpolicy.engines.compile import (
    Env,
    Leaf,
    Pred,
    compare,
    compile_pred,
    const_test,
    constant,
    json_eq,
    reader,
    scopes,
    value_reader,
)
from zenpolicy.engines.select import sifter
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.inventory.schema import kind_schemas, reference_paths
from zenpolicy.model import ascending
from zenpolicy.rules import ast


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
    if len(via) == 1:
        listed = inv.referrers(address, kind, via[0])
        if _ascending(listed):
            # As the inventory's index lists them when built (each referrer once, in
            # the kind's order, which is by name): AUTH-01c asks for 10k people's.
            return list(listed)
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


def _ascending(resources: list[Resource]) -> bool:
    """Whether the resources' addresses are in strictly ascending order (most lists
    hold one resource: no list made for them)."""
    return len(resources) < 2 or ascending([r.address for r in resources], strict=True)


def _key(value: Any) -> tuple[int, Any] | None:
    """A hashable key under which values equal as JSON values (`json_eq`) meet: tagged,
    so that `True`, `1` and `"1"` stay apart while `1` and `1.0` meet. None for
    containers and NaN, which are compared one by one."""
    kind = type(value)
    if kind is str:
        return (0, value)
    if kind is bool:
        return (1, value)
    if kind is int or (kind is float and not math.isnan(value)):
        return (2, value)
    return None


class _Matching:
    """A `where` made of conditions on the candidate alone and one test
    `{path: P, eq: {path: $root.Q}}` (or `$outer.Q`): the candidates passing the
    former, tabled by their value at P, once per target."""

    def __init__(self, node: ast.Condition, env: Env) -> None:
        items = node.items if isinstance(node, ast.All) else (node,)
        keyed = [i for i, c in enumerate(items) if _keyed(c)]
        self.usable = len(keyed) == 1 and all(not scopes(c) for i, c in enumerate(items) if i != keyed[0])
        if not self.usable:
            return
        test = items[keyed[0]]
        assert isinstance(test, ast.Compare) and isinstance(test.value, ast.PathValue)
        rest = [c for i, c in enumerate(items) if i != keyed[0]]
        # The other conditions read the candidate alone: one comprehension (select.py's).
        self.candidates = sifter(ast.All(items=tuple(rest)), env, "referrers: table") if rest else None
        self.own = reader(test.path, env)
        self.other = reader(test.value.path, env)

    def table(self, found: list[Resource], subj: Any) -> tuple[dict[tuple[int, Any], int], list[Any]] | None:
        """Counts by key of the values at P of the candidates `found` passing the other
        conditions, and every such value; None if one of those raised (the caller
        then evaluates `where` as written, and raises where it would)."""
        counts: dict[tuple[int, Any], int] = {}
        values: list[Any] = []
        own = self.own
        try:
            for r in found if self.candidates is None else self.candidates(found):
                value = own(r.attrs, subj)
                if value is None:
                    continue
                values.append(value)
                key = (0, value) if type(value) is str else _key(value)  # `_key` of a text, inline
                if key is not None:
                    counts[key] = counts.get(key, 0) + 1
        except Exception:
            return None
        return counts, values

    def counter(self, found: Callable[[str], list[Resource]], where: Pred) -> Callable[[Any, str, Any], int]:
        """How many referrers of a target pass `where` for a subject: from the
        target's table (made the first time the target is asked for), in one call (a
        relation is asked once per subject: 40k times at 100k resources for AUTH-01b
        and AUTH-01c, the costliest rules)."""
        tables: dict[str, tuple[dict[tuple[int, Any], int], list[Any]] | None] = {}
        other, table_of = self.other, self.table

        def counted(subj: Any, addr: str, outer: Any) -> int:
            table: tuple[dict[tuple[int, Any], int], list[Any]] | None = tables.get(addr, _MISSING)
            if table is _MISSING:
                table = tables[addr] = table_of(found(addr), subj)
            if table is None:
                return sum(1 for r in found(addr) if where(r.attrs, r.address, subj))
            # `where` is evaluated with the referrers' subject as its outer subject.
            wanted = other(None, subj)
            if wanted is None:
                return 0  # a test on an absent value is false
            if type(wanted) is str:
                return table[0].get((0, wanted), 0)  # `_key` of a text, inline
            key = _key(wanted)
            if key is not None:
                # Values without a key (containers, NaN) never equal one that has one.
                return table[0].get(key, 0)
            return sum(1 for v in table[1] if json_eq(v, wanted))

        return counted


_MISSING: Any = object()


def _keyed(cond: ast.Condition) -> bool:
    return (
        isinstance(cond, ast.Compare)
        and cond.op == "eq"
        and cond.path.scope == "self"
        and bool(cond.path.parts)
        and isinstance(cond.value, ast.PathValue)
        and cond.value.path.scope in ("root", "outer")
    )


def referrers(node: ast.Referrers, env: Env) -> tuple[Leaf, Pred]:
    kind, via, count = node.kind, node.via, node.count
    rhs = value_reader(count.value, env)
    hops = via_kinds(kind, via)
    inv = env.inventory
    found_by_target: dict[str, list[Resource]] = env.memo.setdefault(("referring", kind, via), {})

    def found(target: str) -> list[Resource]:
        out = found_by_target.get(target)
        if out is None:
            out = found_by_target[target] = referring(inv, target, kind, via, hops)
        return out

    counted: Callable[[Any, str, Any], int]
    if node.where is None:
        counted = lambda subj, addr, outer: len(found(addr))  # noqa: E731 - one expression
    elif not scopes(node.where):
        # `where` reads the candidate alone: one count per target, its candidates
        # sifted by one comprehension (select.py's); a predicate that raises there
        # raises here, on the same candidate.
        counts: dict[str, int] = {}
        sift = sifter(node.where, env, f"referrers: {kind}")

        def counted(subj: Any, addr: str, outer: Any) -> int:
            n = counts.get(addr)
            if n is None:
                n = counts[addr] = len(sift(found(addr)))
            return n

    else:
        # `where` reads the subject too: tested for each one, from a table by value
        # when it allows (`_Matching`).
        where = compile_pred(node.where, env)
        matching = _Matching(node.where, env)
        if matching.usable:
            counted = matching.counter(found, where)
        else:

            def counted(subj: Any, addr: str, outer: Any) -> int:
                return sum(1 for r in found(addr) if where(r.attrs, r.address, subj))

    op = count.op
    is_constant, b = constant(count.value, env)
    if is_constant:
        test = const_test(op, b)

        def const_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
            if addr is None:
                return False, None, b
            n = counted(subj, addr, outer)
            return test(n), n, b

        return const_leaf, lambda subj, addr, outer: addr is not None and test(counted(subj, addr, outer))

    def ref_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        expected = rhs(subj, outer)
        if addr is None:
            return False, None, expected
        n = counted(subj, addr, outer)
        return compare(op, n, expected), n, expected

    return ref_leaf, lambda subj, addr, outer: ref_leaf(subj, addr, outer)[0]


def exists_kind(node: ast.ExistsKind, env: Env) -> tuple[Leaf, Pred]:
    kind, count = node.kind, node.count
    where = None if node.where is None else compile_pred(node.where, env)
    rhs = value_reader(count.value, env)
    inv = env.inventory

    def exists_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        n = sum(1 for r in inv.kind(kind) if where is None or where(r.attrs, r.address, subj))
        b = rhs(subj, outer)
        return compare(count.op, n, b), n, b

    return exists_leaf, lambda subj, addr, outer: exists_leaf(subj, addr, outer)[0]
