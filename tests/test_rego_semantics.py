"""Each condition form of docs/rules.md, compiled to Rego, agrees with the native engine.

A table of small rules over one small inventory that exercises the corners: empty
`all`/`any`, double negation, absence and null, mismatched types, fractions of seconds,
`until`, durations across offsets, quantifiers on values that are not lists,
references that resolve or not, `$outer`/`$root`, `via` chains, digit path parts, and
organisation-wide rules. Each rule goes through both engines; the findings must be equal
in every field. Rego runs in regopy (rego-cpp), standing in for OPA.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_helpers import inventory_from_yaml, make_rule

from zenpolicy.engines.native import evaluate
from zenpolicy.engines.normalise import normalise
from zenpolicy.engines.rego_local import LocalRego
from zenpolicy.model import Finding, Status
from zenpolicy.rules.rego import compile_catalogue
from zenpolicy.rules.rego_findings import findings_from_answer
from zenpolicy.rules.timeutil import parse_as_of

ESTATE = """\
system:
  o365: {type: identity_provider}
  misc: {type: other}
person:
  alice: {full_name: Alice Martin, status: active, started_on: "2020-01-01"}
role:
  admin: {can_administer: true, privileged: true}
account:
  a:
    system: system.o365
    type: human
    person: person.alice
    status: active
    authentication: password
    password_changed_on: "2026-10-26"
    last_login: "2026-11-25T23:59:59.5Z"
    mfa_enabled: true
    role: role.admin
    third_party: true
    access_starts_at: "2026-11-01T08:00:00Z"
    access_expires_at: "2026-11-01T16:00:00.999+00:00"
  b: {system: system.misc, type: service, status: active, credential_storage: vault, password_changed_on: "2026-11-27"}
  c: {system: system.o365, type: shared, status: disabled, access_expires_at: "2026-11-26T01:00:00+01:00"}
server:
  web:
    provider: ovh
    country: FR
    roles: [hosting, database]
    hosts_client_data: true
    last_patched_on: "2026-10-01"
    admins: [account.a, account.c]
    archive: {method: tape, encrypted: true}
  bak: {provider: ovh, country: FR, roles: [backup]}
backup_schedule:
  nightly: {source: server.web, target: server.bak, type: full, schedule: "0 2 * * *"}
  weekly: {source: server.web, target: server.bak, type: incremental, schedule: "0 3 * * 0"}
backup_run:
  r1: {schedule: backup_schedule.nightly, type: full, started_at: "2026-11-20T02:00:00Z", status: success}
  r2: {schedule: backup_schedule.nightly, type: full, started_at: "2026-11-21T02:00:00Z", status: failed}
  r3: {schedule: backup_schedule.weekly, type: incremental, started_at: "2026-11-22T03:00:00+02:00", status: success}
"""

PARAMS = {"rotation": 31 * 86400, "min_runs": 2, "label": "FR"}

CASES: list[tuple[str, str, dict[str, Any], dict[str, Any] | None]] = [
    ("empty all", "account", {"all": []}, None),
    ("empty any", "account", {"any": []}, None),
    ("not all", "account", {"not": {"all": [{"path": "mfa_enabled", "eq": True}, {"path": "status", "eq": "active"}]}}, None),
    ("double not", "account", {"not": {"not": {"path": "mfa_enabled", "eq": True}}}, None),
    ("any with absence", "account", {"any": [{"path": "mfa_enabled", "eq": True}, {"not": {"path": "credential_storage", "exists": True}}]}, None),
    ("exists false", "account", {"path": "role", "exists": False}, None),
    ("ne on absent", "account", {"path": "credential_storage", "ne": "vault"}, None),
    ("not_in on absent", "account", {"not": {"path": "credential_storage", "not_in": ["vault"]}}, None),
    ("age of a date", "account", {"age": "password_changed_on", "le": {"param": "rotation"}}, None),
    ("age with a fraction", "account", {"age": "last_login", "lt": "1s"}, None),
    ("until a future date", "account", {"until": "password_changed_on", "gt": "0s"}, None),
    ("until across an offset", "account", {"until": "access_expires_at", "ge": "0s"}, None),
    ("duration with a fraction", "account", {"duration": ["access_starts_at", "access_expires_at"], "le": "8h"}, None),
    ("follow", "account", {"follow": "role", "satisfy": {"path": "can_administer", "eq": True}}, None),
    ("follow then age", "account", {"follow": "person", "satisfy": {"age": "started_on", "ge": "365d"}}, None),
    ("follow and $outer", "account", {"follow": "system", "satisfy": {"path": "$outer.type", "eq": "human"}}, None),
    ("where", "account", {"path": "mfa_enabled", "eq": True}, {"all": [{"path": "status", "eq": "active"}]}),
    ("where excludes all", "account", {"path": "mfa_enabled", "eq": True}, {"path": "status", "eq": "gone"}),
    ("where any", "account", {"path": "mfa_enabled", "eq": True}, {"any": [{"path": "type", "eq": "human"}, {"path": "type", "eq": "shared"}]}),
    ("every", "server", {"every": "roles", "satisfy": {"path": "@", "in": ["hosting", "database", "backup"]}}, None),
    ("every on a non-list", "server", {"every": "country", "satisfy": {"path": "@", "eq": "FR"}}, None),
    ("some on a non-list", "server", {"some": "country", "satisfy": {"path": "@", "eq": "FR"}}, None),
    ("some then follow @", "server", {"some": "admins", "satisfy": {"follow": "@", "satisfy": {"path": "status", "eq": "active"}}}, None),
    ("every and $root", "server", {"every": "admins", "satisfy": {"path": "$root.hosts_client_data", "eq": True}}, None),
    ("referrers and cron", "server", {"referrers": {"kind": "backup_schedule", "via": "source"}, "where": {"cron_max_gap": "schedule", "le": "1d"}}, None),
    ("referrers via a chain", "server", {"referrers": {"kind": "backup_run", "via": ["schedule", "source"]}, "where": {"all": [{"path": "status", "eq": "success"}, {"age": "started_at", "le": "10d"}]}, "count": {"ge": {"param": "min_runs"}}}, None),
    ("referrers of a list item", "server", {"some": "admins", "satisfy": {"referrers": {"kind": "server", "via": "admins"}}}, None),
    ("nested path", "server", {"path": "archive.encrypted", "eq": True}, None),
    ("digit path part", "server", {"path": "admins.0", "eq": "account.a"}, None),
    ("value from a path", "server", {"path": "hosts_client_data", "eq": {"path": "archive.encrypted"}}, None),
    ("string param", "server", {"path": "country", "eq": {"param": "label"}}, None),
    ("mismatched types", "server", {"path": "last_patched_on", "lt": {"param": "min_runs"}}, None),
    ("booleans are not numbers", "server", {"path": "hosts_client_data", "eq": 1}, None),
    ("contains", "server", {"path": "roles", "contains": "hosting"}, None),
    ("matches", "server", {"path": "country", "matches": "^F"}, None),
    ("no such kind", "mobile_device", {"path": "encrypted", "eq": True}, None),
    ("inventory exists", "inventory", {"exists": {"kind": "server", "where": {"path": "roles", "contains": "backup"}}, "count": {"eq": 1}}, None),
    ("inventory subject", "inventory", {"all": [{"exists": {"kind": "person"}}, {"path": "@", "exists": True}]}, None),
]  # fmt: skip


@pytest.fixture(scope="module")
def estate() -> Any:
    return inventory_from_yaml(ESTATE)


@pytest.mark.parametrize(("name", "resource", "require", "where"), CASES, ids=[case[0] for case in CASES])
def test_rego_agrees_with_native(
    name: str, resource: str, require: dict[str, Any], where: dict[str, Any] | None, estate: Any
) -> None:
    rule = make_rule(resource, require, where=where, message="{{ address }}: {{ evidence[0].actual }}")
    as_of = parse_as_of("2026-11-26")
    native = evaluate([rule], estate, as_of=as_of, params=PARAMS)
    rego = LocalRego({m.path: m.source for m in compile_catalogue([rule])})
    answer = rego.query("zenpolicy.findings", normalise(estate, as_of, PARAMS))
    assert key(findings_from_answer([rule], estate, answer, PARAMS)) == key(native)
    assert all(f.status is not Status.ERROR for f in native)


def test_the_table_reaches_both_verdicts(estate: Any) -> None:
    # A table where every rule passes (or fails) everywhere would prove little.
    statuses = set()
    for _, resource, require, where in CASES:
        rule = make_rule(resource, require, where=where)
        statuses |= {
            f.status for f in evaluate([rule], estate, as_of=parse_as_of("2026-11-26"), params=PARAMS)
        }
    assert statuses == {Status.PASS, Status.FAIL, Status.NOT_APPLICABLE}


def key(findings: list[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: f.address)


# ---- regular expressions: RE2 on both sides ---------------------------------------------
# Python's `re` would differ from RE2 on each of these (Unicode-aware classes, `$`
# before a final newline); the native engine uses RE2 itself, so they agree.

REGEX_DISAGREEMENTS = [
    ("unit separator is Python whitespace", "\x1f", "\\S"),
    ("non-ASCII digit", "\u0663", "^\\d$"),
    ("no-break space", "\u00a0", "\\S"),
    ("$ before a final newline", "web-01\n", "^web-01$"),
]


@pytest.mark.parametrize(
    ("name", "value", "pattern"), REGEX_DISAGREEMENTS, ids=[c[0] for c in REGEX_DISAGREEMENTS]
)
def test_matches_beyond_ascii_agrees(name: str, value: str, pattern: str) -> None:
    inventory = inventory_from_yaml("system:\n  s: {type: other, description: " + json.dumps(value) + "}\n")
    rule = make_rule("system", {"path": "description", "matches": pattern})
    as_of = parse_as_of("2026-11-26")
    native = evaluate([rule], inventory, as_of=as_of, params={})
    answer = LocalRego({m.path: m.source for m in compile_catalogue([rule])}).query(
        "zenpolicy.findings", normalise(inventory, as_of, {})
    )
    assert [f.status for f in findings_from_answer([rule], inventory, answer, {})] == [
        f.status for f in native
    ]
