"""A rule's passes found in one generated loop (engines/sweep.py): for every subject,
what the rule's judge alone finds: the same findings, the same passes in the same
order, the same evidence (values and their types)."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import generated_estate, inventory_from_yaml, make_rule
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import JSON_VALUES, _estate

from zenpolicy.engines import native
from zenpolicy.engines.compile import Env
from zenpolicy.inventory import load_inventory
from zenpolicy.inventory.model import Inventory, new_resource
from zenpolicy.model import Check, Finding, Location, Status
from zenpolicy.rules import ast
from zenpolicy.rules.loader import load_catalogue
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
) -> tuple[list[Finding], list[tuple[str, Location]], list[Any], bool]:
    """The rule evaluated as a JSON report evaluates it (passes not built): its
    findings, its passes' addresses with their locations, their evidence, and whether
    it was swept."""
    env = Env(inventory=inventory, as_of=AS_OF, params=params)
    evidence: list[tuple[Check, ...]] = []
    compiled = native.compile_rule(rule, env, params, passes=False, evidence=evidence)
    swept = compiled.sweep is not None
    if not sweep:
        compiled = dataclasses.replace(compiled, sweep=None)
    findings: list[Finding] = []
    passed: list[str] = []
    located: list[Location] = []
    native._evaluate_rule(compiled, env, findings, passed, located)
    return findings, list(zip(passed, located, strict=True)), _shown(evidence), swept


def _same_either_way(rule: Rule, inventory: Inventory, params: dict[str, Any]) -> bool:
    fast = _judged(rule, inventory, params, sweep=True)
    slow = _judged(rule, inventory, params, sweep=False)
    assert fast[0] == slow[0], rule.id
    assert [_typed(f.message) for f in fast[0]] == [_typed(f.message) for f in slow[0]]
    assert fast[1] == slow[1], rule.id
    assert fast[2] == slow[2], rule.id
    return fast[3]


@pytest.mark.parametrize("estate", ["example", "generated"])
def test_every_built_in_rule_finds_what_its_judge_finds(estate: str, tmp_path: Path) -> None:
    root = REPO / "inventory" if estate == "example" else generated_estate(tmp_path, 3000, 6, 11)
    loaded = load_inventory(root, jobs=1)
    catalogue = load_catalogue(())
    params = {name: spec.default for name, spec in catalogue.params.items()}
    swept = [rule.id for rule in catalogue.rules if _same_either_way(rule, loaded.inventory, params)]
    # Most of the catalogue takes the loop: the comparison above is not vacuous.
    assert len(swept) >= 40, swept
    assert {"AUTH-04b", "ACC-02a", "ACC-02b", "WKS-05", "ACC-05b"} <= set(swept)


def test_a_rule_is_swept_only_when_its_passes_are_not_built() -> None:
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule("server", {"path": "roles", "contains": "hosting"})
    env = Env(inventory=inv, as_of=AS_OF, params={})
    assert native.compile_rule(rule, env, {}, passes=False).sweep is not None
    assert native.compile_rule(rule, env, {}, passes=True).sweep is None
    # Only a leaf or `all` of leaves: not `any`, `not`, nor `all` holding either.
    for require in (
        {"any": [{"path": "roles", "contains": "hosting"}]},
        {"not": {"path": "roles", "contains": "hosting"}},
        {"all": [{"path": "name", "exists": True}, {"any": [{"path": "roles", "contains": "hosting"}]}]},
    ):
        assert native.compile_rule(make_rule("server", require), env, {}, passes=False).sweep is None
    # A leaf without an inline form is called as the judge calls it.
    compared = make_rule("server", {"path": "name", "eq": {"path": "fqdn"}})
    assert native.compile_rule(compared, env, {}, passes=False).sweep is not None


def test_a_loop_that_raises_leaves_every_subject_to_the_judge() -> None:
    # A cron gap of a text that is no cron expression cannot be measured: the loop
    # raises on the first such server, after passing others; those passes are
    # dropped, and the judge finds each server's finding (an error for those).
    inv = inventory_from_yaml(_estate(0))
    servers = inv.kind("server")
    assert len(servers) >= 2
    rule = make_rule(
        "server", {"all": [{"path": "roles", "contains": "hosting"}, {"path": "name", "exists": True}]}
    )
    base = _same_either_way(rule, inv, {})
    assert base
    raising = make_rule("server", {"cron_max_gap": "provider", "le": "24h"})
    findings, passed, evidence, swept = _judged(raising, inv, {}, sweep=True)
    assert swept
    assert passed == [] and evidence == []
    assert [f.address for f in findings] == [r.address for r in servers]
    assert {f.status for f in findings} == {Status.ERROR}
    assert _same_either_way(raising, inv, {})


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
    # condition reads the subject (`$root`), a duration.
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
        lambda key, op: ast.Follow(
            path=ast.Path(parts=("ref",)),
            satisfy=ast.Compare(
                path=ast.Path(parts=(key,)),
                op=op,
                value=ast.PathValue(path=ast.Path(parts=(key,), scope="root")),
            ),
        ),
        st.sampled_from(_KEYS),
        _ops,
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
_requires = st.one_of(
    _leaf, st.lists(_leaf, min_size=1, max_size=3).map(lambda items: ast.All(items=tuple(items)))
)
_attrs = st.fixed_dictionaries(
    {},
    optional={
        "k": st.one_of(_values, st.fixed_dictionaries({}, optional={"m": _values})),
        "m": _values,
        "ref": st.sampled_from(["thing.t0", "thing.t1", "thing.none", 3, None]),
    },
)


@settings(max_examples=400, deadline=None)
@given(require=_requires, rows=st.lists(_attrs, min_size=1, max_size=8))
def test_generated_rules_find_what_their_judge_finds(
    require: ast.Condition, rows: list[dict[str, Any]]
) -> None:
    inventory = Inventory(root=HERE)
    things = [
        new_resource("thing", f"t{i}", attrs, HERE, "inv.yaml", None, f"thing.t{i}")
        for i, attrs in enumerate(rows)
    ]
    inventory.by_kind["thing"] = things
    inventory.by_address.update((r.address, r) for r in things)
    rule = dataclasses.replace(make_rule("thing", {"path": "k", "exists": True}), require=require)
    _same_either_way(rule, inventory, {})
