"""A rule's passes found over all its subjects in one generated loop.

Most rules require one simple leaf of the subject, or all of a few (`mfa_enabled ==
true`; `status == active` and `person` exists; the person followed is active). Judged
one subject at a time (native.py's `judge`), a pass costs about 1.5 us, most of it the
calls between the engine, the judge, the leaf, its reader and its test: 0.3 s of the
300k subjects at 100k resources. Here such a rule's leaves are written inline into one
loop over its subjects (the forms of `select.inline_test`, shared with `where`), which
appends each passing subject's address and evidence, and hands every other subject
back: the engine judges those one by one, as before, so a failure's message, location
and evidence, and any error, come from the judge alone. A pass's evidence is what the
judge would give it: each leaf's `Check` made by the same `checker`, one tuple shared
by all passes when no leaf's actual value can differ from one pass to another.

Only the passes are decided here, and only where the inline test is exactly the
leaf's verdict (tests/test_sweep.py holds every built-in rule and generated leaves to
the judge): a subject the loop does not pass is judged in full. If anything raises,
the loop's results are dropped and the engine judges every subject itself.

The generated source is ours alone, as in select.py: names, constants, tests and
functions are values of its namespace, named by position.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from zenpolicy.engines.compile import Env, constant
from zenpolicy.engines.select import inline_test, named
from zenpolicy.inventory.model import Resource
from zenpolicy.model import Check
from zenpolicy.rules import ast

Sweep = Callable[[Sequence[Resource]], tuple[list[str], list[tuple[Check, ...]], list[Resource]]]
"""subjects -> (the passes' addresses, their evidence, every other subject), in order."""

Checker = Callable[[bool, Any, Any], tuple[Check]]


def sweeper(require: ast.Condition, checkers: Sequence[Checker], env: Env, *, evidence: bool) -> Sweep | None:
    """The loop for a rule requiring `require` (a leaf, or `all` of leaves), whose
    top-level leaves make their evidence with `checkers`; None unless every leaf has an
    inline form. Without `evidence`, the second list stays empty."""
    leaves = require.items if isinstance(require, ast.All) else (require,)
    if len(leaves) != len(checkers) or not leaves:
        return None
    namespace: dict[str, Any] = {}
    tests: list[str] = []
    shown: list[str] = []
    shared: list[tuple[Check, ...]] = []  # the evidence while every leaf's is constant
    for i, (leaf, check) in enumerate(zip(leaves, checkers, strict=True)):
        test = inline_test(leaf, env, namespace, f"v{i}")
        made = _evidence(leaf, env, check, namespace, f"v{i}")
        if test is None or made is None:
            return None
        tests.append(test)
        if isinstance(made, tuple):
            shared.append(made)
            shown.append(named(namespace, "e", made))
        else:
            shown.append(made)
    if len(shared) == len(leaves):
        # Every pass has the same evidence: one tuple (a report renders it once).
        whole: tuple[Check, ...] = sum(shared, ())
        shown = [named(namespace, "e", whole)]
    keep = f"\n            shown.append({' + '.join(shown)})" if evidence else ""
    source = (
        "def sweep(resources):\n"
        "    passed, shown, rest = [], [], []\n"
        "    for r in resources:\n"
        "        a = r.attrs\n"
        f"        if {' and '.join(tests)}:\n"
        f"            passed.append(r.address){keep}\n"
        "        else:\n"
        "            rest.append(r)\n"
        "    return passed, shown, rest\n"
    )
    exec(compile(source, "<zenpolicy sweep>", "exec"), namespace)  # noqa: S102 - our source, see above
    sweep: Sweep = namespace["sweep"]
    return sweep


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
