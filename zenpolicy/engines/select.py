"""A rule's `where`, applied to all the resources of its kind at once.

The engine used to call the rule's `where` predicate (engines/compile.py) for each
resource of its kind: 483k calls at 100k resources, a quarter of the evaluation, most
of it the calls themselves (a predicate, its reader, its test: about 0.8 us a
resource). Here a `where` becomes one list comprehension over the kind's resources,
its condition written inline for the common leaves (`inline_test`: an attribute of the
subject compared with a constant or tested for presence, an age or cron gap, a
`follow`) and combined with `and`, `or` and `not`; any other leaf is called as the
predicate compile.py makes for it. The resources selected are kept for the run, by
kind and condition: rules with the same `where` (ACC-05a, b and c) share them, and an
`all` of several items narrows the selection of its first items, so that rules whose
`where` starts alike share that too. `sifter` (the comprehension alone) also counts a
relation's candidates, and engines/sweep.py writes a rule's `require` with the same
inline forms.

The generated source is ours alone: no text from a rule or an inventory enters it.
Attribute names, constants, tests and predicates are values of the namespace the code
runs in, named `k0`, `c0`, `t0`, `p0`... by position, and the only other words are
Python's. Each inline form is the specialisation `const_test` or `compile_pred` makes
for the same leaf, so a resource is selected exactly when the rule's predicate is true
(tests/test_select.py holds them equal on every built-in rule and on generated
conditions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import CodeType
from typing import Any

from zenpolicy.engines.compile import (
    Env,
    cannot_raise,
    compile_pred,
    const_test,
    constant,
    measurer,
    scopes,
    verdicts,
)
from zenpolicy.inventory.model import Resource
from zenpolicy.rules import ast

Select = Callable[[Sequence[Resource]], list[Resource]]


def selector(where: ast.Condition, kind: str, env: Env) -> Select | None:
    """The resources of `kind` for which `where` holds, in their order, or None when the
    condition reads `$root` or `$outer` (the engine then tests it resource by
    resource). The function raises whatever a predicate raises: the engine then
    tests resource by resource, and reports each resource that fails."""
    if scopes(where):
        return None
    # Keyed by the condition's repr, not the condition: `Literal(0) == Literal(False)`
    # in Python, and a JSON 0 is no false (nor 1.0 a 1, in the repr).
    key = ("where", kind, _memo_key(where))
    memo = env.memo
    if key in memo:  # an earlier rule's: no code to make (a compile() costs ~0.1 ms)
        known: list[Resource] = memo[key]
        return lambda resources: known
    last, narrowed = where, None
    if isinstance(where, ast.All) and len(where.items) >= 2:
        # The resources the first items select (kept for the run: rules whose `where`
        # starts alike share them; 9 of the 13 on accounts start with `status ==
        # active`), then those the last one does: the same tests, on the same
        # resources, in the same order as `a and b and c`.
        *head, last = where.items
        narrowed = selector(head[0] if len(head) == 1 else ast.All(items=tuple(head)), kind, env)
    select = sifter(last, env, f"where: {kind}")

    def selected(resources: Sequence[Resource]) -> list[Resource]:
        found: list[Resource] | None = memo.get(key)
        if found is None:
            found = memo[key] = select(resources if narrowed is None else narrowed(resources))
        return found

    return selected


def _memo_key(where: ast.Condition) -> str | frozenset[str]:
    """What a selection is kept under: the condition's repr, or, for tests that cannot
    raise (an attribute present or absent, equal to a text or a boolean) and `all` of
    such tests, the set of their reprs. Those select the same resources, in the kind's
    order, whatever the order they are written in: AUTH-01c's `type, status, person`
    is ACC-02a's `status, type, person`, and its first two are ACC-02b's. A `where`
    holding a test that may raise keeps its order in the key: `all: [x, y]` may select
    where `all: [y, x]` raises, on a resource `x` leaves out before `y` sees it."""
    items = where.items if isinstance(where, ast.All) else (where,)
    if all(cannot_raise(item) for item in items):
        return frozenset(map(repr, items))
    return repr(where)


def sifter(cond: ast.Condition, env: Env, label: str) -> Select:
    """The resources of a list for which `cond`, a condition reading neither `$root`
    nor `$outer`, holds, in their order: one generated comprehension (`label` names
    its code in tracebacks and profiles). It raises whatever a predicate raises."""
    namespace: dict[str, Any] = {}
    source = f"def sift(resources):\n    return [r for r in resources for a in [r.attrs] if {_expr(cond, env, namespace)}]\n"
    run_generated(source, label, namespace)
    sift: Select = namespace["sift"]
    return sift


_CODE: dict[tuple[str, str], CodeType] = {}
"""Generated code by source and label. The source holds only positional names, so rules
of the same shape (every `{path: P, eq: <text>}`, whatever P and the text) share one
text: compiled once per process (about 0.15 ms each; on the example estate the 150
loops and selections of a run cost 0.02 s to compile, more than they saved). It holds
one entry per shape of the rules a process has evaluated: 53 for the catalogue."""


def run_generated(source: str, label: str, namespace: dict[str, Any]) -> None:
    """Run generated `source` (ours alone: see the module's docstring) in `namespace`,
    compiled the first time this text is seen; `label` names it in tracebacks and
    profiles."""
    code = _CODE.get((source, label))
    if code is None:
        code = _CODE[(source, label)] = compile(source, f"<zenpolicy {label}>", "exec")
    exec(code, namespace)  # noqa: S102 - our source, see above


def named(namespace: dict[str, Any], prefix: str, value: Any) -> str:
    """A new name for `value` in the generated code's namespace (`prefix` and a number)."""
    name = f"{prefix}{len(namespace)}"
    namespace[name] = value
    return name


def combined(cond: ast.Condition, leaf: Callable[[ast.Condition], str]) -> str:
    """`cond` as a Python expression: `all`, `any` and `not` as `and`, `or` and `not`
    (an empty `all` true, an empty `any` false: `()` would be false), each leaf as
    `leaf` writes it, in `top_leaves` order."""
    if isinstance(cond, ast.All | ast.Any_):
        if not cond.items:
            return "True" if isinstance(cond, ast.All) else "False"
        joiner = " and " if isinstance(cond, ast.All) else " or "
        return "(" + joiner.join(combined(item, leaf) for item in cond.items) + ")"
    if isinstance(cond, ast.Not):
        return f"(not {combined(cond.item, leaf)})"
    return leaf(cond)


def _expr(cond: ast.Condition, env: Env, namespace: dict[str, Any]) -> str:
    """`cond` as a Python expression of `a` (the attributes) and `r` (the resource)."""

    def leaf(node: ast.Condition) -> str:
        inline = inline_test(node, env, namespace, "v")
        if inline is not None:
            return inline
        return f"{named(namespace, 'p', compile_pred(node, env))}(a, r.address, None)"

    return combined(cond, leaf)


def inline_test(cond: ast.Condition, env: Env, namespace: dict[str, Any], var: str) -> str | None:
    """A leaf reading one attribute of the subject (`a`, a dict) as an inline Python
    expression that also assigns the attribute's value to `var`, exactly as true as the
    leaf's predicate; None for any other leaf. The forms: presence, a comparison with a
    constant (`const_test`'s own specialisations for a text or a boolean written out),
    an age or cron gap with a constant, and a `follow` (its verdict kept by target,
    compile.py's `verdicts`, when it depends on the target alone)."""
    path = getattr(cond, "path", None)
    if not (isinstance(path, ast.Path) and path.scope == "self" and len(path.parts) == 1):
        return None
    read = f"({var} := a.get({named(namespace, 'k', path.parts[0])}))"
    if isinstance(cond, ast.Exists):
        return f"({read} is {'not ' if cond.expected else ''}None)"
    if isinstance(cond, ast.Compare):
        is_constant, b = constant(cond.value, env)
        if not is_constant:
            return None
        if cond.op == "eq" and type(b) is str:
            return f"(type{read} is str and {var} == {named(namespace, 'c', b)})"
        if cond.op == "eq" and type(b) is bool:
            return f"({read} is {named(namespace, 'c', b)})"
        return f"{named(namespace, 't', const_test(cond.op, b))}{read}"
    if isinstance(cond, ast.Follow):
        # A target that is no text, or names no resource, is false.
        if not scopes(cond.satisfy):
            known, verdict = verdicts(cond, env)
            d, f = named(namespace, "d", known), named(namespace, "f", verdict)
            return f"(type{read} is str and ({d}[{var}] if {var} in {d} else {f}({var}, a)))"
        # A condition reading the subject (`$outer`, `$root`): tested for each one.
        resolve = named(namespace, "g", env.inventory.by_address.get)
        satisfy = named(namespace, "p", compile_pred(cond.satisfy, env))
        target = f"{var}t"
        return (
            f"(type{read} is str and ({target} := {resolve}({var})) is not None"
            f" and {satisfy}({target}.attrs, {target}.address, a))"
        )
    if isinstance(cond, ast.Age | ast.CronMaxGap):
        is_constant, b = constant(cond.value, env)
        if not is_constant:
            return None
        measure = named(namespace, "m", measurer(cond, env))
        return f"{named(namespace, 't', const_test(cond.op, b))}({var}s := {measure}{read})"
    return None
