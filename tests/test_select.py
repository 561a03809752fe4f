"""A rule's `where` applied to a kind's resources at once (engines/select.py): exactly
the resources its predicate (engines/compile.py) accepts, in their order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from budget import examples
from engine_helpers import condition_trees, estate_with_catalogue, inventory_from_yaml, make_rule, run
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine import JSON_VALUES, _estate

from zenpolicy.engines.compile import Env, compile_pred, scopes
from zenpolicy.engines.native import evaluate
from zenpolicy.engines.select import selector
from zenpolicy.inventory.model import Inventory, Resource, new_resource
from zenpolicy.model import Location, Status
from zenpolicy.rules import ast
from zenpolicy.rules.timeutil import parse_as_of

REPO = Path(__file__).resolve().parent.parent
AS_OF = parse_as_of("2026-11-26")
HERE = Location(path="inv.yaml", line=1, column=1)


def _env(inventory: Inventory, params: dict[str, Any] | None = None) -> Env:
    return Env(inventory=inventory, as_of=AS_OF, params=params or {})


def _accepted(where: ast.Condition, resources: list[Resource], env: Env) -> list[Resource]:
    """The reference: the predicate, resource by resource, as the engine calls it."""
    pred = compile_pred(where, env)
    return [r for r in resources if pred(r.attrs, r.address, None)]


@pytest.mark.parametrize("estate", ["example", "generated"])
def test_every_built_in_where_selects_what_its_predicate_accepts(estate: str, tmp_path: Path) -> None:
    inventory, catalogue, defaults = estate_with_catalogue(estate, tmp_path)
    env = _env(inventory, defaults)
    checked = 0
    for rule in catalogue.rules:
        if rule.where is None:
            continue
        select = selector(rule.where, rule.resource, env)
        if scopes(rule.where):
            assert select is None, rule.id
            continue
        assert select is not None, rule.id
        resources = inventory.kind(rule.resource)
        assert select(resources) == _accepted(rule.where, resources, env), rule.id
        checked += 1
    assert checked >= 40


def _accounts(*rows: tuple[str, str, str]) -> Inventory:
    """Accounts of one system, each (name, type, status)."""
    lines = "".join(
        f"  {name}: {{system: system.s, username: {name}, type: {kind}, status: {status}}}\n"
        for name, kind, status in rows
    )
    return inventory_from_yaml("system:\n  s: {type: other}\naccount:\n" + lines)


def test_rules_with_the_same_where_share_one_selection() -> None:
    inv = _accounts(("a", "human", "active"), ("b", "service", "active"))
    env = _env(inv)
    where = ast.parse_condition({"path": "type", "eq": "human"})
    first = selector(where, "account", env)
    again = selector(ast.parse_condition({"path": "type", "eq": "human"}), "account", env)
    assert first is not None and again is not None
    chosen = first(inv.kind("account"))
    assert [r.address for r in chosen] == ["account.a"]
    assert again(inv.kind("account")) is chosen  # computed once for the run


def test_all_narrows_what_its_first_items_select_and_shares_them() -> None:
    inv = _accounts(("a", "human", "active"), ("b", "service", "active"), ("c", "human", "disabled"))
    env = _env(inv)
    active = ast.parse_condition({"path": "status", "eq": "active"})
    human = ast.parse_condition(
        {"all": [{"path": "status", "eq": "active"}, {"path": "type", "eq": "human"}]}
    )
    service = ast.parse_condition(
        {"all": [{"path": "status", "eq": "active"}, {"path": "type", "eq": "service"}]}
    )
    resources = inv.kind("account")
    first = selector(human, "account", env)
    assert first is not None
    assert [r.address for r in first(resources)] == ["account.a"]
    # The active accounts were selected on the way, and are kept for the next rule.
    head = env.memo[("where", "account", frozenset({repr(active)}))]
    assert [r.address for r in head] == ["account.a", "account.b"]
    second = selector(service, "account", env)
    assert second is not None
    assert [r.address for r in second(resources)] == ["account.b"]
    again = selector(active, "account", env)
    assert again is not None and again(resources) is head


def test_tests_that_cannot_raise_share_a_selection_whatever_their_order() -> None:
    inv = _accounts(("a", "human", "active"), ("b", "service", "active"), ("c", "human", "disabled"))
    env = _env(inv)
    resources = inv.kind("account")
    status_type = ast.parse_condition(
        {"all": [{"path": "status", "eq": "active"}, {"path": "type", "eq": "human"}]}
    )
    type_status = ast.parse_condition(
        {"all": [{"path": "type", "eq": "human"}, {"path": "status", "eq": "active"}]}
    )
    three = ast.parse_condition(
        {
            "all": [
                {"path": "type", "eq": "human"},
                {"path": "username", "exists": True},
                {"path": "status", "eq": "active"},
            ]
        }
    )
    first, second = selector(status_type, "account", env), selector(type_status, "account", env)
    assert first is not None and second is not None
    chosen = first(resources)
    assert [r.address for r in chosen] == ["account.a"]
    assert second(resources) is chosen
    # Narrowed from its first two items, which are the first rule's in another order.
    assert len([key for key in env.memo if key[0] == "where"]) == 2  # status; status and type
    third = selector(three, "account", env)
    assert third is not None
    assert [r.address for r in third(resources)] == ["account.a"]
    assert isinstance(type_status, ast.All)
    assert ("where", "account", frozenset(map(repr, type_status.items))) in env.memo


def test_a_where_that_raises_in_one_order_is_not_answered_by_the_other() -> None:
    # A cron gap raises on a text that is no cron expression: `status == disabled`
    # first leaves out the accounts whose username is no cron, the other order meets
    # them. Both rules in one run: the second must raise, not reuse the first's selection.
    inv = inventory_from_yaml(
        "system:\n  s: {type: other}\naccount:\n"
        "  a: {system: system.s, username: a, type: human, status: active}\n"
        "  b: {system: system.s, username: '0 2 * * *', type: human, status: disabled}\n"
    )
    cron = {"cron_max_gap": "username", "le": "1d"}
    first = make_rule(
        "account",
        {"path": "type", "eq": "human"},
        {"all": [{"path": "status", "eq": "disabled"}, cron]},
        rule_id="T-01",
    )
    second = make_rule(
        "account",
        {"path": "type", "eq": "human"},
        {"all": [cron, {"path": "status", "eq": "disabled"}]},
        rule_id="T-02",
    )
    findings = evaluate([first, second], inv, as_of=parse_as_of("2026-11-26"), params={})
    got = sorted((f.rule_id, f.address, f.status.value) for f in findings)
    assert got == [
        ("T-01", "account.b", "pass"),
        ("T-02", "account.a", "error"),  # its username `a` is no cron expression
        ("T-02", "account.b", "pass"),
    ]


def test_a_test_that_may_raise_keeps_its_order_in_the_selections_key() -> None:
    inv = _accounts(("a", "human", "active"))
    env = _env(inv)
    items = [{"path": "status", "eq": "active"}, {"age": "last_login", "le": "30d"}]
    forward = ast.parse_condition({"all": items})
    backward = ast.parse_condition({"all": items[::-1]})
    for where in (forward, backward):
        select = selector(where, "account", env)
        assert select is not None and select(inv.kind("account")) == []  # no login
    assert ("where", "account", repr(forward)) in env.memo
    assert ("where", "account", repr(backward)) in env.memo


def test_a_where_that_raises_is_an_error_finding_per_resource() -> None:
    # cron_max_gap on an attribute that is no cron expression cannot be evaluated: the
    # selection raises, and the engine tests the resources one by one instead.
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule(
        "server", {"path": "roles", "contains": "hosting"}, where={"cron_max_gap": "provider", "le": "24h"}
    )
    findings = run(rule, inv)
    assert sorted(findings) == [r.address for r in inv.kind("server")]
    assert len(findings) >= 2
    for finding in findings.values():
        assert finding.status is Status.ERROR
        assert finding.message.startswith("rule could not be evaluated: ")


def test_a_relation_whose_where_raises_is_an_error_finding_of_the_subject() -> None:
    # A referrers' `where` on the candidate alone is sifted by one comprehension: what
    # a predicate raises there is the error of the subject whose candidates they are.
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule(
        "server",
        {
            "referrers": {"kind": "backup_schedule", "via": "source"},
            "where": {"cron_max_gap": "source", "le": "24h"},
        },
    )
    findings = run(rule, inv)
    assert findings["server.web-01"].status is Status.ERROR
    assert findings["server.web-01"].message == (
        "rule could not be evaluated: ValueError: not enough values to unpack (expected 5, got 1)"
    )
    assert findings["server.bkp-01"].status is Status.FAIL  # no candidate: nothing raised


def test_names_and_constants_are_data_never_code() -> None:
    # The generated source names them `k0`, `c1`...: text that would be code in it is
    # only compared.
    tricky = "x') or True or ('"
    resources = [
        new_resource(
            "thing", "a", {tricky: tricky, "__import__('os')": True}, HERE, "inv.yaml", None, "thing.a"
        ),
        new_resource("thing", "b", {tricky: "other"}, HERE, "inv.yaml", None, "thing.b"),
    ]
    env = _env(Inventory(root=HERE))
    cond = ast.All(
        items=(
            ast.Compare(path=ast.Path(parts=(tricky,)), op="eq", value=ast.Literal(value=tricky)),
            ast.Exists(path=ast.Path(parts=("__import__('os')",)), expected=True),
        )
    )
    select = selector(cond, "thing", env)
    assert select is not None
    assert [r.address for r in select(resources)] == ["thing.a"]


# ---- generated conditions over generated attributes ---------------------------------------

_KEYS = ["k", "m", "n"]
_values = st.sampled_from(JSON_VALUES)
_leaf = st.one_of(
    st.builds(
        lambda key, op, value: ast.Compare(
            path=ast.Path(parts=(key,)), op=op, value=ast.Literal(value=value)
        ),
        st.sampled_from(_KEYS),
        st.sampled_from(["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains"]),
        _values,
    ),
    st.builds(
        lambda key, expected: ast.Exists(path=ast.Path(parts=(key,)), expected=expected),
        st.sampled_from(_KEYS),
        st.booleans(),
    ),
    st.builds(
        # Two attributes compared with each other: not inlined, the predicate is called.
        lambda key, other: ast.Compare(
            path=ast.Path(parts=(key,)), op="eq", value=ast.PathValue(path=ast.Path(parts=(other,)))
        ),
        st.sampled_from(_KEYS),
        st.sampled_from(_KEYS),
    ),
)
_conditions = condition_trees(_leaf, 6)
_attrs = st.dictionaries(st.sampled_from(_KEYS), _values, max_size=3)


@settings(max_examples=examples(300), deadline=None)
@given(cond=_conditions, rows=st.lists(_attrs, max_size=8))
def test_generated_conditions_select_what_their_predicate_accepts(
    cond: ast.Condition, rows: list[dict[str, Any]]
) -> None:
    resources = [
        new_resource("thing", f"t{i}", attrs, HERE, "inv.yaml", None, f"thing.t{i}")
        for i, attrs in enumerate(rows)
    ]
    env = _env(Inventory(root=HERE))
    select = selector(cond, "thing", env)
    assert select is not None
    assert select(resources) == _accepted(cond, resources, env)


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "matches"])
def test_each_comparison_with_a_constant_selects_as_its_predicate(op: str) -> None:
    # Every constant against every value, one leaf at a time (and `exists` too): the
    # inline forms are the cases `const_test` specialises.
    resources = [
        new_resource("thing", f"t{i}", {"k": value}, HERE, "inv.yaml", None, f"thing.t{i}")
        for i, value in enumerate(JSON_VALUES)
    ]
    resources.append(new_resource("thing", "absent", {}, HERE, "inv.yaml", None, "thing.absent"))
    env = _env(Inventory(root=HERE))
    leaves: list[ast.Condition] = [
        ast.Compare(path=ast.Path(parts=("k",)), op=op, value=ast.Literal(value=b)) for b in JSON_VALUES
    ]
    leaves += [ast.Exists(path=ast.Path(parts=("k",)), expected=expected) for expected in (True, False)]
    for cond in leaves:
        select = selector(cond, "thing", env)
        assert select is not None
        try:
            expected: Any = [r.address for r in _accepted(cond, resources, env)]
        except Exception as exc:  # `matches` with a pattern RE2 refuses: both raise
            expected = type(exc)
        try:
            got: Any = [r.address for r in select(resources)]
        except Exception as exc:
            got = type(exc)
        assert got == expected, cond


@pytest.mark.parametrize(
    ("cond", "holds"),
    [({"all": []}, True), ({"any": []}, False), ({"not": {"all": []}}, False), ({"not": {"any": []}}, True)],
)
def test_an_empty_all_holds_and_an_empty_any_does_not(cond: dict[str, Any], holds: bool) -> None:
    # docs/rules.md: `all: []` is true, `any: []` false, in `where` as in `require`
    # (the generated code once wrote them `()`, which Python takes for false).
    inv = _accounts(("a", "human", "active"), ("b", "service", "active"))
    as_where = run(make_rule("account", {"path": "status", "eq": "active"}, where=cond), inv)
    if holds:
        assert {a: f.status for a, f in as_where.items()} == {
            "account.a": Status.PASS,
            "account.b": Status.PASS,
        }
    else:
        assert [f.status for f in as_where.values()] == [Status.NOT_APPLICABLE]
    as_require = run(make_rule("account", {"all": [{"path": "status", "eq": "active"}, cond]}), inv)
    expected = Status.PASS if holds else Status.FAIL
    assert {a: f.status for a, f in as_require.items()} == {"account.a": expected, "account.b": expected}
