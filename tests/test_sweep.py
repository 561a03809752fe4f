"""A rule's passes found in one generated loop (engines/sweep.py): for every subject,
what the rule's judge alone finds: the same findings, the same passes in the same
order, the same evidence (values and their types)."""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from engine_helpers import (
    condition_trees,
    estate_with_catalogue,
    generated_estate,
    inventory_from_yaml,
    make_rule,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import JSON_VALUES, _estate

from zenpolicy.api import CheckOptions
from zenpolicy.check import run_rendered
from zenpolicy.engines import native, select
from zenpolicy.engines.compile import Env
from zenpolicy.engines.sweep import sweeper
from zenpolicy.formats import RenderOptions
from zenpolicy.inventory.model import Inventory, new_resource
from zenpolicy.model import Check, Finding, Location, Status
from zenpolicy.rules import ast
from zenpolicy.rules.model import Rule
from zenpolicy.rules.timeutil import parse_as_of

REPO = Path(__file__).resolve().parent.parent
AS_OF = parse_as_of("2026-11-26")
HERE = Location(path="inv.yaml", line=1, column=1)


def _typed(value: Any) -> Any:
    """A value with the types of everything in it, NaN comparable: `1`, `1.0` and
    `True` differ here, as they do in a report."""
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _typed(v)) for k, v in value.items()])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def _shown(evidence: list[tuple[Check, ...]]) -> list[Any]:
    return [
        [(c.test, _typed(c.actual), _typed(c.expected), _typed(c.result)) for c in checks]
        for checks in evidence
    ]


def _judged(
    rule: Rule, inventory: Inventory, params: dict[str, Any], *, sweep: bool
) -> tuple[list[Finding], list[tuple[str, Location]], list[Any], list[str] | None]:
    """The rule evaluated as a JSON report evaluates it (passes not built): its
    findings, its passes' addresses with their locations, their evidence, and the
    subjects the loop itself passed (None if the rule has no loop, or it raised)."""
    env = Env(inventory=inventory, as_of=AS_OF, params=params)
    evidence: list[tuple[Check, ...]] = []
    compiled = native.compile_rule(rule, env, params, passes=False, evidence=evidence)
    by_loop: list[str] | None = None
    if compiled.sweep is not None and sweep:
        loop = compiled.sweep

        def recorded(resources: Any) -> Any:
            nonlocal by_loop
            ok, rest = loop(resources)
            by_loop = [r.address for r in ok]
            return ok, rest

        compiled = dataclasses.replace(compiled, sweep=recorded)
    else:
        compiled = dataclasses.replace(compiled, sweep=None)
    findings: list[Finding] = []
    passed: list[str] = []
    located: list[Location] = []
    least, native.SWEEP_MIN = native.SWEEP_MIN, 0  # every rule, however few its subjects
    try:
        native._evaluate_rule(compiled, env, findings, passed, located)
    finally:
        native.SWEEP_MIN = least
    return findings, list(zip(passed, located, strict=True)), _shown(evidence), by_loop


def _same_either_way(rule: Rule, inventory: Inventory, params: dict[str, Any]) -> bool:
    """Whether the rule's loop ran; it finds what the judge alone finds, and passes
    every subject the judge passes (its test is the rule's verdict, not a stricter
    one that would leave passes to the judge)."""
    fast = _judged(rule, inventory, params, sweep=True)
    slow = _judged(rule, inventory, params, sweep=False)
    assert fast[0] == slow[0], rule.id
    assert [_typed(f.message) for f in fast[0]] == [_typed(f.message) for f in slow[0]]
    assert fast[1] == slow[1], rule.id
    assert fast[2] == slow[2], rule.id
    if fast[3] is not None:
        assert fast[3] == [address for address, _ in slow[1]], rule.id
    return fast[3] is not None


@pytest.mark.parametrize("estate", ["example", "generated"])
def test_every_built_in_rule_finds_what_its_judge_finds(estate: str, tmp_path: Path) -> None:
    inventory, catalogue, params = estate_with_catalogue(estate, tmp_path)
    swept = [rule.id for rule in catalogue.rules if _same_either_way(rule, inventory, params)]
    # Most of the catalogue takes the loop: the comparison above is not vacuous.
    assert len(swept) >= 40, swept
    assert {"AUTH-04b", "ACC-02a", "ACC-02b", "WKS-05", "ACC-05b"} <= set(swept)
    # And every rule that has a loop runs it to the end on these valid estates: a loop
    # that raises is correct (the judge takes over) but slow, and would hide here.
    env = Env(inventory=inventory, as_of=AS_OF, params=params)
    looped = [
        rule.id
        for rule in catalogue.rules
        if native.compile_rule(rule, env, params, passes=False, evidence=[]).sweep is not None
    ]
    assert swept == looped


@pytest.mark.parametrize("format_", ["json", "text"])
def test_reports_are_the_same_whether_rules_are_swept_or_judged(
    format_: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The whole report of a generated estate, every rule swept, then none.
    options = CheckOptions(path=generated_estate(tmp_path, 3000, 6, 11), as_of="2026-11-26", jobs=1)
    swept: list[int] = []
    real = sweeper  # what native calls, patched there below

    def counted(*args: Any, **kwargs: Any) -> Any:
        loop = real(*args, **kwargs)
        if loop is None:
            return None

        def run(resources: Any) -> Any:
            swept.append(len(resources))
            return loop(resources)

        return run

    monkeypatch.setattr(native, "sweeper", counted)
    reports = []
    for least in (0, 10**9):
        monkeypatch.setattr(native, "SWEEP_MIN", least)
        _, tally, chunks = run_rendered(options, format_, RenderOptions(jobs=1))
        reports.append((tally, b"".join(chunks)))
        assert (len(swept) >= 60) if least == 0 else not swept, least
        swept.clear()
    assert reports[0] == reports[1]


def test_a_rule_is_swept_only_when_its_passes_are_not_built() -> None:
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule("server", {"path": "roles", "contains": "hosting"})
    env = Env(inventory=inv, as_of=AS_OF, params={})
    assert native.compile_rule(rule, env, {}, passes=False).sweep is not None
    assert native.compile_rule(rule, env, {}, passes=True).sweep is None
    # `any`, `not`, and `all` holding either, too.
    for require in (
        {"any": [{"path": "roles", "contains": "hosting"}]},
        {"not": {"path": "roles", "contains": "hosting"}},
        {"all": [{"path": "name", "exists": True}, {"any": [{"path": "roles", "contains": "hosting"}]}]},
    ):
        assert native.compile_rule(make_rule("server", require), env, {}, passes=False).sweep is not None
    # A leaf without an inline form is called as the judge calls it.
    compared = make_rule("server", {"path": "name", "eq": {"path": "fqdn"}})
    assert native.compile_rule(compared, env, {}, passes=False).sweep is not None


def test_a_rule_with_few_subjects_is_judged_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # Making the loop's code costs what judging a few hundred subjects does.
    rows = [{"k": "a"}, {"k": "b"}, {"k": "a"}]
    rule = _rule({"path": "k", "eq": "a"})
    env = Env(inventory=_things(rows), as_of=AS_OF, params={})
    calls: list[int] = []
    for least, swept in ((4, False), (3, True)):
        compiled = native.compile_rule(rule, env, {}, passes=False, evidence=[])
        assert compiled.sweep is not None
        loop = compiled.sweep

        def counted(resources: Any, loop: Any = loop) -> Any:
            calls.append(len(resources))
            return loop(resources)

        monkeypatch.setattr(native, "SWEEP_MIN", least)
        passed: list[str] = []
        native._evaluate_rule(dataclasses.replace(compiled, sweep=counted), env, [], passed)
        assert passed == ["thing.t0", "thing.t2"]
        assert calls == ([3] if swept else [])


def test_a_loop_that_raises_leaves_every_subject_to_the_judge() -> None:
    # The loop passes t0, then raises on t1 (a cron gap of a text that is no cron
    # expression cannot be measured): what it found is dropped, and the judge finds
    # every finding, t0's and t2's passes and t1's error.
    inventory = _things([{"k": "0 2 * * *"}, {"k": "nonsense"}, {"k": "0 3 * * *"}])
    rule = _rule({"cron_max_gap": "k", "le": "24h"})
    findings, passed, evidence, by_loop = _judged(rule, inventory, {}, sweep=True)
    assert by_loop is None  # it raised
    assert [address for address, _ in passed] == ["thing.t0", "thing.t2"]
    assert len(evidence) == 2
    assert [(f.address, f.status) for f in findings] == [("thing.t1", Status.ERROR)]
    assert findings[0].message == (
        "rule could not be evaluated: ValueError: not enough values to unpack (expected 5, got 1)"
    )
    assert not _same_either_way(rule, inventory, {})
    # Without the text that raises, the loop passes them itself.
    assert _same_either_way(rule, _things([{"k": "0 2 * * *"}, {"k": "0 3 * * *"}]), {})


@pytest.mark.parametrize("sweep", [True, False])
def test_a_rule_of_several_leaves_fails_closed(sweep: bool) -> None:
    # The judge of an `all` (not the one-leaf judge): a leaf that raises on t1 gives
    # t1 an error finding, with the loop or without it; t0 and t2 pass.
    inventory = _things([{"k": "0 2 * * *", "m": 1}, {"k": "nonsense", "m": 1}, {"k": "0 3 * * *", "m": 1}])
    rule = _rule({"all": [{"path": "m", "eq": 1}, {"cron_max_gap": "k", "le": "24h"}]})
    findings, passed, _, _ = _judged(rule, inventory, {}, sweep=sweep)
    assert [address for address, _ in passed] == ["thing.t0", "thing.t2"]
    assert [(f.address, f.status, f.message) for f in findings] == [
        (
            "thing.t1",
            Status.ERROR,
            "rule could not be evaluated: ValueError: not enough values to unpack (expected 5, got 1)",
        )
    ]


@pytest.mark.parametrize("scope", ["outer", "root"])
def test_a_follow_reading_its_subject_passes_in_the_loop(scope: str) -> None:
    # Its target's `k` equals the subject's: t0 and t1 (each other's), not t2 (its
    # target's differs), nor t3 (no target), nor t4 (a reference that is no text).
    inventory = _things(
        [
            {"k": "a", "ref": "thing.t1"},
            {"k": "a", "ref": "thing.t0"},
            {"k": "b", "ref": "thing.t0"},
            {"k": "a", "ref": "thing.none"},
            {"k": "a", "ref": 5},
        ]
    )
    rule = _rule({"follow": "ref", "satisfy": {"path": "k", "eq": {"path": f"${scope}.k"}}})
    assert _same_either_way(rule, inventory, {})
    _, passed, evidence, by_loop = _judged(rule, inventory, {}, sweep=True)
    assert by_loop == ["thing.t0", "thing.t1"]
    assert [address for address, _ in passed] == by_loop
    # One of one target satisfied, as the judge shows a `follow`.
    assert evidence == [[("follow(ref)", ("int", "1"), ("int", "1"), ("bool", "True"))]] * 2


_ROWS = [  # every leaf below passes t0 and t1, and fails t2
    {"e": "x", "k": "a", "b": True, "n": 3, "f": 2, "d": "2026-11-20", "c": "0 2 * * *", "ref": "thing.t1"},
    {"e": "x", "k": "a", "b": True, "n": 2, "f": 2.0, "d": "2026-11-01", "c": "0 2 * * *", "ref": "thing.t0"},
    {"m": 0, "k": "b", "b": False, "n": 1, "f": 1, "d": "2025-01-01", "c": "0 2 * * 0", "ref": "thing.none"},
]


@pytest.mark.parametrize(
    "require",
    [
        {"path": "e", "exists": True},
        {"path": "m", "exists": False},
        {"path": "k", "eq": "a"},
        {"path": "b", "eq": True},
        {"path": "k", "ne": "b"},  # its evidence shows each pass's own value
        {"path": "b", "ne": False},
        {"path": "n", "ge": 2},
        {"path": "f", "eq": 2},  # 2 and 2.0 pass, each shown as it is
        {"age": "d", "le": "30d"},
        {"cron_max_gap": "c", "le": "24h"},
        {"follow": "ref", "satisfy": {"path": "k", "eq": "a"}},
        {"follow": "ref", "satisfy": {"path": "k", "eq": {"path": "$root.k"}}},
        {"all": [{"path": "k", "eq": "a"}, {"path": "n", "ge": 2}, {"path": "m", "exists": False}]},
    ],
)
def test_simple_leaves_are_tested_inline(require: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    # The loop's whole point: no call to the leaf for these forms, neither to test a
    # subject nor to make its evidence (a form that lost its inline code would still
    # find the same, only slower, and no other test could tell).
    sources = _loop_sources(require, monkeypatch)
    assert len(sources) == 1
    assert not re.search(r"\(x\d+ :=", sources[0]), sources[0]


@pytest.mark.parametrize(
    ("require", "values"),
    [
        # Values JSON tells apart but Python's dict keys would not (1 == True == 1.0).
        ({"path": "n", "ne": 0}, [1, True, 1.0, 1, "1", True]),
        ({"path": "n", "exists": True}, [1, True, 1.0, "1", 1, [1], [1]]),
        ({"age": "d", "le": "30d"}, ["2026-11-20", "2026-11-20T00:00:00Z", "2026-11-20"]),
    ],
)
def test_a_passes_evidence_looked_up_by_value_keeps_its_type(
    require: dict[str, Any], values: list[Any]
) -> None:
    # Ints and texts look their evidence up by value (sweep._Passing); a bool or a
    # float equal to one of them must still show as itself.
    rows = [{"n": v, "d": v} for v in values]
    _, _, evidence, by_loop = _judged(_rule(require), _things(rows), {}, sweep=True)
    assert by_loop == [f"thing.t{i}" for i in range(len(rows))]
    assert evidence == _judged(_rule(require), _things(rows), {}, sweep=False)[2]
    if "path" in require:
        assert [shown[0][1] for shown in evidence] == [_typed(v) for v in values]


def test_other_leaves_are_called_in_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    # A comparison with another attribute has no inline form: the leaf is called.
    sources = _loop_sources({"path": "k", "eq": {"path": "ref"}}, monkeypatch, passing=False)
    assert len(sources) == 1
    assert re.search(r"\(x0 := l\d+\(a, r\.address, None\)\)\[0\]", sources[0]), sources[0]


@pytest.mark.parametrize(
    ("require", "shown"),
    [
        # t0 and t1 pass by `k`, their `m` absent: the judge's evidence lists both.
        (
            {"any": [{"path": "k", "eq": "a"}, {"path": "m", "eq": 5}]},
            [('k == "a"', ("str", "'a'"), True), ("m == 5", ("NoneType", "None"), False)],
        ),
        (
            {"not": {"path": "k", "eq": "b"}},
            [('k == "b"', ("str", "'a'"), False)],
        ),
        (
            {
                "all": [
                    {"path": "e", "exists": True},
                    {"any": [{"path": "m", "exists": True}, {"path": "n", "ge": 2}]},
                ]
            },
            [
                ("exists(e)", ("str", "'x'"), True),
                ("exists(m)", ("NoneType", "None"), False),
                ("n >= 2", None, True),
            ],
        ),
    ],
)
def test_any_and_not_have_every_leaf_in_them_called_for_the_evidence(
    require: dict[str, Any], shown: list[tuple[str, Any, bool]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under `any` or `not` a leaf may be false on a pass, and the judge shows it all
    # the same: the loop calls every leaf there (no short-circuit), then combines.
    sources = _loop_sources(require, monkeypatch)
    assert len(sources) == 1
    under = len(shown) - (1 if "all" in require else 0)
    assert len(re.findall(r"\(x\d+ := l\d+\(a, r\.address, None\)\)", sources[0])) == under, sources[0]
    _, _, evidence, _ = _judged(_rule(require), _things(_ROWS), {}, sweep=True)
    assert len(evidence) == 2
    for (test, actual, result), (got_test, got_actual, _, got_result) in zip(shown, evidence[0], strict=True):
        assert (got_test, got_result) == (test, ("bool", repr(result)))
        if actual is not None:
            assert got_actual == actual


@pytest.mark.parametrize(
    ("nested", "passing"),
    [({"all": []}, True), ({"any": []}, False), ({"not": {"all": []}}, False), ({"not": {"any": []}}, True)],
)
def test_an_empty_all_holds_in_the_loop_and_an_empty_any_does_not(
    nested: dict[str, Any], passing: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As the judge has it (docs/rules.md): `()` in the loop's code would be false.
    _loop_sources({"all": [{"path": "k", "eq": "a"}, nested]}, monkeypatch, passing=passing)


@pytest.mark.parametrize(
    ("require", "sets_root"),
    [
        ({"path": "k", "eq": "a"}, False),
        ({"any": [{"path": "k", "eq": "a"}, {"path": "m", "eq": 5}]}, False),
        ({"follow": "ref", "satisfy": {"path": "k", "eq": {"path": "$root.k"}}}, True),
        ({"any": [{"follow": "ref", "satisfy": {"path": "k", "eq": {"path": "$root.k"}}}]}, True),
    ],
)
def test_the_loop_sets_root_only_for_a_rule_reading_it(
    require: dict[str, Any], sets_root: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    (source,) = _loop_sources(require, monkeypatch)
    assert ("env.root = a = r.attrs" in source) is sets_root, source


def _loop_sources(
    require: dict[str, Any], monkeypatch: pytest.MonkeyPatch, *, passing: bool = True
) -> list[str]:
    """The sources of the loops made to evaluate `require` over `_ROWS`, once checked
    that the loop ran, passed what the judge passes (t0 and t1 when `passing`), and
    found what it finds."""
    sources: list[str] = []
    real = select.run_generated

    def kept(source: str, label: str, namespace: dict[str, Any]) -> None:
        sources.append(source)
        real(source, label, namespace)

    monkeypatch.setattr("zenpolicy.engines.sweep.run_generated", kept)
    rule, inventory = _rule(require), _things(_ROWS)
    assert _same_either_way(rule, inventory, {})
    by_loop = _judged(rule, inventory, {}, sweep=True)[3]
    assert by_loop == (["thing.t0", "thing.t1"] if passing else [])
    return sorted(set(sources))


def _things(rows: list[dict[str, Any]]) -> Inventory:
    """An inventory of resources of a kind `thing`: `thing.t0`, `thing.t1`..."""
    inventory = Inventory(root=HERE)
    things = [
        new_resource("thing", f"t{i}", attrs, HERE, "inv.yaml", None, f"thing.t{i}")
        for i, attrs in enumerate(rows)
    ]
    inventory.by_kind["thing"] = things
    inventory.by_address.update((r.address, r) for r in things)
    return inventory


def _rule(require: dict[str, Any] | ast.Condition) -> Rule:
    rule = make_rule("thing", {"path": "k", "exists": True})
    return dataclasses.replace(
        rule, require=ast.parse_condition(require) if isinstance(require, dict) else require
    )


# ---- generated leaves over generated attributes -----------------------------------------

_KEYS = ["k", "m"]
_values = st.sampled_from([*JSON_VALUES, "2026-01-01", "2026-11-26T10:00:00Z", "0 2 * * *", "thing.t0"])
_ops = st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "matches"])


def _compare(key: str, op: str, value: Any) -> ast.Condition:
    return ast.Compare(path=ast.Path(parts=(key,)), op=op, value=ast.Literal(value=value))


_simple = st.one_of(
    st.builds(_compare, st.sampled_from(_KEYS), _ops, _values),
    st.builds(
        lambda key, expected: ast.Exists(path=ast.Path(parts=(key,)), expected=expected),
        st.sampled_from(_KEYS),
        st.booleans(),
    ),
)
_leaf = st.one_of(
    _simple,
    st.builds(
        # `ref` names a resource (or not); its own attributes decide.
        lambda inner: ast.Follow(path=ast.Path(parts=("ref",)), satisfy=inner),
        _simple,
    ),
    st.builds(
        lambda key, op, seconds, until: ast.Age(
            path=ast.Path(parts=(key,)), op=op, value=ast.Literal(value=seconds), until=until
        ),
        st.sampled_from(_KEYS),
        st.sampled_from(["lt", "le", "gt", "ge", "eq"]),
        st.sampled_from([0, 86400, 400 * 86400, -1, 2.5]),
        st.booleans(),
    ),
)
_called = st.one_of(
    # Leaves the loop calls: two attributes compared, a nested path, a `follow` whose
    # condition reads the subject (`$root`, or `$outer` there), a duration.
    st.builds(
        lambda key, op, other: ast.Compare(
            path=ast.Path(parts=(key,)), op=op, value=ast.PathValue(path=ast.Path(parts=(other,)))
        ),
        st.sampled_from(_KEYS),
        _ops,
        st.sampled_from(_KEYS),
    ),
    st.builds(
        lambda op, value: ast.Compare(path=ast.Path(parts=("k", "m")), op=op, value=ast.Literal(value=value)),
        _ops,
        _values,
    ),
    st.builds(
        lambda key, op, scope: ast.Follow(
            path=ast.Path(parts=("ref",)),
            satisfy=ast.Compare(
                path=ast.Path(parts=(key,)),
                op=op,
                value=ast.PathValue(path=ast.Path(parts=(key,), scope=scope)),
            ),
        ),
        st.sampled_from(_KEYS),
        _ops,
        st.sampled_from(["root", "outer"]),
    ),
    st.builds(
        lambda op, seconds: ast.Duration(
            start=ast.Path(parts=("k",)), end=ast.Path(parts=("m",)), op=op, value=ast.Literal(value=seconds)
        ),
        st.sampled_from(["lt", "le", "gt", "ge"]),
        st.sampled_from([0, 3600, -5]),
    ),
)
_leaf = st.one_of(_leaf, _called)
_requires = condition_trees(_leaf, 5)
_attrs = st.fixed_dictionaries(
    {},
    optional={
        "k": st.one_of(_values, st.fixed_dictionaries({}, optional={"m": _values})),
        "m": _values,
        "ref": st.sampled_from(["thing.t0", "thing.t1", "thing.none", 3, None]),
    },
)


@settings(max_examples=examples(400), deadline=None)
@given(require=_requires, rows=st.lists(_attrs, min_size=1, max_size=8))
def test_generated_rules_find_what_their_judge_finds(
    require: ast.Condition, rows: list[dict[str, Any]]
) -> None:
    _same_either_way(_rule(require), _things(rows), {})
