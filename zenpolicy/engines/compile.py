"""Compile the condition AST to Python closures (the native engine's predicates).

Semantics are docs/rules.md's: a test on an absent or null value is false, values are
compared as JSON values without coercion, ages and durations in whole seconds.

Every leaf compiles to a function returning `(result, actual, expected)` so that one
piece of code gives both the verdict and the evidence; nested conditions compile to
predicates that give the verdict alone.

Rules are compiled for one run (`Env`): parameters, the evaluation date and the
inventory are constants then, so a comparison with a literal or a parameter is
specialised on its operator and on the type of its right-hand side (`const_test`),
and relations cache what they find (engines/relations.py). Each specialisation is the
general `compare` written for one case; tests/test_engine.py holds them equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zenpolicy.inventory.model import Inventory
from zenpolicy.rules import ast
from zenpolicy.rules.regex import RegexError, finds, regex
from zenpolicy.rules.schedule import cron_max_gap
from zenpolicy.rules.timeutil import AsOf, age_seconds, instant, until_seconds


@dataclass(slots=True, kw_only=True)
class Env:
    """What predicates may read besides their subject, for one run."""

    inventory: Inventory
    as_of: AsOf
    params: Mapping[str, Any]
    root: Any = None
    """The attributes of the resource the rule is evaluating (`$root`): set by the
    engine before each resource, read by the predicates that use `$root`."""
    memo: dict[Any, Any] = field(default_factory=dict)
    """Caches shared by the rules of this run (what relations find, by target)."""


# subject value, subject address (None for list items), outer subject
Pred = Callable[[Any, str | None, Any], bool]
Leaf = Callable[[Any, str | None, Any], tuple[bool, Any, Any]]
Read = Callable[[Any, Any], Any]
"""A path's value, from the subject and the outer subject."""


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


def reader(path: ast.Path, env: Env) -> Read:
    """`get_path` from the subject, the outer subject or `$root`, with a shortcut for
    the most common reads of all: one attribute of a dict."""
    parts = path.parts
    if path.scope == "self":
        if len(parts) == 1:
            (part,) = parts
            return lambda subj, outer: subj.get(part) if type(subj) is dict else get_path(subj, parts)
        if not parts:
            return lambda subj, outer: subj
        return lambda subj, outer: get_path(subj, parts)
    if len(parts) == 1:
        # One attribute of the outer subject or of `$root` (`{path: $root.system}`:
        # read once per subject by AUTH-01b and AUTH-01c, 42k times at 100k).
        (part,) = parts
        if path.scope == "outer":
            return lambda subj, outer: outer.get(part) if type(outer) is dict else get_path(outer, parts)
        return lambda subj, outer: root.get(part) if type(root := env.root) is dict else get_path(root, parts)
    if path.scope == "outer":
        return lambda subj, outer: get_path(outer, parts)
    return lambda subj, outer: get_path(env.root, parts)


def constant(value: ast.Value, env: Env) -> tuple[bool, Any]:
    """(True, the value) for a literal or a parameter: constant for the run."""
    if isinstance(value, ast.Literal):
        return True, value.value
    if isinstance(value, ast.Param):
        return True, value.convert(env.params.get(value.name))
    return False, None


def value_reader(value: ast.Value, env: Env) -> Read:
    is_constant, constant_value = constant(value, env)
    if is_constant:
        return lambda subj, outer: constant_value
    assert isinstance(value, ast.PathValue)
    return reader(value.path, env)


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


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


def const_test(op: str, b: Any) -> Callable[[Any], bool]:
    """`lambda a: compare(op, a, b)` for a constant `b`, specialised.

    A JSON string or boolean equals only a value of exactly its type (`json_eq`), so
    those cases reduce to a type check and `==` or identity; lists of strings become
    sets. Anything else takes `compare` itself.
    """
    if b is None:
        return lambda a: False
    tb = type(b)
    if op in ("eq", "ne"):
        if tb is str:
            if op == "eq":
                return lambda a: type(a) is str and a == b
            return lambda a: a is not None and not (type(a) is str and a == b)
        if tb is bool:
            if op == "eq":
                return lambda a: a is b
            return lambda a: a is not None and a is not b
        if tb is int and op == "eq":
            # A count compared with a number (`count: {eq: 1}`): an int is the case.
            return lambda a: a == b if type(a) is int else json_eq(a, b)
    elif op in _ORDER:
        order = _ORDER[op]
        if _is_number(b):
            return lambda a: (type(a) is int or type(a) is float or _is_number(a)) and order(a, b)
        if isinstance(b, str):
            return lambda a: isinstance(a, str) and order(a, b)
        return lambda a: False
    elif op in ("in", "not_in"):
        if not isinstance(b, list):
            return lambda a: False
        if all(type(x) is str for x in b):
            members = frozenset(b)
            if op == "in":
                return lambda a: type(a) is str and a in members
            return lambda a: a is not None and not (type(a) is str and a in members)
    elif op == "contains":
        if tb is str:
            return lambda a: isinstance(a, list) and b in a and any(type(x) is str and x == b for x in a)
        if tb is bool:
            return lambda a: isinstance(a, list) and any(x is b for x in a)
    elif op == "matches" and tb is str:
        try:
            pattern = regex(b)
        except RegexError:
            pass  # `compare` raises it for each string tested, as it should
        else:
            found: dict[str, bool] = {}  # RE2 (`finds`) once per text
            search = finds(pattern)

            def matches(a: Any) -> bool:
                if type(a) is not str:
                    return isinstance(a, str) and pattern.search(a) is not None
                hit = found.get(a)
                if hit is None:
                    hit = found[a] = search(a)
                return hit

            return matches
    return lambda a: compare(op, a, b)


def _comparison(path: ast.Path, op: str, value: ast.Value, env: Env) -> tuple[Leaf, Pred]:
    read = reader(path, env)
    is_constant, b = constant(value, env)
    if not is_constant:
        rhs = value_reader(value, env)

        def cmp_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
            a, b = read(subj, outer), rhs(subj, outer)
            return compare(op, a, b), a, b

        return cmp_leaf, lambda subj, addr, outer: cmp_leaf(subj, addr, outer)[0]
    test = const_test(op, b)

    def const_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        a = read(subj, outer)
        return test(a), a, b

    if path.scope == "self" and len(path.parts) == 1:
        # The most common test of all: one attribute of the subject, inlined.
        (part,) = path.parts
        parts = path.parts
        if op == "eq" and type(b) is str:

            def pred(subj: Any, addr: str | None, outer: Any) -> bool:
                a = subj.get(part) if type(subj) is dict else get_path(subj, parts)
                return type(a) is str and a == b

            return const_leaf, pred
        if op == "eq" and type(b) is bool:
            return (
                const_leaf,
                lambda subj, addr, outer: (
                    (subj.get(part) if type(subj) is dict else get_path(subj, parts)) is b
                ),
            )
        return const_leaf, lambda subj, addr, outer: test(
            subj.get(part) if type(subj) is dict else get_path(subj, parts)
        )
    return const_leaf, lambda subj, addr, outer: test(read(subj, outer))


def _measured(node: ast.Age | ast.CronMaxGap, env: Env) -> tuple[Leaf, Pred]:
    """An age, a time until, or a cron gap: seconds computed once per distinct text."""
    read, op = reader(node.path, env), node.op
    is_constant, b = constant(node.value, env)
    test, rhs = const_test(op, b), value_reader(node.value, env)
    seconds_of = measurer(node, env)

    def time_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        a = seconds_of(read(subj, outer))
        if is_constant:
            return test(a), a, b
        other = rhs(subj, outer)
        return compare(op, a, other), a, other

    return time_leaf, lambda subj, addr, outer: time_leaf(subj, addr, outer)[0]


def measurer(node: ast.Age | ast.CronMaxGap, env: Env) -> Callable[[Any], int | None]:
    """The seconds `node` measures in a value (an age, a time until, a cron gap; None
    for a value that has none), each distinct text measured once per run."""
    as_of = env.as_of
    if isinstance(node, ast.CronMaxGap):
        measure: Callable[[str], int | None] = cron_max_gap
    elif node.until:
        measure = lambda text: until_seconds(text, as_of)  # noqa: E731 - a one-line adapter
    else:
        measure = lambda text: age_seconds(text, as_of)  # noqa: E731
    kind = "gap" if isinstance(node, ast.CronMaxGap) else "until" if node.until else "age"
    seconds: dict[str, int | None] = env.memo.setdefault(("seconds", kind), {})

    def seconds_of(value: Any) -> int | None:
        if type(value) is str:
            a: int | None = seconds.get(value, _UNKNOWN)
            if a is _UNKNOWN:
                a = seconds[value] = measure(value)
            return a
        if isinstance(value, str):
            return measure(value)
        return None  # what age_seconds, until_seconds and cron gaps give for a non-text

    return seconds_of


_UNKNOWN: Any = object()


def _duration(node: ast.Duration, env: Env) -> tuple[Leaf, Pred]:
    """`duration_seconds(start, end)`, with each text's instant parsed once per run."""
    start, end, op = reader(node.start, env), reader(node.end, env), node.op
    is_constant, b = constant(node.value, env)
    test, rhs = const_test(op, b), value_reader(node.value, env)
    instants: dict[str, dt.datetime | None] = env.memo.setdefault("instants", {})

    def moment(value: Any) -> dt.datetime | None:
        if type(value) is not str:
            return instant(value)
        if value not in instants:
            instants[value] = instant(value)
        return instants[value]

    def dur_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        first, last = moment(start(subj, outer)), moment(end(subj, outer))
        a = None if first is None or last is None else (last - first) // _SECOND  # as duration_seconds
        if is_constant:
            return test(a), a, b
        other = rhs(subj, outer)
        return compare(op, a, other), a, other

    return dur_leaf, lambda subj, addr, outer: dur_leaf(subj, addr, outer)[0]


_SECOND = dt.timedelta(seconds=1)


def _quantifier(node: ast.Every | ast.Some, env: Env) -> tuple[Leaf, Pred]:
    read, inner, every = reader(node.path, env), compile_pred(node.satisfy, env), isinstance(node, ast.Every)

    def quant_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        items = read(subj, outer)
        if not isinstance(items, list):
            return False, None, (None if every else 1)
        # Every item is tested, without short-circuit: the count is the evidence.
        n = 0
        for item in items:
            if inner(item, None, subj):
                n += 1
        return (n == len(items), n, len(items)) if every else (n >= 1, n, 1)

    return quant_leaf, lambda subj, addr, outer: quant_leaf(subj, addr, outer)[0]


def _follow(node: ast.Follow, env: Env) -> tuple[Leaf, Pred]:
    read, inner = reader(node.path, env), compile_pred(node.satisfy, env)
    resolve = env.inventory.by_address.get

    def follow_pred(subj: Any, addr: str | None, outer: Any) -> bool:
        target_addr = read(subj, outer)
        target = resolve(target_addr) if isinstance(target_addr, str) else None
        return target is not None and inner(target.attrs, target.address, subj)

    if not scopes(node.satisfy):
        # The verdict depends on the target alone (not on `$root`, nor on this
        # subject as `$outer`): once per target. Many subjects share one (a role, a
        # person, an administrator's account).
        known, verdict = verdicts(node, env)

        def once_per_target(subj: Any, addr: str | None, outer: Any) -> bool:
            target_addr = read(subj, outer)
            if type(target_addr) is not str:
                return follow_pred(subj, addr, outer)
            ok = known.get(target_addr)
            return verdict(target_addr, subj) if ok is None else ok

        pred = once_per_target
    else:
        pred = follow_pred

    def follow_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        ok = pred(subj, addr, outer)
        return ok, int(ok), 1

    return follow_leaf, pred


def verdicts(node: ast.Follow, env: Env) -> tuple[dict[str, bool], Callable[[str, Any], bool]]:
    """For a `follow` whose `satisfy` reads its target alone: the verdicts known, by
    target address, and the function that gives (and keeps) one. The verdicts are kept
    for the run, so every rule (and `where`) following the same way shares them; keyed
    by the node's repr, which tells `Literal(1)` from `Literal(True)`."""
    key = repr(node)
    known: dict[str, bool] = env.memo.setdefault(("verdicts", key), {})
    inner = compile_pred(node.satisfy, env)
    inv = env.inventory
    resolve = inv.by_address.get
    if cannot_raise(node.satisfy):
        # Made for the target's whole kind when its first target is asked for, in the
        # kind's order, not target by target as subjects ask (a lookup by address,
        # then the target's attributes, wherever they lie: 39k verdicts at 100k
        # resources, 0.02-0.04 s less this way). Only for a test that cannot raise:
        # one that could would raise on a target no subject names.
        filled: set[str] = env.memo.setdefault(("verdicts made", key), set())

        def of_kind(target_addr: str, subj: Any) -> bool:
            target = resolve(target_addr)
            if target is None:
                known[target_addr] = False
                return False
            kind = target.kind
            if kind not in filled:
                filled.add(kind)
                known.update({r.address: inner(r.attrs, r.address, None) for r in inv.kind(kind)})
            ok = known.get(target_addr)
            if ok is None:  # not listed with its kind (an inventory built by hand)
                ok = known[target_addr] = inner(target.attrs, target.address, subj)
            return ok

        return known, of_kind

    def verdict(target_addr: str, subj: Any) -> bool:
        target = resolve(target_addr)
        ok = known[target_addr] = target is not None and inner(target.attrs, target.address, subj)
        return ok

    return known, verdict


def cannot_raise(cond: ast.Condition) -> bool:
    """Whether `cond` is a test that cannot raise, whatever the resource: one attribute
    of the subject present or absent, or equal to a text or a boolean, or `all` of
    such tests (what `select.inline_test` writes as `a.get(k) is None`, `type(v) is
    str and v == c`, `v is c`)."""
    if isinstance(cond, ast.All):
        return all(cannot_raise(item) for item in cond.items)
    path = getattr(cond, "path", None)
    if not (isinstance(path, ast.Path) and path.scope == "self" and len(path.parts) == 1):
        return False
    if isinstance(cond, ast.Exists):
        return True
    return (
        isinstance(cond, ast.Compare)
        and cond.op == "eq"
        and isinstance(cond.value, ast.Literal)
        and type(cond.value.value) in (str, bool)
    )


def _exists(node: ast.Exists, env: Env) -> tuple[Leaf, Pred]:
    read, expected = reader(node.path, env), node.expected

    def exists_leaf(subj: Any, addr: str | None, outer: Any) -> tuple[bool, Any, Any]:
        v = read(subj, outer)
        return (v is not None) == expected, v, expected

    if expected:
        return exists_leaf, lambda subj, addr, outer: read(subj, outer) is not None
    return exists_leaf, lambda subj, addr, outer: read(subj, outer) is None


def compile_node(node: ast.Condition, env: Env) -> tuple[Leaf, Pred]:
    """A leaf as a function giving (result, actual, expected), and as a predicate."""
    from zenpolicy.engines import relations  # it builds on this module

    if isinstance(node, ast.Compare):
        return _comparison(node.path, node.op, node.value, env)
    if isinstance(node, ast.Exists):
        return _exists(node, env)
    if isinstance(node, ast.Age | ast.CronMaxGap):
        return _measured(node, env)
    if isinstance(node, ast.Duration):
        return _duration(node, env)
    if isinstance(node, ast.Every | ast.Some):
        return _quantifier(node, env)
    if isinstance(node, ast.Follow):
        return _follow(node, env)
    if isinstance(node, ast.Referrers):
        return relations.referrers(node, env)
    if isinstance(node, ast.ExistsKind):
        return relations.exists_kind(node, env)
    raise TypeError(f"not a leaf: {node!r}")


def compile_leaf(node: ast.Condition, env: Env) -> Leaf:
    return compile_node(node, env)[0]


def compile_pred(node: ast.Condition, env: Env) -> Pred:
    """A condition as a boolean function (short-circuiting)."""
    if isinstance(node, ast.All | ast.Any_):
        items = [compile_pred(c, env) for c in node.items]
        if len(items) == 1:
            return items[0]  # all([x]) and any([x]) are x for a boolean x
        if isinstance(node, ast.All):
            if len(items) == 2:
                first, second = items
                return lambda s, a, o: first(s, a, o) and second(s, a, o)

            def all_pred(s: Any, a: str | None, o: Any) -> bool:
                for p in items:  # noqa: SIM110 - all() over a generator costs one per call
                    if not p(s, a, o):
                        return False
                return True

            return all_pred
        if len(items) == 2:
            first, second = items
            return lambda s, a, o: first(s, a, o) or second(s, a, o)

        def any_pred(s: Any, a: str | None, o: Any) -> bool:
            for p in items:  # noqa: SIM110 - any() over a generator costs one per call
                if p(s, a, o):
                    return True
            return False

        return any_pred
    if isinstance(node, ast.Not):
        inner = compile_pred(node.item, env)
        return lambda s, a, o: not inner(s, a, o)
    return compile_node(node, env)[1]


def scopes(cond: ast.Condition | None, nested: bool = False) -> set[str]:
    """Which of `root` and `outer` a condition reads besides its subject: `$root`
    anywhere, `$outer` only where it is this condition's outer subject (inside a
    quantifier, `follow` or relation, `$outer` is the subject of that one)."""
    out: set[str] = set()
    if cond is None:
        return out
    paths: list[ast.Path] = []
    for name in ("path", "start", "end"):
        path = getattr(cond, name, None)
        if isinstance(path, ast.Path):
            paths.append(path)
    value = getattr(cond, "value", None)
    count = getattr(cond, "count", None)
    for v in (value, count.value if isinstance(count, ast.Count) else None):
        if isinstance(v, ast.PathValue):
            paths.append(v.path)
    for path in paths:
        if path.scope == "root" or (path.scope == "outer" and not nested):
            out.add(path.scope)
    if isinstance(cond, ast.All | ast.Any_):
        for c in cond.items:
            out |= scopes(c, nested)
    elif isinstance(cond, ast.Not):
        out |= scopes(cond.item, nested)
    elif isinstance(cond, ast.Every | ast.Some | ast.Follow):
        out |= scopes(cond.satisfy, True)
    elif isinstance(cond, ast.Referrers | ast.ExistsKind):
        out |= scopes(cond.where, True)
    return out
