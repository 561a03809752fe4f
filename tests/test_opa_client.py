"""The OPA engine end to end: zenpolicy's client talking to an OPA REST API.

By default the server is tests/opa_standin.py, a STAND-IN for OPA (a small HTTP server
that evaluates the Rego with regopy): it is NOT OPA, and what passes here proves the
client's side of the protocol and rego-cpp's agreement with the native engine, not
OPA's. Set ZENPOLICY_OPA_URL to the URL of a real `opa run --server` to run the tests
that need no fault injection against it instead (docs/opa.md); the others then skip.

Every failure must be one EngineError line (exit code 3 from the CLI), and the bearer
token must never appear in any output or exception.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opa_standin import StandInOpa

from zenpolicy.api import OpaOptions
from zenpolicy.bundle import build_bundle
from zenpolicy.engines import native, opa
from zenpolicy.errors import EngineError
from zenpolicy.inventory import load_inventory
from zenpolicy.model import Finding
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.model import Rule
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.rego import compile_catalogue
from zenpolicy.rules.timeutil import parse_as_of

ROOT = Path(__file__).resolve().parent.parent
REAL_OPA = os.environ.get("ZENPOLICY_OPA_URL")
TOKEN = "tok-Zx9-never-print-me"
CATALOGUE = load_catalogue()

ESTATE = """\
system:
  o365: {type: identity_provider}
person:
  alice: {full_name: Alice Martin, status: active}
  bob: {full_name: Bob Durand, status: left, left_on: "2026-09-30"}
role:
  staff: {can_administer: false}
  admin: {can_administer: true, privileged: true}
account:
  alice:
    system: system.o365
    type: human
    person: person.alice
    role: role.staff
    status: active
    authentication: password
    mfa_enabled: true
    password_changed_on: "2026-10-26"
  bob:
    system: system.o365
    type: human
    person: person.bob
    role: role.admin
    status: active
    authentication: password
    password_changed_on: "2026-06-01"
  vault:
    system: system.o365
    type: service
    role: role.staff
    status: active
    authentication: password
    credential_storage: other
server:
  web: {provider: ovh, country: FR, roles: [hosting], hosts_client_data: true, last_patched_on: "2026-11-20"}
"""


@dataclass
class Server:
    url: str
    standin: StandInOpa | None
    """None when the tests run against a real OPA (ZENPOLICY_OPA_URL)."""

    def injectable(self) -> StandInOpa:
        if self.standin is None:
            pytest.skip("fault injection needs the stand-in server, not a real OPA")
        return self.standin


@pytest.fixture
def server() -> Iterator[Server]:
    if REAL_OPA:
        yield Server(url=REAL_OPA.rstrip("/"), standin=None)
        return
    standin = StandInOpa()
    url = standin.start()
    yield Server(url=url, standin=standin)
    standin.stop()


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("estate")
    (root / "zenpolicy.yaml").write_text("as_of: 2026-11-26\n", encoding="utf-8")
    (root / "estate.yaml").write_text(ESTATE, encoding="utf-8")
    return root


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_both(
    estate: Path, options: OpaOptions, rules: Sequence[Rule] = CATALOGUE.rules
) -> tuple[list[Finding], list[Finding]]:
    loaded = load_inventory(estate)
    as_of = parse_as_of("2026-11-26")
    params = resolve_params(CATALOGUE.params, loaded.config.params, {})
    shown = params.display
    through_opa = opa.evaluate(
        rules, loaded.inventory, as_of=as_of, params=params.values, display_params=shown, options=options
    )
    in_process = native.evaluate(
        rules, loaded.inventory, as_of=as_of, params=params.values, display_params=shown
    )
    return by_subject(through_opa), by_subject(in_process)


def by_subject(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.rule_id, f.address))


def zenpolicy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ZENPOLICY_OPA")}
    return subprocess.run(
        [sys.executable, "-m", "zenpolicy", *args], cwd=ROOT, capture_output=True, text=True,
        encoding="utf-8", timeout=600, env={**clean, **(env or {})},
    )  # fmt: skip


def report(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(proc.stdout)
    value.pop("engine")
    return value


# ---- the same findings as the native engine --------------------------------------------


def test_the_whole_catalogue_through_opa_gives_the_native_findings(server: Server, estate: Path) -> None:
    through_opa, in_process = run_both(estate, OpaOptions(url=server.url))
    assert through_opa == in_process
    assert {str(f.status) for f in through_opa} == {"pass", "fail", "not_applicable"}


def test_check_with_the_opa_engine_writes_the_native_report(server: Server, estate: Path) -> None:
    common = ("check", str(estate), "--format", "json", "--select", "AUTH-*,ACC-*")
    native_run = zenpolicy(*common)
    opa_run = zenpolicy(*common, "--engine", "opa", "--opa-url", server.url)
    assert opa_run.returncode == native_run.returncode == 1, opa_run.stderr
    assert json.loads(opa_run.stdout)["engine"] == "opa"
    assert report(opa_run) == report(native_run)


def test_the_example_estate_through_opa_gives_the_native_report(server: Server) -> None:
    if not any((ROOT / "inventory").rglob("*.yaml")):
        pytest.skip("the example estate (inventory/) is not there yet")
    # A few domains only: rego-cpp (the stand-in's evaluator) is slow on big inputs.
    common = ("check", "inventory", "--format", "json", "--select", "AUTH-*,WKS-*")
    native_run = zenpolicy(*common)
    opa_run = zenpolicy(*common, "--engine", "opa", "--opa-url", server.url)
    assert (opa_run.returncode, opa_run.stderr) == (native_run.returncode, native_run.stderr)
    assert report(opa_run) == report(native_run)


def test_a_token_is_sent_and_never_shown(server: Server, estate: Path) -> None:
    standin = server.injectable()
    standin.token = TOKEN
    rules = [r for r in CATALOGUE.rules if r.id.startswith("AUTH-")]
    through_opa, in_process = run_both(estate, OpaOptions(url=server.url, token=TOKEN), rules)
    assert through_opa == in_process
    proc = zenpolicy("check", str(estate), "--engine", "opa", "--opa-url", server.url, "--format", "json",
                     "--select", "AUTH-*", env={"ZENPOLICY_OPA_TOKEN": TOKEN})  # fmt: skip
    assert proc.returncode == 1
    assert TOKEN not in proc.stdout + proc.stderr


def test_stale_policies_are_removed_before_an_upload(server: Server, estate: Path, tmp_path: Path) -> None:
    standin = server.injectable()
    standin.policies["zenpolicy/rules/gone_01"] = (
        'package zenpolicy.rules.gone_01\nimport rego.v1\nfindings contains {"rule_id": "GONE-01"} if true\n'
    )
    standin.policies["other/keep"] = "package other\n"
    rules = [r for r in CATALOGUE.rules if r.id.startswith("AUTH-")]
    through_opa, in_process = run_both(estate, OpaOptions(url=server.url), rules)
    assert through_opa == in_process
    assert "zenpolicy/rules/gone_01" not in standin.policies
    assert "other/keep" in standin.policies  # not under zenpolicy/: not ours
    assert ("DELETE", "/v1/policies/zenpolicy/rules/gone_01") in standin.requests


# ---- with the bundle the server holds -----------------------------------------------------


@pytest.fixture
def bundled(server: Server) -> StandInOpa:
    standin = server.injectable()
    defaults = resolve_params(CATALOGUE.params, {}, {}).values
    data, _ = build_bundle(compile_catalogue(CATALOGUE.rules), defaults)
    standin.load_bundle(data)
    return standin


def test_use_bundle_queries_without_uploading(server: Server, bundled: StandInOpa, estate: Path) -> None:
    rules = [r for r in CATALOGUE.rules if r.id.startswith(("ACC-", "AUTH-"))]
    through_opa, in_process = run_both(estate, OpaOptions(url=server.url, use_bundle=True), rules)
    assert through_opa == in_process  # only the selected rules answer, from a bigger bundle
    assert [method for method, _ in bundled.requests] == ["GET", "POST"]


def test_use_bundle_without_a_rule_is_an_engine_error(
    server: Server, bundled: StandInOpa, estate: Path
) -> None:
    extra = dataclasses.replace(CATALOGUE.rules[0], id="ORG-99")
    with pytest.raises(EngineError) as caught:
        run_both(estate, OpaOptions(url=server.url, use_bundle=True), [CATALOGUE.rules[0], extra])
    assert str(caught.value) == (
        f"unexpected answer from the OPA server at {server.url}: no finding for rule ORG-99: the server "
        "does not know them (is its bundle built from this catalogue?)"
    )


def test_uploading_to_a_bundle_server_is_an_engine_error(
    server: Server, bundled: StandInOpa, estate: Path
) -> None:
    with pytest.raises(EngineError) as caught:
        run_both(estate, OpaOptions(url=server.url), CATALOGUE.rules[:1])
    assert str(caught.value) == (
        f"the OPA server at {server.url} answered HTTP 400 while deleting stale policy "
        "zenpolicy/findings.rego: path zenpolicy/findings.rego is owned by bundle"
    )


# ---- every failure is one line, exit code 3 ----------------------------------------------


@dataclass(frozen=True)
class Failure:
    name: str
    mode: str | None
    message: str
    """With {url}; the whole EngineError message."""
    timeout: float = 10.0
    token: str = TOKEN
    """What the client sends; the stand-in expects TOKEN."""


FAILURES = [
    Failure("server error", "500", "the OPA server at {url} answered HTTP 500 while checking its health: injected HTTP 500"),
    Failure(
        "authentication refused", "401",
        "the OPA server at {url} refused the request (HTTP 401: authentication or authorisation failed) "
        "while checking its health; check the token",
    ),
    Failure(
        "wrong token", None,
        "the OPA server at {url} refused the request (HTTP 401: authentication or authorisation failed) "
        "while checking its health; check the token",
        token="not-" + TOKEN,
    ),
    Failure(
        "timeout", "slow",
        "the OPA server at {url} did not answer within 0.5s while querying data.zenpolicy.findings",
        timeout=0.5,
    ),
    Failure(
        "not json", "malformed",
        "malformed answer from the OPA server at {url} while querying data.zenpolicy.findings: the answer is not JSON",
    ),
    Failure(
        "undefined", "no-result",
        "unexpected answer from the OPA server at {url}: data.zenpolicy.findings is undefined: the server "
        "holds no zenpolicy policies",
    ),
    Failure(
        "unknown rule", "extra-rule",
        "unexpected answer from the OPA server at {url}: a finding for rule 'ZZ-99', which this catalogue "
        "does not define (the server holds other policies: rebuild and redeploy the bundle, or restart it)",
    ),
]  # fmt: skip


@pytest.mark.parametrize("failure", FAILURES, ids=[f.name for f in FAILURES])
def test_failures_are_one_engine_error(failure: Failure, server: Server, estate: Path) -> None:
    standin = server.injectable()
    standin.mode, standin.delay, standin.token = failure.mode, 2.0, TOKEN
    options = OpaOptions(url=server.url, token=failure.token, timeout=failure.timeout)
    with pytest.raises(EngineError) as caught:
        run_both(estate, options, CATALOGUE.rules[:2])
    expected = failure.message.format(url=server.url)
    assert str(caught.value) == expected
    assert TOKEN not in str(caught.value) + repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__

    args = ["check", str(estate), "--select", ",".join(r.id for r in CATALOGUE.rules[:2]), "--engine", "opa"]
    args += ["--opa-url", server.url, "--opa-timeout", str(failure.timeout)]
    proc = zenpolicy(*args, env={"ZENPOLICY_OPA_TOKEN": failure.token})
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "", f"zenpolicy: error: {expected}\n")
    assert TOKEN not in proc.stdout + proc.stderr


def test_an_unreachable_server_is_one_engine_error(estate: Path) -> None:
    url = closed_port_url()
    with pytest.raises(EngineError) as caught:
        run_both(estate, OpaOptions(url=url, token=TOKEN, timeout=2), CATALOGUE.rules[:1])
    expected = (
        f"the OPA server at {url} is unreachable while checking its health: [Errno 111] Connection refused"
    )
    assert str(caught.value) == expected
    proc = zenpolicy(
        "check", str(estate), "--engine", "opa", "--opa-url", url, env={"ZENPOLICY_OPA_TOKEN": TOKEN}
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "", f"zenpolicy: error: {expected}\n")


@pytest.mark.parametrize("url", ["ftp://opa.example", "opa.example:8181", "http://", "http://opa:99999"])
def test_a_bad_url_is_a_usage_error(url: str, estate: Path) -> None:
    proc = zenpolicy("check", str(estate), "--engine", "opa", "--opa-url", url)
    assert proc.returncode == 2
    assert (
        proc.stderr
        == f"zenpolicy: error: --opa-url must be an http:// or https:// URL with a host, not {url!r}\n"
    )
