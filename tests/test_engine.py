"""The native engine's semantics, as docs/rules.md states them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from budget import examples
from engine_helpers import inventory_from_yaml, make_rule, run
from hypothesis import given, settings
from hypothesis import strategies as st

from zenpolicy.engines.compile import Env, compare, const_test, verdicts
from zenpolicy.engines.native import combiner, new_check, new_finding
from zenpolicy.inventory.model import Inventory, _location
from zenpolicy.model import Check, Finding, Location, Severity, Status
from zenpolicy.rules import ast
from zenpolicy.rules.leaves import top_leaves
from zenpolicy.rules.regex import finds, regex
from zenpolicy.rules.schedule import cron_max_gap
from zenpolicy.rules.timeutil import parse_as_of

ACCOUNTS = """\
system:
  o365: {{type: identity_provider}}
account:
  a:
    system: system.o365
    type: human
    status: active
    password_changed_on: "{date}"
"""


@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("eq", "x", "x", True),
        ("eq", 1, 1.0, True),
        ("eq", True, 1, False),  # booleans are not numbers
        ("eq", 1, "1", False),  # no coercion
        ("eq", None, None, False),  # absent is never equal, not even to null
        ("eq", [1, "a"], [1.0, "a"], True),  # containers: item by item, deeply
        ("eq", [1], [True], False),
        ("eq", [1, 2], [1], False),
        ("eq", {"a": [1]}, {"a": [1.0]}, True),
        ("eq", {"a": 1}, {"a": 2}, False),
        ("eq", {"a": 1}, {"b": 1}, False),
        ("ne", [1], [2], True),
        ("ne", "x", "y", True),
        ("ne", None, "y", False),  # absent: false whatever the operator
        ("lt", 1, 2, True),
        ("lt", "1.2", "1.3", True),
        ("lt", 1, "2", False),  # mismatched types: false
        ("ge", True, 0, False),
        ("in", "b", ["a", "b"], True),
        ("in", "c", ["a", "b"], False),
        ("not_in", "c", ["a", "b"], True),
        ("not_in", None, ["a"], False),
        ("contains", ["hosting", "backup"], "backup", True),
        ("contains", "backup", "backup", False),  # not a list
        ("matches", "web-01", "^web-[0-9]+$", True),
        ("matches", "xweb-01", "^web", False),
        ("matches", 5, "5", False),
    ],
)
def test_comparison_semantics(op: str, actual: Any, expected: Any, result: bool) -> None:
    assert compare(op, actual, expected) is result


@pytest.mark.parametrize(("date", "status"), [("2026-10-26", Status.PASS), ("2026-10-25", Status.FAIL)])
def test_age_boundary_in_whole_days(date: str, status: Status) -> None:
    # 2026-10-26 is 31 days before 2026-11-26: a monthly rotation of 31d passes; 32 fails.
    inv = inventory_from_yaml(ACCOUNTS.format(date=date))
    rule = make_rule("account", {"age": "password_changed_on", "le": "31d"})
    finding = run(rule, inv)["account.a"]
    assert finding.status is status
    days = 31 if status is Status.PASS else 32
    assert finding.evidence[0].actual == days * 86400
    assert finding.evidence[0].expected == 31 * 86400
    assert finding.evidence[0].test == "age(password_changed_on) <= 31d"


def test_failing_finding_points_at_the_attribute_and_renders_the_message() -> None:
    inv = inventory_from_yaml(ACCOUNTS.format(date="2026-01-01"))
    rule = make_rule(
        "account",
        {"age": "password_changed_on", "le": {"param": "rotation"}},
        message="changed on {{ resource.password_changed_on }}, limit {{ params.rotation }}",
    )
    finding = run(rule, inv, rotation=31 * 86400)["account.a"]
    assert finding.status is Status.FAIL
    assert finding.location == Location(path="inv.yaml", line=8, column=5)
    assert finding.message == "changed on 2026-01-01, limit 2678400"


def test_absent_attribute_fails_and_not_makes_it_true() -> None:
    inv = inventory_from_yaml(ACCOUNTS.format(date="2026-11-01"))
    assert (
        run(make_rule("account", {"path": "mfa_enabled", "eq": True}), inv)["account.a"].status is Status.FAIL
    )
    assert (
        run(make_rule("account", {"path": "mfa_enabled", "ne": True}), inv)["account.a"].status is Status.FAIL
    )
    negated = make_rule("account", {"not": {"path": "mfa_enabled", "eq": True}})
    assert run(negated, inv)["account.a"].status is Status.PASS
    exists = make_rule("account", {"path": "mfa_enabled", "exists": False})
    assert run(exists, inv)["account.a"].status is Status.PASS


BREACH = """\
incident:
  i1: {{identifier: INC-1, detected_at: "2026-11-01T08:00:00Z", status: closed}}
breach:
  b1:
    incident: incident.i1
    personal_data: true
    discovered_at: "2026-11-01T08:00:00Z"
    client_notified_at: "{notified}"
"""


@pytest.mark.parametrize(
    ("notified", "status"),
    [
        ("2026-11-04T08:00:00Z", Status.PASS),  # exactly 72h
        ("2026-11-04T08:00:00.999Z", Status.PASS),  # 72h and a fraction: whole seconds, rounded down
        ("2026-11-04T08:00:01Z", Status.FAIL),
        ("2026-11-04T09:00:00+01:00", Status.PASS),  # offsets count
        ("2026-11-04T09:00:00Z", Status.FAIL),  # 73h
    ],
)
def test_duration_between_two_datetimes(notified: str, status: Status) -> None:
    inv = inventory_from_yaml(BREACH.format(notified=notified))
    rule = make_rule("breach", {"duration": ["discovered_at", "client_notified_at"], "le": "72h"})
    assert run(rule, inv)["breach.b1"].status is status


@pytest.mark.parametrize(
    ("expr", "hours"),
    [
        ("0 2 * * *", 24),
        ("0 2 */2 * *", 48),
        ("0 3 * * 0", 168),
        ("30 1,13 * * *", 12),
        ("0 2 * * 1-5", 72),  # Friday to Monday
        ("0 2 1 * *", 744),  # the longest month
        ("0 4 29 2 *", 1461 * 24),  # leap days only
    ],
)
def test_cron_max_gap(expr: str, hours: int) -> None:
    assert cron_max_gap(expr) == hours * 3600


ESTATE = """\
server:
  web-01: {provider: ovh, country: FR, roles: [hosting]}
  bkp-01: {provider: ovh, country: FR, roles: [backup]}
backup_schedule:
  web-full: {source: server.web-01, target: server.bkp-01, type: full, schedule: "0 3 * * 0"}
  web-incr: {source: server.web-01, target: server.bkp-01, type: incremental, schedule: "0 2 */2 * *"}
backup_run:
"""


def _run(name: str, started_at: str, status: str = "success", *, type_: str = "full", more: str = "") -> str:
    """A backup run of web-full, as a line of ESTATE's `backup_run` mapping."""
    return (
        f"  {name}: {{schedule: backup_schedule.web-full, type: {type_}, "
        f'started_at: "{started_at}", status: {status}{more}}}\n'
    )


def _estate(full_runs: int, *, retention: int | None = None, roles: str = "hosting") -> str:
    """ESTATE with `full_runs` successful runs of web-full and a failed one; web-full
    keeping its backups `retention` days (if given), web-01's roles `roles`."""
    head = ESTATE.replace("roles: [hosting]}", f"roles: [{roles}]}}")
    if retention is not None:
        head = head.replace('schedule: "0 3 * * 0"}', f'schedule: "0 3 * * 0", retention_days: {retention}}}')
    runs = "".join(_run(f"r{i}", f"2026-11-{i + 1:02d}T03:00:00Z") for i in range(full_runs))
    return head + runs + _run("bad", "2026-11-20T03:00:00Z", "failed")


@pytest.mark.parametrize(
    ("size", "status"), [(600000, Status.PASS), (500000, Status.FAIL), (None, Status.FAIL)]
)
@pytest.mark.parametrize(
    ("require", "seconds"),
    [
        ({"age": "started_at", "le": {"path": "size_bytes"}}, 507600),  # 5 days 21 hours
        ({"duration": ["started_at", "ended_at"], "le": {"path": "size_bytes"}}, 1800),
    ],
)
def test_seconds_compared_with_a_value_of_the_subject(
    require: dict[str, Any], seconds: int, size: int | None, status: Status
) -> None:
    # Not a constant: the number read from the subject (any number: the engine
    # compares the seconds with it), absent making the test false.
    if "duration" in require and size is not None:
        size //= 300  # 2000 s passes 1800, 1666 s does not
    extra = "" if size is None else f", size_bytes: {size}"
    text = _estate(0) + _run("r1", "2026-11-20T03:00:00Z", more=f', ended_at: "2026-11-20T03:30:00Z"{extra}')
    finding = run(make_rule("backup_run", require), inventory_from_yaml(text))["backup_run.r1"]
    assert finding.status is status
    assert [(c.actual, c.expected) for c in finding.evidence] == [(seconds, size)]


@pytest.mark.parametrize(("runs", "status"), [(5, Status.FAIL), (6, Status.PASS)])
def test_referrers_through_a_chain_count_with_a_window(runs: int, status: Status) -> None:
    inv = inventory_from_yaml(_estate(runs))
    rule = make_rule(
        "server",
        {
            "referrers": {"kind": "backup_run", "via": ["schedule", "source"]},
            "where": {"all": [{"path": "status", "eq": "success"}, {"age": "started_at", "le": "30d"}]},
            "count": {"ge": 6},
        },
        where={"path": "roles", "contains": "hosting"},
    )
    findings = run(rule, inv)
    assert set(findings) == {"server.web-01"}  # the backup server is out of scope
    assert findings["server.web-01"].status is status
    assert findings["server.web-01"].evidence[0].actual == runs


def _listed_out_of_order(username_a: str, username_b: str) -> Inventory:
    """Two accounts on one system, its referrers index listing acc-b, acc-a, acc-b: out
    of address order and twice, as an index filled through `Inventory.add_reference`
    may be (`link` makes every index in order)."""
    inv = inventory_from_yaml(
        "system:\n  s: {type: other}\n"
        "account:\n"
        f"  acc-a: {{system: system.s, username: {username_a}, type: human, status: active}}\n"
        f"  acc-b: {{system: system.s, username: {username_b}, type: human, status: active}}\n"
    )
    index = inv.reverse_index("account", "system")
    index["system.s"] = [inv.by_address[a] for a in ("account.acc-b", "account.acc-a", "account.acc-b")]
    return inv


@pytest.mark.parametrize(
    "where", [None, {"path": "type", "eq": "human"}, {"path": "username", "eq": {"path": "$root.username"}}]
)
def test_referrers_are_counted_once_each_however_the_index_lists_them(where: dict[str, Any] | None) -> None:
    relation: dict[str, Any] = {"referrers": {"kind": "account", "via": "system"}, "count": {"eq": 2}}
    if where is not None:
        relation["where"] = where
    findings = run(
        make_rule("account", {"follow": "system", "satisfy": relation}), _listed_out_of_order("u", "u")
    )
    assert {address: f.status for address, f in findings.items()} == {
        "account.acc-a": Status.PASS,
        "account.acc-b": Status.PASS,
    }


def test_a_referrer_listed_twice_in_a_row_is_counted_once() -> None:
    # In address order but for the repeat: only a strict order may be taken as it is.
    inv = _listed_out_of_order("u", "v")
    inv.reverse_index("account", "system")["system.s"] = [
        inv.by_address[a] for a in ("account.acc-a", "account.acc-a", "account.acc-b")
    ]
    relation = {"referrers": {"kind": "account", "via": "system"}, "count": {"eq": 2}}
    findings = run(make_rule("account", {"follow": "system", "satisfy": relation}), inv)
    assert {address: f.status for address, f in findings.items()} == {
        "account.acc-a": Status.PASS,
        "account.acc-b": Status.PASS,
    }


def test_referrers_are_tested_in_address_order_however_the_index_lists_them() -> None:
    # A condition that raises does so on the first referrer by address, acc-a (one
    # field of cron, where acc-b's has three), as when `link` makes the index.
    relation = {"kind": "account", "via": "system"}
    rule = make_rule(
        "system",
        {"referrers": relation, "where": {"cron_max_gap": "username", "le": "1d"}, "count": {"ge": 0}},
    )
    (error,) = run(rule, _listed_out_of_order("ua", "u v w")).values()
    assert error.status is Status.ERROR
    assert (
        error.message
        == "rule could not be evaluated: ValueError: not enough values to unpack (expected 5, got 1)"
    )


@pytest.mark.parametrize(("retention", "status"), [(6, Status.PASS), (7, Status.FAIL), (None, Status.FAIL)])
@pytest.mark.parametrize("scope", ["", "$root."])
def test_referrers_counted_against_an_attribute_of_the_subject(
    retention: int | None, status: Status, scope: str
) -> None:
    # `count` compared with the subject's own value, not a constant: six successful
    # runs against the schedule's retention_days (absent: the comparison is false).
    text = _estate(6, retention=retention)
    rule = make_rule(
        "backup_schedule",
        {
            "referrers": {"kind": "backup_run", "via": "schedule"},
            "where": {"path": "status", "eq": "success"},
            "count": {"ge": {"path": f"{scope}retention_days"}},
        },
        where={"path": "type", "eq": "full"},
    )
    found = run(rule, inventory_from_yaml(text))
    assert set(found) == {"backup_schedule.web-full"}
    finding = found["backup_schedule.web-full"]
    assert finding.status is status
    assert [(c.actual, c.expected, c.result) for c in finding.evidence] == [
        (6, retention, status is Status.PASS)
    ]


def test_referrers_where_compares_with_the_subject_otherwise_than_by_equality() -> None:
    # `ne` with the subject's value: no table by value, each candidate is tested.
    text = _estate(2) + _run("inc", "2026-11-21T02:00:00Z", type_="incremental")
    rule = make_rule(
        "backup_schedule",
        {
            "referrers": {"kind": "backup_run", "via": "schedule"},
            "where": {"path": "type", "ne": {"path": "$root.type"}},
            "count": {"eq": 1},
        },
    )
    found = run(rule, inventory_from_yaml(text))
    shown = {address: (f.status, f.evidence[0].actual) for address, f in found.items()}
    assert shown == {
        "backup_schedule.web-full": (Status.PASS, 1),
        "backup_schedule.web-incr": (Status.FAIL, 0),
    }


@pytest.mark.parametrize(("retention", "status"), [(6, Status.PASS), (7, Status.FAIL)])
def test_counts_against_the_subject_as_predicates(retention: int, status: Status) -> None:
    # The same counts as predicates (under `follow`, from each run to its schedule):
    # their verdict, not the count, decides.
    text = _estate(6, retention=retention)
    successes = {"path": "status", "eq": "success"}
    at_least = {"ge": {"path": "retention_days"}}
    for counted in (
        {"referrers": {"kind": "backup_run", "via": "schedule"}, "where": successes, "count": at_least},
        {"exists": {"kind": "backup_run", "where": successes}, "count": at_least},
    ):
        rule = make_rule("backup_run", {"follow": "schedule", "satisfy": counted})
        found = run(rule, inventory_from_yaml(text))
        assert {f.status for f in found.values()} == {status}, counted
        assert len(found) == 7


def test_referrers_with_a_schedule_gap() -> None:
    inv = inventory_from_yaml(_estate(1))
    rule = make_rule(
        "server",
        {
            "referrers": {"kind": "backup_schedule", "via": "source"},
            "where": {
                "all": [{"path": "type", "eq": "incremental"}, {"cron_max_gap": "schedule", "le": "24h"}]
            },
        },
        where={"path": "roles", "contains": "hosting"},
    )
    assert run(rule, inv)["server.web-01"].status is Status.FAIL  # every two days only


def test_paths_that_lead_nowhere_are_absent() -> None:
    # Into a string list item, or past the end of a list: absent (false), no error.
    inv = inventory_from_yaml(_estate(0, roles="hosting, database"))
    for require, status in (
        ({"some": "roles", "satisfy": {"path": "name", "eq": "hosting"}}, Status.FAIL),
        ({"some": "roles", "satisfy": {"path": "name", "eq": True}}, Status.FAIL),
        ({"some": "roles", "satisfy": {"path": "name", "ne": "x"}}, Status.FAIL),
        ({"every": "roles", "satisfy": {"path": "name", "exists": False}}, Status.PASS),
        ({"path": "roles.1", "eq": "database"}, Status.PASS),
        ({"path": "roles.2", "exists": False}, Status.PASS),
    ):
        rule = make_rule("server", require, where={"path": "roles", "contains": "hosting"})
        assert run(rule, inv)["server.web-01"].status is status, require


def test_a_quantifier_as_a_predicate_is_its_verdict() -> None:
    # Under `follow` (a predicate): `every` holds for none of these schedules' sources,
    # although one of the two roles of web-01 is hosting.
    inv = inventory_from_yaml(_estate(1, roles="hosting, database"))
    every = {"every": "roles", "satisfy": {"path": "@", "eq": "hosting"}}
    found = run(make_rule("backup_schedule", {"follow": "source", "satisfy": every}), inv)
    assert {address: f.status for address, f in found.items()} == {
        "backup_schedule.web-full": Status.FAIL,
        "backup_schedule.web-incr": Status.FAIL,
    }


def test_a_scope_that_reads_root_is_tested_for_each_resource() -> None:
    # `where` reading `$root` (the resource itself): tested resource by resource; the
    # runs without an end (bad, open) are out of scope.
    text = _estate(1) + _run("open", "2026-11-22T03:00:00Z", "running")
    text = text.replace("  r0: {", '  r0: {ended_at: "2026-11-01T04:00:00Z", ')
    rule = make_rule(
        "backup_run",
        {"path": "status", "eq": "success"},
        where={"path": "ended_at", "gt": {"path": "$root.started_at"}},
    )
    assert {address: f.status for address, f in run(rule, inventory_from_yaml(text)).items()} == {
        "backup_run.r0": Status.PASS
    }


def test_follow_outer_and_root_scopes() -> None:
    inv = inventory_from_yaml(_estate(1))
    distinct = make_rule(
        "backup_schedule",
        {
            "all": [
                {"path": "target", "ne": {"path": "source"}},
                {
                    "follow": "target",
                    "satisfy": {"every": "roles", "satisfy": {"path": "@", "ne": "hosting"}},
                },
                {"follow": "source", "satisfy": {"path": "$outer.type", "in": ["full", "incremental"]}},
            ]
        },
    )
    findings = run(distinct, inv)
    assert findings["backup_schedule.web-full"].status is Status.PASS
    assert [c.actual for c in findings["backup_schedule.web-full"].evidence] == ["server.bkp-01", 1, 1]
    root = make_rule(
        "backup_run", {"follow": "schedule", "satisfy": {"path": "type", "eq": {"path": "$root.type"}}}
    )
    assert run(root, inv)["backup_run.r0"].status is Status.PASS


def test_every_and_some_count_items_in_evidence() -> None:
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule("server", {"some": "roles", "satisfy": {"path": "@", "eq": "backup"}})
    findings = run(rule, inv)
    assert findings["server.bkp-01"].status is Status.PASS
    assert findings["server.web-01"].status is Status.FAIL
    assert (findings["server.web-01"].evidence[0].actual, findings["server.web-01"].evidence[0].expected) == (
        0,
        1,
    )


def test_no_candidate_is_one_not_applicable_finding_at_the_inventory() -> None:
    inv = inventory_from_yaml(_estate(0))
    findings = run(make_rule("breach", {"path": "personal_data", "eq": True}), inv)
    assert list(findings) == ["inventory"]
    assert findings["inventory"].status is Status.NOT_APPLICABLE
    assert findings["inventory"].location == Location(path="inv")


def test_an_exception_is_an_error_finding_and_the_run_goes_on() -> None:
    # cron_max_gap on an attribute that is not a cron expression cannot be evaluated.
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule("server", {"cron_max_gap": "provider", "le": "24h"})
    findings = run(rule, inv)
    assert {f.status for f in findings.values()} == {Status.ERROR}
    assert findings["server.web-01"].message.startswith("rule could not be evaluated: ")


def test_inventory_rule_counts_resources() -> None:
    inv = inventory_from_yaml(_estate(0))
    rule = make_rule(
        "inventory",
        {"exists": {"kind": "server", "where": {"path": "roles", "contains": "backup"}}, "count": {"ge": 1}},
    )
    finding = run(rule, inv)["inventory"]
    assert finding.status is Status.PASS
    assert finding.evidence[0].actual == 1


@pytest.mark.parametrize(
    ("expires", "status"),
    [("2026-12-10", Status.PASS), ("2026-12-09", Status.FAIL), ("2026-11-01", Status.FAIL)],
)
def test_until_measures_time_left_before_a_date(expires: str, status: Status) -> None:
    inv = inventory_from_yaml(
        f'website:\n  www: {{url: "https://www.example.test", certificate_expires_on: "{expires}"}}\n'
    )
    finding = run(make_rule("website", {"until": "certificate_expires_on", "ge": "14d"}), inv)["website.www"]
    assert finding.status is status
    assert finding.evidence[0].test == "until(certificate_expires_on) >= 14d"


_PEOPLE = """\
system:
  o365: {type: identity_provider}
person:
  p1: {full_name: "0 2 * * *", status: active}
  p2: {full_name: "0 2 * * 0", status: left}
  p3: {full_name: Ann Example, status: active}
account:
  a1: {system: system.o365, type: human, status: active, person: person.p1}
  a2: {system: system.o365, type: human, status: active, person: person.p2}
"""


def test_a_follow_that_cannot_raise_has_its_whole_kind_judged_at_once() -> None:
    # The first person asked for has every person's verdict made, p3 too, whom no
    # account names (compile.verdicts): what the accounts then ask is known.
    inv = inventory_from_yaml(_PEOPLE)
    node = ast.parse_condition({"follow": "person", "satisfy": {"path": "status", "eq": "active"}})
    assert isinstance(node, ast.Follow)
    env = Env(inventory=inv, as_of=parse_as_of("2026-11-26"), params={})
    known, verdict = verdicts(node, env)
    assert verdict("person.p2", None) is False
    assert known == {"person.p1": True, "person.p2": False, "person.p3": True}
    assert verdict("person.nobody", None) is False  # names no resource: false, as before
    found = run(
        make_rule("account", {"follow": "person", "satisfy": {"path": "status", "eq": "active"}}), inv
    )
    assert (found["account.a1"].status, found["account.a2"].status) == (Status.PASS, Status.FAIL)


def test_a_target_missing_from_its_kinds_list_is_still_judged() -> None:
    # An inventory built by hand may index a resource by address and not by kind.
    inv = inventory_from_yaml(_PEOPLE)
    inv.by_kind["person"] = [r for r in inv.kind("person") if r.name != "p3"]
    node = ast.parse_condition({"follow": "person", "satisfy": {"path": "status", "eq": "active"}})
    assert isinstance(node, ast.Follow)
    env = Env(inventory=inv, as_of=parse_as_of("2026-11-26"), params={})
    known, verdict = verdicts(node, env)
    assert (verdict("person.p2", None), verdict("person.p3", None)) == (False, True)
    assert known == {"person.p1": True, "person.p2": False, "person.p3": True}


def test_a_follow_that_may_raise_judges_only_the_targets_asked_for() -> None:
    # A cron gap raises on a text that is no cron expression (p3's name): judged for
    # p3, whom no account names, it would fail the rule on every account.
    inv = inventory_from_yaml(_PEOPLE)
    require = {"follow": "person", "satisfy": {"cron_max_gap": "full_name", "le": "1d"}}
    found = run(make_rule("account", require), inv)
    assert (found["account.a1"].status, found["account.a2"].status) == (Status.PASS, Status.FAIL)
    node = ast.parse_condition(require)
    assert isinstance(node, ast.Follow)
    env = Env(inventory=inv, as_of=parse_as_of("2026-11-26"), params={})
    known, verdict = verdicts(node, env)
    assert verdict("person.p1", None) is True
    assert known == {"person.p1": True}


@pytest.mark.parametrize(
    ("value", "pattern", "result"),
    [
        ("\x1f", "\\S", True),  # RE2's \s is [\t\n\f\r ]; Python's would count \x1f as space
        ("\u0663", "^\\d$", False),  # RE2's \d is ASCII only
        ("web-01\n", "^web-01$", False),  # $ is the end of the text, not before a final newline
    ],
)
def test_matches_is_re2(value: str, pattern: str, result: bool) -> None:
    assert compare("matches", value, pattern) is result
    assert const_test("matches", pattern)(value) is result  # a rule's constant pattern


_PATTERNS = ["\\S", "^https://", "a*", "^$", "\\bb", "(?i)É", "[^a-z]", "é?b", "x$", "\\d{2,}", "(a|b)(c)?"]


@settings(max_examples=examples(300))
@given(pattern=st.sampled_from(_PATTERNS), text=st.text(alphabet=st.characters(codec="utf-8"), max_size=12))
def test_finding_a_match_agrees_with_search(pattern: str, text: str) -> None:
    # `finds` reads RE2's own answer on the UTF-8 bytes; it must be `search`'s.
    compiled = regex(pattern)
    assert finds(compiled)(text) is (compiled.search(text) is not None)


def test_finding_a_match_reads_re2_itself_with_this_google_re2() -> None:
    # A skip, not a failure, if an upgrade moved the internals: `search` answers alike.
    from zenpolicy.rules import regex as regex_module

    if not regex_module._INTERNALS:
        pytest.skip("google-re2's internals changed: `matches` falls back to its slower `search`")
    assert regex_module._raw_match(regex("b")) is not None


def test_finding_a_match_falls_back_to_search(monkeypatch: pytest.MonkeyPatch) -> None:
    from zenpolicy.rules import regex as regex_module

    monkeypatch.setattr(regex_module, "_INTERNALS", False)  # as with a wrapper without them
    compiled = regex("é?b")
    found = finds(compiled)
    assert [found(t) for t in ("b", "abc", "xéb", "xyz", "")] == [True, True, True, False, False]
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate: as `search` raises
        found("\ud800")
    monkeypatch.setattr(regex_module, "_INTERNALS", True)
    with pytest.raises(UnicodeEncodeError):
        finds(compiled)("\ud800")
    import re2

    monkeypatch.delattr(re2, "_Anchor", raising=False)  # a wrapper whose internals moved
    assert not regex_module._probe()


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?=a)b"])
def test_patterns_re2_refuses_are_rule_errors(pattern: str) -> None:
    from zenpolicy.rules.ast import ConditionError, parse_condition

    with pytest.raises(ConditionError, match="invalid regular expression"):
        parse_condition({"path": "description", "matches": pattern})


def test_until_rounds_down_like_every_duration() -> None:
    inv = inventory_from_yaml(
        "system:\n  s: {type: other}\naccount:\n  a: {system: system.s, type: human, status: active,"
        ' access_expires_at: "2026-11-25T23:59:59.5Z"}\n'
    )
    finding = run(make_rule("account", {"until": "access_expires_at", "ge": "0s"}), inv)["account.a"]
    assert finding.evidence[0].actual == -1  # -0.5 s rounds down to -1


@pytest.mark.parametrize(
    "value",
    [
        "2026-11-25T23:00:00+0100",
        "2026-11-25T23:00Z",
        "2026-11-25 23:00:00Z",
        "2026-11-25t23:00:00Z",
        "2026-11-25T23:00:00z",
    ],
)
def test_only_rfc3339_date_times_are_instants(value: str) -> None:
    from zenpolicy.rules.timeutil import age_seconds, parse_as_of

    assert age_seconds(value, parse_as_of("2026-11-26")) is None


# ---- the engine's fast paths equal the general ones ----------------------------------------

JSON_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    -1,
    1.0,
    0.0,
    -0.0,
    2.5,
    float("nan"),
    float("inf"),
    10**20,
    "",
    "a",
    "b",
    "1",
    "true",
    "web-01",
    "^web",
    "(",
    [],
    ["a"],
    ["a", "b"],
    ["b", 1],
    [True],
    [1],
    [1.0],
    [None],
    {},
    {"a": 1},
    [["a"]],
]


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge", "in", "not_in", "contains", "matches"])
def test_constant_tests_are_compare(op: str) -> None:
    for b in JSON_VALUES:
        try:
            test = const_test(op, b)
        except Exception as exc:  # pragma: no cover - const_test itself never raises
            pytest.fail(f"const_test({op!r}, {b!r}) raised {exc!r}")
        for a in JSON_VALUES:
            try:
                expected: Any = compare(op, a, b)
            except Exception as exc:
                expected = type(exc)
            try:
                got: Any = test(a)
            except Exception as exc:
                got = type(exc)
            assert got == expected and type(got) is type(expected), (op, a, b)


def test_fast_constructors_make_the_same_objects() -> None:
    check = new_check("x == 1", 1, 1.0, True)
    assert repr(check) == repr(Check(test="x == 1", actual=1, expected=1.0, result=True))
    assert check == Check(test="x == 1", actual=1, expected=1.0, result=True)
    assert hash(check) == hash(Check(test="x == 1", actual=1, expected=1.0, result=True))
    location = Location(path="a.yaml", line=2, column=3)
    args: dict[str, Any] = {
        "rule_id": "R-1",
        "address": "server.a",
        "status": Status.FAIL,
        "severity": Severity.HIGH,
        "location": location,
        "message": "m",
        "evidence": (check,),
    }
    finding = new_finding(*args.values())
    assert type(finding) is Finding and finding == Finding(**args)
    assert repr(finding) == repr(Finding(**args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "changed"  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Finding)] == list(args)  # new_finding's order
    assert [f.name for f in dataclasses.fields(Check)] == ["test", "actual", "expected", "result"]
    fast = _location("a.yaml", 2, 3)
    assert type(fast) is Location and repr(fast) == repr(location) and fast == location
    assert hash(fast) == hash(location) and not fast < location and str(fast) == "a.yaml:2:3"


def _trees(depth: int) -> st.SearchStrategy[Any]:
    leaf = st.just(ast.Exists(path=ast.Path(parts=("x",)), expected=True))
    if depth == 0:
        return leaf
    inner = _trees(depth - 1)
    return st.one_of(
        leaf,
        st.builds(lambda items: ast.All(items=tuple(items)), st.lists(inner, max_size=3)),
        st.builds(lambda items: ast.Any_(items=tuple(items)), st.lists(inner, max_size=3)),
        st.builds(lambda item: ast.Not(item=item), inner),
    )


def _verdict(cond: ast.Condition, results: list[bool]) -> bool:
    if isinstance(cond, ast.All):
        return all([_verdict(c, results) for c in cond.items])
    if isinstance(cond, ast.Any_):
        return any([_verdict(c, results) for c in cond.items])
    if isinstance(cond, ast.Not):
        return not _verdict(cond.item, results)
    return results.pop(0)


@settings(max_examples=examples(300), deadline=None)
@given(tree=_trees(3), data=st.data())
def test_combiner_is_the_tree_verdict(tree: ast.Condition, data: st.DataObject) -> None:
    n = len(top_leaves(tree))
    results = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    assert combiner(tree)(results) is _verdict(tree, list(results))


# ---- cron gaps: cronsim's sets and day test against its own iterator ----------------------

_NUMBERS = {"minute": (0, 59), "hour": (0, 23), "dom": (1, 31), "month": (1, 12), "dow": (0, 7)}


@st.composite
def _cron_field(draw: st.DrawFn, field: str) -> str:
    low, high = _NUMBERS[field]
    number = st.integers(low, high)
    step = st.integers(1, high)
    shapes = [
        st.just("*"),
        number.map(str),
        st.builds(lambda s: f"*/{s}", step),
        st.builds(lambda a, b: f"{min(a, b)}-{max(a, b)}", number, number),
        st.builds(lambda a, b, s: f"{min(a, b)}-{max(a, b)}/{s}", number, number, step),
        st.lists(number, min_size=2, max_size=3, unique=True).map(lambda xs: ",".join(map(str, xs))),
    ]
    if field == "dom":
        shapes += [st.sampled_from(["L", "LW", "15W", "1W", "31W"])]
    if field == "month":
        shapes += [st.sampled_from(["FEB", "JAN-MAR", "*/3", "2,8"])]
    if field == "dow":
        shapes += [st.sampled_from(["MON", "MON-FRI", "5L", "MON#5", "SUN#1", "0L", "7"])]
    return draw(st.one_of(shapes))


@settings(max_examples=examples(300), deadline=None)
@given(st.tuples(*(_cron_field(name) for name in ("minute", "hour", "dom", "month", "dow"))))
def test_cron_days_and_times_are_cronsims(fields: tuple[str, ...]) -> None:
    """The firing days (cronsim's day test, date by date) and the times of a day
    (cronsim's minute and hour sets) are what cronsim's iterator gives, or both fail."""
    from cronsim import CronSimError

    from zenpolicy.rules import schedule

    minute, hour, dom, month, dow = fields
    days_expr = f"0 0 {dom} {month} {dow}"
    for fast, walked, args in (
        (schedule._firing_days, schedule._walked_firing_days, (days_expr,)),
        (schedule._times_of_day, schedule._walked_times_of_day, (minute, hour)),
    ):
        try:
            expected: list[int] | type[Exception] = walked(*args)
        except CronSimError:
            expected = CronSimError
        if expected is CronSimError:
            with pytest.raises(CronSimError):
                fast(*args)
        else:
            assert list(fast(*args)) == expected, args


def test_passes_a_report_does_not_list_are_counted_not_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """`evaluate_kept` without PASS in `keep` (the text report) builds no passing
    finding, and still tallies them, with their subjects; a rule whose every candidate
    passes is not taken for one without candidates (no not_applicable finding)."""
    from zenpolicy.engines import native
    from zenpolicy.engines.native import NativeEngine
    from zenpolicy.model import Tally
    from zenpolicy.rules.model import INVENTORY
    from zenpolicy.rules.timeutil import parse_as_of

    inv = inventory_from_yaml(
        ACCOUNTS.format(date="2026-11-20") + "  b: {system: system.o365, type: service, status: disabled}\n"
    )
    rules = [
        make_rule("account", {"path": "system", "eq": "system.o365"}, rule_id="T-ALL-PASS"),
        make_rule("account", {"path": "status", "eq": "active"}, rule_id="T-ONE-FAILS"),
        make_rule(
            "account", {"path": "status", "eq": "x"}, where={"path": "type", "eq": "robot"}, rule_id="T-NONE"
        ),
        make_rule(INVENTORY, {"exists": {"kind": "account"}}, rule_id="T-ORG"),
    ]
    engine = NativeEngine(rules)
    every = engine.evaluate(inv, as_of=parse_as_of("2026-11-26"), params={})
    built: list[Status] = []
    real = native.new_finding

    def counted(rule_id: str, address: str, status: Status, *rest: Any) -> Finding:
        built.append(status)
        return real(rule_id, address, status, *rest)

    monkeypatch.setattr(native, "new_finding", counted)
    kept, tally = engine.evaluate_kept(
        inv, as_of=parse_as_of("2026-11-26"), params={}, keep=frozenset({Status.FAIL, Status.ERROR})
    )
    assert [(f.rule_id, f.address, f.status) for f in kept] == [("T-ONE-FAILS", "account.b", Status.FAIL)]
    assert tally == Tally.of(every)
    assert tally.counts == {"pass": 4, "fail": 1, "error": 0, "not_applicable": 1}
    assert tally.subjects == {"account.a", "account.b", "inventory"}
    assert built == [Status.FAIL, Status.NOT_APPLICABLE]  # no passing finding was made
