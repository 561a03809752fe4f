"""User Rego modules (conftest-style `deny` rules) in the same report as the catalogue.

Served by tests/opa_standin.py, a STAND-IN for OPA (regopy, not OPA).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from opa_standin import StandInOpa

from zenpolicy.api import OpaOptions
from zenpolicy.bundle import build_bundle
from zenpolicy.engines import opa
from zenpolicy.errors import EngineError, InputError
from zenpolicy.inventory import load_inventory
from zenpolicy.model import Finding, Location, Severity, Status
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.rego import compile_catalogue
from zenpolicy.rules.rego_custom import load_custom_modules
from zenpolicy.rules.timeutil import parse_as_of

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = load_catalogue()
RULES = [rule for rule in CATALOGUE.rules if rule.id == "AUTH-06"]

ESTATE = """\
system:
  o365: {type: identity_provider}
server:
  web: {provider: ovh, country: FR, roles: [hosting]}
  db: {provider: scaleway, country: NL, roles: [database]}
account:
  svc: {system: system.o365, type: service, status: active, authentication: password, credential_storage: vault}
"""

SOVEREIGNTY = """\
# METADATA
# title: Servers are hosted in France
# custom:
#   id: ORG-FR-01
#   severity: high
package zenpolicy.custom.sovereignty

import rego.v1

deny contains {"msg": msg, "address": concat(".", ["server", name])} if {
	some name
	server := input.resources.server[name]
	server.country != "FR"
	msg := sprintf("server %s is hosted in %s, outside France", [name, server.country])
}

deny contains "the estate declares fewer than three servers" if count(input.resources.server) < 3
"""

PLAIN = """\
package zenpolicy.custom.team.naming

import rego.v1

deny contains msg if {
	some name
	input.resources.server[name]
	not startswith(name, "srv-")
	msg := sprintf("server %s is not named srv-*", [name])
}
"""


@pytest.fixture
def modules(tmp_path: Path) -> list[Path]:
    paths = [tmp_path / "sovereignty.rego", tmp_path / "naming.rego"]
    for path, text in zip(paths, (SOVEREIGNTY, PLAIN), strict=True):
        path.write_text(text, encoding="utf-8")
    return paths


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    root = tmp_path / "estate"
    root.mkdir()
    (root / "estate.yaml").write_text(ESTATE, encoding="utf-8")
    return root


@pytest.fixture
def standin() -> Iterator[tuple[StandInOpa, str]]:
    server = StandInOpa()
    url = server.start()
    yield server, url
    server.stop()


def custom_findings(findings: list[Finding]) -> list[tuple[str, str, Status, Severity, str, str]]:
    return sorted(
        (f.rule_id, f.address, f.status, f.severity, str(f.location), f.message)
        for f in findings
        if f.rule_id not in {r.id for r in CATALOGUE.rules}
    )


EXPECTED = [
    ("ORG-FR-01", "inventory", Status.FAIL, Severity.HIGH, "{estate}", "the estate declares fewer than three servers"),
    ("ORG-FR-01", "server.db", Status.FAIL, Severity.HIGH, "{estate}/estate.yaml:5:3", "server db is hosted in NL, outside France"),
    ("team.naming", "inventory", Status.FAIL, Severity.MEDIUM, "{estate}", "server db is not named srv-*"),
    ("team.naming", "inventory", Status.FAIL, Severity.MEDIUM, "{estate}", "server web is not named srv-*"),
]  # fmt: skip


def test_deny_results_are_fail_findings(
    standin: tuple[StandInOpa, str], estate: Path, modules: list[Path]
) -> None:
    _, url = standin
    findings = opa.evaluate(
        RULES, load_inventory(estate).inventory, as_of=parse_as_of("2026-11-26"), params={},
        options=OpaOptions(url=url), rego_modules=modules,
    )  # fmt: skip
    expected = [(*row[:4], row[4].format(estate=estate.as_posix()), row[5]) for row in EXPECTED]
    assert custom_findings(findings) == expected
    assert [(f.rule_id, f.status) for f in findings if f.rule_id == "AUTH-06"] == [("AUTH-06", Status.PASS)]


def test_check_reports_them_with_the_catalogue(
    standin: tuple[StandInOpa, str], estate: Path, modules: list[Path]
) -> None:
    _, url = standin
    args = [
        "check",
        str(estate),
        "--select",
        "AUTH-06",
        "--engine",
        "opa",
        "--opa-url",
        url,
        "--format",
        "json",
    ]
    for module in modules:
        args += ["--rego", str(module)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENPOLICY_OPA")}
    proc = subprocess.run(
        [sys.executable, "-m", "zenpolicy", *args], cwd=ROOT, capture_output=True, text=True, encoding="utf-8",
        env=env, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    fails = [f for f in json.loads(proc.stdout)["findings"] if f["status"] == "fail"]
    assert sorted((f["rule_id"], f["address"], f["severity"]) for f in fails) == [
        ("ORG-FR-01", "inventory", "high"),
        ("ORG-FR-01", "server.db", "high"),
        ("team.naming", "inventory", "medium"),
        ("team.naming", "inventory", "medium"),
    ]


def test_a_bundle_carries_them_to_use_bundle(
    standin: tuple[StandInOpa, str], estate: Path, modules: list[Path]
) -> None:
    server, url = standin
    custom = load_custom_modules(modules)
    server.load_bundle(build_bundle(compile_catalogue(RULES), {}, custom)[0])
    findings = opa.evaluate(
        RULES, load_inventory(estate).inventory, as_of=parse_as_of("2026-11-26"), params={},
        options=OpaOptions(url=url, use_bundle=True), rego_modules=modules,
    )  # fmt: skip
    assert len(custom_findings(findings)) == 4
    assert [method for method, _ in server.requests] == ["GET", "POST", "POST"]


def test_a_module_the_server_lacks_is_an_engine_error(
    standin: tuple[StandInOpa, str], estate: Path, modules: list[Path]
) -> None:
    server, url = standin
    server.load_bundle(build_bundle(compile_catalogue(RULES), {})[0])
    with pytest.raises(EngineError) as caught:
        opa.evaluate(
            RULES, load_inventory(estate).inventory, as_of=parse_as_of("2026-11-26"), params={},
            options=OpaOptions(url=url, use_bundle=True), rego_modules=modules[:1],
        )  # fmt: skip
    assert str(caught.value) == (
        f"unexpected answer from the OPA server at {url}: the server does not know the Rego module "
        f"{modules[0].as_posix()} (package zenpolicy.custom.sovereignty)"
    )


def test_a_module_the_server_refuses_is_an_engine_error(
    standin: tuple[StandInOpa, str], estate: Path, tmp_path: Path
) -> None:
    _, url = standin
    broken = tmp_path / "broken.rego"
    broken.write_text("package zenpolicy.custom.broken\n\ndeny contains msg if {\n", encoding="utf-8")
    with pytest.raises(EngineError) as caught:
        opa.evaluate(
            RULES, load_inventory(estate).inventory, as_of=parse_as_of("2026-11-26"), params={},
            options=OpaOptions(url=url), rego_modules=[broken],
        )  # fmt: skip
    assert str(caught.value).startswith(
        f"the OPA server at {url} answered HTTP 400 while uploading policy zenpolicy/custom/broken: "
        "error(s) occurred while compiling module(s):"
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("package custom.ssh\n", 1, "package custom.ssh must be under zenpolicy.custom. (zenpolicy.custom.NAME)"),
        ("package zenpolicy.rules.auth_06\n", 1, "package zenpolicy.rules.auth_06 must be under zenpolicy.custom. (zenpolicy.custom.NAME)"),
        ("# just a comment\n", 1, "no `package` line: a Rego module starts with one"),
        ("# METADATA\n# custom:\n#   id: AUTH-06\npackage zenpolicy.custom.x\n", 0, "rule ID AUTH-06 is already used by the rule catalogue"),
        ("# METADATA\n# custom:\n#   severity: urgent\npackage zenpolicy.custom.x\n", 4, "METADATA custom.severity 'urgent' is not one of critical, high, medium, low, info"),
        ("# METADATA\n# custom:\n#   id: 'has space'\npackage zenpolicy.custom.x\n", 4, "METADATA custom.id 'has space' is not a rule ID (AUTH-03a)"),
    ],
)  # fmt: skip
def test_a_bad_module_is_an_input_problem(text: str, line: int, message: str, tmp_path: Path) -> None:
    path = tmp_path / "module.rego"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_custom_modules([path], [rule.id for rule in CATALOGUE.rules])
    assert caught.value.what == "Rego modules"
    assert [(p.location, p.message) for p in caught.value.problems] == [
        (Location(path=path.as_posix(), line=line, column=1 if line else 0), message)
    ]
