"""A rule's passes found over all its subjects in one generated loop.

Most rules require one leaf of the subject, or all of a few (`mfa_enabled == true`;
`status == active` and `person` exists; the person followed is active). Judged one
subject at a time (native.py's `judge`), a pass costs about 1.5 us, most of it the
calls between the engine, the judge, the leaf, its reader and its test: 0.3 s of the
300k subjects at 100k resources. Here a rule's `require` becomes one loop over its
subjects that lists each passing subject with its evidence, and hands every other
subject back: the engine judges those one by one, as before, so a failure's message,
location and evidence, and any error, come from the judge alone. The simple leaves of
the `all` at the top (or the top leaf) are written inline (the forms of
`select.inline_test`, shared with `where`); any other leaf there is called as the
judge calls it. An `any`, a `not`, or an `all` holding either has every leaf in it
called, as the judge calls them all (its evidence lists each, true or not), then its
verdict taken from their results (INC-03, BAK-11, SRV-03a...: 11.8k subjects at 100k
that were judged one by one). A pass's evidence is what the judge would give it: each
leaf's `Check` made by the same `checker` from the same values, one tuple shared by all
passes when no leaf's actual value can differ from one pass to another.

Only passes are decided here, and only where the test is exactly the leaf's verdict
(tests/test_sweep.py holds every built-in rule and generated leaves to the judge): a
subject the loop does not pass is judged in full. If anything raises, the loop's
results are dropped and the engine judges every subject itself.

The generated source is ours alone, as in select.py: names, constants, tests and
functions are values of its namespace, named by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zenpolicy.engines.compile import Env, Leaf, constant, scopes
from zenpolicy.engines.select import combined, inline_test, named, run_generated
from zenpolicy.inventory.model import Resource
from zenpolicy.model import Check
from zenpolicy.rules import ast
from zenpolicy.rules.leaves import top_leaves

Sweep = Callable[[Sequence[Resource]], tuple[list[Resource], list[Resource]]]
"""subjects -> (those that pass, every other subject), in order."""

_Loop = Callable[[Sequence[Resource]], tuple[list[Resource], list[tuple[Check, ...]], list[Resource]]]
"""The generated loop: subjects -> (those that pass, their evidence, every other one)."""

Checker = Callable[[bool, Any, Any], tuple[Check]]


def sweeper(
    require: ast.Condition,
    leaves: Sequence[tuple[Leaf, Checker]],
    env: Env,
    evidence: list[tuple[Check, ...]] | None,
) -> Sweep:
    """The loop for a rule requiring `require`, whose top-level leaves are `leaves`
    (each compiled leaf with the `checker` making its evidence, in `top_leaves`
    order). The passes' evidence is added to
    `evidence` (if given: where the judge adds it) once the loop has returned; if it
    raises, nothing is. Its code is made when it is first called (a rule with few
    subjects is not swept: see native.py)."""
    made: list[_Loop] = []

    def sweep(resources: Sequence[Resource]) -> tuple[list[Resource], list[Resource]]:
        if not made:
            made.append(_generated(require, leaves, env, evidence is not None))
        passed, shown, rest = made[0](resources)
        if evidence is not None:
            evidence.extend(shown)
        return passed, rest

    return sweep


def _generated(
    require: ast.Condition, leaves: Sequence[tuple[Leaf, Checker]], env: Env, evidence: bool
) -> _Loop:
    namespace: dict[str, Any] = {"env": env}
    tests: list[str] = []
    shown: list[str] = []
    shared: list[tuple[Check, ...]] = []  # the evidence while every leaf's is constant
    items = require.items if isinstance(require, ast.All) else (require,)
    at = 0  # the index in `leaves` of the item's first leaf (`top_leaves` order)
    for item in items:
        if isinstance(item, ast.LEAVES):
            test, made = _leaf_test(item, leaves[at], at, env, namespace)
            tests.append(test)
            if isinstance(made, tuple):
                shared.append(made)
                shown.append(named(namespace, "e", made))
            else:
                shown.append(made)
            at += 1
            continue
        # `any`, `not`, or an `all` holding either: every leaf in it called, as the
        # judge calls them all (its evidence lists them, true or not), then its verdict.
        inner = range(at, at + len(top_leaves(item)))
        verdict = _verdict(item, inner)
        calls = ", ".join(
            f"(x{i} := {named(namespace, 'l', leaves[i][0])}(a, r.address, None))" for i in inner
        )
        tests.append(f"(({calls},) and {verdict})" if calls else verdict)  # no leaf: `all: []`...
        shown += [f"{named(namespace, 'h', leaves[i][1])}(*x{i})" for i in inner]
        at = inner.stop
    if len(shared) == len(shown):
        # Every pass has the same evidence: one tuple (a report renders it once).
        whole: tuple[Check, ...] = sum(shared, ())
        shown = [named(namespace, "e", whole)]
    keep = f"\n            shown.append({' + '.join(shown)})" if evidence else ""
    # `$root` is the subject, as when the engine judges it; only set when read.
    root = "env.root = " if "root" in scopes(require) else ""
    source = (
        "def sweep(resources):\n"
        "    passed, shown, rest = [], [], []\n"
        "    for r in resources:\n"
        f"        {root}a = r.attrs\n"
        f"        if {' and '.join(tests) or 'True'}:\n"  # an empty `all` holds
        f"            passed.append(r){keep}\n"
        "        else:\n"
        "            rest.append(r)\n"
        "    return passed, shown, rest\n"
    )
    run_generated(source, "sweep", namespace)
    loop: _Loop = namespace["sweep"]
    return loop


def _leaf_test(
    leaf: ast.Condition, compiled: tuple[Leaf, Checker], i: int, env: Env, namespace: dict[str, Any]
) -> tuple[str, tuple[Check, ...] | str]:
    """A leaf of the `all` at the top (or the top itself): its test, true exactly when
    the leaf is, and its evidence when it is (a constant, or an expression)."""
    fn, check = compiled
    test = inline_test(leaf, env, namespace, f"v{i}")
    made = None if test is None else _evidence(leaf, env, check, namespace, f"v{i}")
    if test is None or made is None:
        # Any other leaf is called, as the judge calls it, and its evidence made
        # from what it returns.
        return (
            f"(x{i} := {named(namespace, 'l', fn)}(a, r.address, None))[0]",
            f"{named(namespace, 'h', check)}(*x{i})",
        )
    return test, made


def _evidence(
    leaf: ast.Condition, env: Env, check: Checker, namespace: dict[str, Any], var: str
) -> tuple[Check, ...] | str | None:
    """A passing leaf's evidence, `check(True, actual, expected)` as its judge makes
    it: made now when the actual value of every pass is known (a text or boolean
    equal to the constant, an absent value, a followed target's verdict), or the
    expression making it from `var`; None for a leaf without an inline form."""
    if isinstance(leaf, ast.Exists):
        if not leaf.expected:
            return check(True, None, False)
        return _passing(check, var, True, namespace)
    if isinstance(leaf, ast.Follow):
        return check(True, 1, 1)  # `follow` shows 1 of 1 target satisfied
    if isinstance(leaf, ast.Compare | ast.Age | ast.CronMaxGap):
        is_constant, b = constant(leaf.value, env)
        if not is_constant:
            return None
        if isinstance(leaf, ast.Compare) and leaf.op == "eq" and type(b) in (str, bool):
            return check(True, b, b)  # passes only on a value of b's type equal to it
        actual = var if isinstance(leaf, ast.Compare) else f"{var}s"  # the seconds measured
        return _passing(check, actual, b, namespace)
    return None


def _passing(check: Checker, actual: str, expected: Any, namespace: dict[str, Any]) -> str:
    """`check(True, <actual>, expected)` as an expression: an int or a text (an age in
    seconds, a text in a list: most passes' values) looks its evidence up by value,
    one dict subscript where the checker costs about five times that (168k passes'
    evidence made so at 100k resources); any other value goes to the checker."""
    made = f"{named(namespace, 'h', check)}(True, {actual}, {named(namespace, 'c', expected)})"
    known = named(namespace, "w", _Passing(check, expected))
    return f"({known}[{actual}] if type({actual}) in {named(namespace, 's', _BY_VALUE)} else {made})"


_BY_VALUE = frozenset({int, str})
"""Types whose values key a `_Passing` alone: an int never equals a text, and neither
type holds a value equal to one of another type that JSON tells apart (`True` is a
bool, `1.0` a float: they go to the checker)."""


class _Passing(dict[Any, tuple[Check]]):
    """A leaf's passing evidence by actual value (an int or a text), for one expected
    value: what `check(True, actual, expected)` gives, the same objects."""

    __slots__ = ("_check", "_expected")

    def __init__(self, check: Checker, expected: Any) -> None:
        super().__init__()
        self._check, self._expected = check, expected

    def __missing__(self, actual: Any) -> tuple[Check]:
        made = self[actual] = self._check(True, actual, self._expected)
        return made


def _verdict(cond: ast.Condition, indexes: range) -> str:
    """`cond`'s verdict from its leaves' results, `x<i>[0]` for `i` in `indexes`:
    `combined` takes the leaves in `top_leaves` order, so each takes the next."""
    results = (f"x{i}[0]" for i in indexes)
    return combined(cond, lambda _: next(results))
