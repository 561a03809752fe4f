"""A rule's passes found over all its subjects in one generated loop.

Most rules require one leaf of the subject, or all of a few (`mfa_enabled == true`;
`status == active` and `person` exists; the person followed is active). Judged one
subject at a time (native.py's `judge`), a pass costs about 1.5 us, most of it the
calls between the engine, the judge, the leaf, its reader and its test: 0.3 s of the
300k subjects at 100k resources. Here a rule whose `require` is a leaf, or `all` of
leaves, becomes one loop over its subjects that lists each passing subject with
its evidence, and hands every other subject back: the engine judges those one
by one, as before, so a failure's message, location and evidence, and any error, come
from the judge alone. The simple leaves are written inline (the forms of
`select.inline_test`, shared with `where`); any other leaf is called as the judge
calls it. A pass's evidence is what the judge would give it: each leaf's `Check` made
by the same `checker` from the same values, one tuple shared by all passes when no
leaf's actual value can differ from one pass to another.

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

from zenpolicy.engines.compile import Env, Leaf, constant
from zenpolicy.engines.select import inline_test, named, run_generated
from zenpolicy.inventory.model import Resource
from zenpolicy.model import Check
from zenpolicy.rules import ast

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
) -> Sweep | None:
    """The loop for a rule requiring `require` (a leaf, or `all` of leaves), whose
    top-level leaves are `leaves` (each compiled leaf with the `checker` making its
    evidence); None for any other `require`. The passes' evidence is added to
    `evidence` (if given: where the judge adds it) once the loop has returned; if it
    raises, nothing is. Its code is made when it is first called (a rule with few
    subjects is not swept: see native.py)."""
    items = require.items if isinstance(require, ast.All) else (require,)
    if len(items) != len(leaves) or not all(isinstance(item, ast.LEAVES) for item in items):
        return None
    made: list[_Loop] = []

    def sweep(resources: Sequence[Resource]) -> tuple[list[Resource], list[Resource]]:
        if not made:
            made.append(_generated(items, leaves, env, evidence is not None))
        passed, shown, rest = made[0](resources)
        if evidence is not None:
            evidence.extend(shown)
        return passed, rest

    return sweep


def _generated(
    items: Sequence[ast.Condition], leaves: Sequence[tuple[Leaf, Checker]], env: Env, evidence: bool
) -> _Loop:
    namespace: dict[str, Any] = {"env": env}
    tests: list[str] = []
    shown: list[str] = []
    shared: list[tuple[Check, ...]] = []  # the evidence while every leaf's is constant
    for i, (item, (leaf, check)) in enumerate(zip(items, leaves, strict=True)):
        test = inline_test(item, env, namespace, f"v{i}")
        made = None if test is None else _evidence(item, env, check, namespace, f"v{i}")
        if test is None or made is None:
            # Any other leaf is called, as the judge calls it, and its evidence made
            # from what it returns.
            test = f"(x{i} := {named(namespace, 'l', leaf)}(a, r.address, None))[0]"
            made = f"{named(namespace, 'h', check)}(*x{i})"
        tests.append(test)
        if isinstance(made, tuple):
            shared.append(made)
            shown.append(named(namespace, "e", made))
        else:
            shown.append(made)
    if len(shared) == len(items):
        # Every pass has the same evidence: one tuple (a report renders it once).
        whole: tuple[Check, ...] = sum(shared, ())
        shown = [named(namespace, "e", whole)]
    keep = f"\n            shown.append({' + '.join(shown)})" if evidence else ""
    source = (
        "def sweep(resources):\n"
        "    passed, shown, rest = [], [], []\n"
        "    for r in resources:\n"
        # `$root` is the subject, as when the engine judges it.
        "        env.root = a = r.attrs\n"
        f"        if {' and '.join(tests)}:\n"
        f"            passed.append(r){keep}\n"
        "        else:\n"
        "            rest.append(r)\n"
        "    return passed, shown, rest\n"
    )
    run_generated(source, "sweep", namespace)
    loop: _Loop = namespace["sweep"]
    return loop


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
        return f"{named(namespace, 'h', check)}(True, {var}, True)"
    if isinstance(leaf, ast.Follow):
        return check(True, 1, 1)  # `follow` shows 1 of 1 target satisfied
    if isinstance(leaf, ast.Compare | ast.Age | ast.CronMaxGap):
        is_constant, b = constant(leaf.value, env)
        if not is_constant:
            return None
        if isinstance(leaf, ast.Compare) and leaf.op == "eq" and type(b) in (str, bool):
            return check(True, b, b)  # passes only on a value of b's type equal to it
        actual = var if isinstance(leaf, ast.Compare) else f"{var}s"  # the seconds measured
        return f"{named(namespace, 'h', check)}(True, {actual}, {named(namespace, 'c', b)})"
    return None
