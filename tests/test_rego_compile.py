"""The compiler's output as text: packages, METADATA, determinism, readability."""

from __future__ import annotations

import re

import pytest
import yaml
from engine_helpers import make_rule

from zenpolicy.engines.rego_local import LocalRego
from zenpolicy.errors import RuleError
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.model import Rule
from zenpolicy.rules.rego import compile_catalogue, compile_rule, package_segment

CATALOGUE = load_catalogue()


@pytest.mark.parametrize(
    ("rule_id", "segment"),
    [
        ("AUTH-03a", "auth_03a"),
        ("BAK-12b", "bak_12b"),
        ("org.ssh-1", "org_ssh_1"),
        ("9X", "r_9x"),
        ("in", "in_"),
    ],
)
def test_package_names(rule_id: str, segment: str) -> None:
    assert package_segment(rule_id) == segment


def test_two_rules_sharing_a_package_are_refused() -> None:
    rules = [
        make_rule("account", {"all": []}, rule_id="ORG-1a"),
        make_rule("account", {"all": []}, rule_id="org-1A"),
    ]
    with pytest.raises(RuleError) as caught:
        compile_catalogue(rules)
    assert [p.message for p in caught.value.problems] == [
        "rule org-1A compiles to the same Rego package as ORG-1a (zenpolicy.rules.org_1a); rename one of them"
    ]


def test_compiling_is_deterministic() -> None:
    first = compile_catalogue(CATALOGUE.rules)
    assert compile_catalogue(CATALOGUE.rules) == first
    assert compile_catalogue(tuple(reversed(CATALOGUE.rules))) == first
    assert [m.path for m in first] == sorted(m.path for m in first)


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=lambda rule: rule.id)
def test_every_rule_module_is_annotated_v1_rego(rule: Rule) -> None:
    module = compile_rule(rule)
    lines = module.source.splitlines()
    package = lines.index(f"package {module.package}")
    # METADATA is the comment block right above `package` (OPA's package scope).
    start = lines.index("# METADATA")
    assert all(line.startswith("# ") for line in lines[start:package])
    meta = yaml.safe_load("\n".join(line[2:] for line in lines[start + 1 : package]))
    assert meta["title"] == rule.title
    assert meta["custom"]["id"] == rule.id
    assert meta["custom"]["severity"] == str(rule.severity)
    assert meta["custom"]["control"] == rule.control
    assert meta["custom"]["clause"]["ref"] == rule.clause.ref
    assert "import rego.v1" in lines
    assert re.search(r"^findings contains f if \{$", module.source, re.MULTILINE)
    # v1 syntax only: every rule and function body is introduced by `if`.
    heads = [line for line in lines if line.endswith("{") and not line.startswith(("\t", "#"))]
    assert all(line.endswith(" if {") for line in heads), heads


def test_the_whole_catalogue_compiles_in_rego_cpp() -> None:
    rego = LocalRego({m.path: m.source for m in compile_catalogue(CATALOGUE.rules)})
    empty = {
        "as_of": "2026-11-26T00:00:00Z",
        "as_of_date": "2026-11-26",
        "params": {},
        "resources": {},
        "derived": {},
    }
    findings = rego.query("zenpolicy.findings", empty)
    assert {f["rule_id"] for f in findings} == {rule.id for rule in CATALOGUE.rules}


def test_a_compiled_rule_reads_like_the_rule() -> None:
    rule = make_rule(
        "account",
        {"age": "password_changed_on", "le": {"param": "password_rotation"}},
        where={"all": [{"path": "status", "eq": "active"}, {"path": "authentication", "eq": "password"}]},
        rule_id="AUTH-03a",
    )
    source = compile_rule(rule).source
    body = source[source.index("rule_id :=") :]
    assert body == EXPECTED_AUTH_03A


EXPECTED_AUTH_03A = """\
rule_id := "AUTH-03a"

# The account resources this rule checks.
candidates contains name if {
\tsome name
\ts := input.resources.account[name]
\tapplies(s, concat(".", ["account", name]), null, s)
}

# One finding per candidate; its own attributes are both the subject and `$root`.
findings contains f if {
\tsome name in candidates
\ts := input.resources.account[name]
\taddress := concat(".", ["account", name])
\tev := evidence(s, address, null, s)
\tf := lib.finding(rule_id, address, status(ev), ev)
}

# No account to check: one not_applicable finding, anchored at the inventory.
findings contains f if {
\tcount(candidates) == 0
\tf := lib.not_applicable(rule_id)
}

# `where`: the resources this rule applies to.
applies(s, _, _, _) if {
\tlib.test(lib.get(s, ["status"]), "eq", "active")
\tlib.test(lib.get(s, ["authentication"]), "eq", "password")
}

# The leaf tests of `require` on the subject, in order: the evidence.
evidence(s, _, _, _) := [
\tlib.check("age(password_changed_on) <= password_rotation", lib.age(lib.get(s, ["password_changed_on"])), "le", lib.param("password_rotation")),
]

status(ev) := "pass" if compliant(ev) else := "fail"

# `require`, over the evidence's results.
compliant(ev) if {
\tev[0].result
}
"""
