"""An OPA answer is checked before it is believed (rules/rego_findings.py).

Whatever a server returns that the compiled catalogue would not (a missing field, a
wrong type, an unknown rule or resource, a rule without findings, tests that differ
from the local rule's) is refused with a one-line reason; the OPA engine reports it as
an EngineError (tests/test_opa_client.py shows the end to end).
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import inventory_from_yaml, make_rule

from zenpolicy.rules.rego_findings import AnswerError, findings_from_answer

RULE = make_rule("server", {"path": "country", "eq": "FR"}, rule_id="SRV-X")
INVENTORY = inventory_from_yaml("server:\n  web: {provider: ovh, country: FR, roles: [hosting]}\n")
CHECK = {"test": 'country == "FR"', "actual": "FR", "expected": "FR", "result": True}
GOOD = {"rule_id": "SRV-X", "address": "server.web", "status": "pass", "evidence": [CHECK]}


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"findings": []}, "data.zenpolicy.findings is an object, not a list of findings"),
        (["x"], "finding #1 is a string, not an object"),
        ([{k: v for k, v in GOOD.items() if k != "status"}], "finding #1 has no str 'status'"),
        ([with_(evidence=None)], "finding #1 has no list 'evidence'"),
        ([with_(status="passed")], "finding #1 has status 'passed' (pass, fail or not_applicable)"),
        ([with_(evidence=[{"test": "t"}])], "finding #1 (SRV-X) has evidence without test, actual, expected, result"),
        ([with_(evidence=[{**CHECK, "result": "yes"}])], "finding #1 (SRV-X) has evidence whose test or result is mistyped"),
        ([GOOD, with_(status="fail")], "two findings for rule SRV-X on server.web"),
        ([with_(address="server.db")], "rule SRV-X has a finding on server.db, which is not a server of this inventory"),
        ([with_(evidence=[{**CHECK, "test": "country == \"DE\""}])], "rule SRV-X on the server is not the local one (its tests differ): rebuild and redeploy the bundle"),
        ([with_(status="not_applicable")], "rule SRV-X: a not_applicable finding on server.web"),
        ([], "no finding for rule SRV-X: the server does not know them (is its bundle built from this catalogue?)"),
    ],
)  # fmt: skip
def test_a_wrong_answer_is_refused(answer: Any, reason: str) -> None:
    with pytest.raises(AnswerError) as caught:
        findings_from_answer([RULE], INVENTORY, answer, {})
    assert str(caught.value) == reason


def test_a_right_answer_is_the_native_finding() -> None:
    [finding] = findings_from_answer([RULE], INVENTORY, [GOOD], {})
    assert (finding.rule_id, finding.address, str(finding.status), finding.message) == (
        "SRV-X", "server.web", "pass", "Test rule"
    )  # fmt: skip
