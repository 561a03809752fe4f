"""A rule's `where`, applied to all the resources of its kind at once.

The engine used to call the rule's `where` predicate (engines/compile.py) for each
resource of its kind: 483k calls at 100k resources, a quarter of the evaluation, most
of it the calls themselves (a predicate, its reader, its test: about 0.8 us a
resource). Here a `where` becomes one list comprehension over the kind's resources,
its condition written inline for the common leaves (an attribute of the subject
compared with a constant, or tested for presence) and combined with `and`, `or` and
`not`; any other leaf is called as the predicate compile.py makes for it. The
resources selected are kept for the run, by kind and condition: rules with the same
`where` (ACC-05a, b and c) share them.

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
from typing import Any

from zenpolicy.engines.compile import Env, compile_pred, const_test, constant, scopes
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
    key = ("where", kind, repr(where))
    memo = env.memo
    if key in memo:  # an earlier rule's: no code to make (a compile() costs ~0.1 ms)
        known: list[Resource] = memo[key]
        return lambda resources: known
    namespace: dict[str, Any] = {}
    source = f"def select(resources):\n    return [r for r in resources for a in [r.attrs] if {_expr(where, env, namespace)}]\n"
    exec(compile(source, f"<zenpolicy where: {kind}>", "exec"), namespace)  # noqa: S102 - our source, see above
    select: Select = namespace["select"]

    def selected(resources: Sequence[Resource]) -> list[Resource]:
        found: list[Resource] | None = memo.get(key)
        if found is None:
            found = memo[key] = select(resources)
        return found

    return selected


def _name(namespace: dict[str, Any], prefix: str, value: Any) -> str:
    name = f"{prefix}{len(namespace)}"
    namespace[name] = value
    return name


def _expr(cond: ast.Condition, env: Env, namespace: dict[str, Any]) -> str:
    """`cond` as a Python expression of `a` (the attributes) and `r` (the resource)."""
    if isinstance(cond, ast.All | ast.Any_):
        joiner = " and " if isinstance(cond, ast.All) else " or "
        return "(" + joiner.join(_expr(item, env, namespace) for item in cond.items) + ")"
    if isinstance(cond, ast.Not):
        return f"(not {_expr(cond.item, env, namespace)})"
    path = getattr(cond, "path", None)
    if isinstance(path, ast.Path) and path.scope == "self" and len(path.parts) == 1:
        if isinstance(cond, ast.Exists):
            read = f"a.get({_name(namespace, 'k', path.parts[0])})"
            return f"({read} is {'not ' if cond.expected else ''}None)"
        if isinstance(cond, ast.Compare):
            is_constant, b = constant(cond.value, env)
            if is_constant:
                read = f"a.get({_name(namespace, 'k', path.parts[0])})"
                if cond.op == "eq" and type(b) is str:
                    return f"(type(v := {read}) is str and v == {_name(namespace, 'c', b)})"
                if cond.op == "eq" and type(b) is bool:
                    return f"({read} is {_name(namespace, 'c', b)})"
                return f"{_name(namespace, 't', const_test(cond.op, b))}({read})"
    return f"{_name(namespace, 'p', compile_pred(cond, env))}(a, r.address, None)"
