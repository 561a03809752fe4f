"""The JSON report: the whole Report, schema-valid, deterministic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from test_formats_text import sample_report

from zenpolicy.formats import FORMATS, RenderOptions
from zenpolicy.model import Report

SCHEMA_PATH = Path(__file__).parents[1] / "schemas" / "report.schema.json"


def report_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def render(report: Report, verbose: bool = False) -> str:
    return FORMATS["json"](report, RenderOptions(verbose=verbose))


def test_valid_against_schema() -> None:
    for report in (sample_report(), sample_report("2026-11-26T08:00:00+00:00")):
        report_validator().validate(json.loads(render(report)))


def test_whole_report_content() -> None:
    doc = json.loads(render(sample_report()))
    assert sorted(doc) == [
        "as_of", "counts", "engine", "findings", "inputs", "inventory", "params", "report_version",
        "resources", "rules", "tool_version",
    ]  # fmt: skip
    assert doc["resources"] == 5
    assert doc["counts"] == {"pass": 1, "fail": 2, "error": 1, "not_applicable": 1}
    assert doc["inputs"] == [{"path": "inv/accounts.yaml", "sha256": "a" * 64}]
    assert doc["params"] == {"admin_min_password_length": 16, "password_rotation": "31d"}
    assert doc["rules"][1] == {
        "id": "AUTH-04",
        "control": "AUTH-01",
        "title": "title of AUTH-04",
        "severity": "high",
        "domain": "authentication",
        "clause": {
            "source": "seeds/000_2c570de354c655da.txt",
            "ref": "III-G§1",
            "text": "Texte de la clause.",
        },
        "frameworks": {"gdpr": ["Art. 32"]},
        "remediation": "Enable MFA.",
    }
    # sort_findings' order: error, fail (highest severity first), pass, not_applicable.
    assert [(f["status"], f["rule_id"], f["address"]) for f in doc["findings"]] == [
        ("error", "ACC-01", "account.alice"),
        ("fail", "AUTH-04", "account.alice"),
        ("fail", "ACC-01", "account.bob"),
        ("pass", "AUTH-04", "account.carol"),
        ("not_applicable", "BAK-09", "inventory"),
    ]
    first = doc["findings"][1]
    assert first["location"] == {"path": "inv/accounts.yaml", "line": 3, "column": 5}
    assert first["evidence"] == [
        {"test": "mfa_enabled == true", "actual": False, "expected": True, "result": False}
    ]
    assert first["fingerprint"] == sample_report().findings[1].fingerprint


def test_generated_at_only_when_requested() -> None:
    assert "generated_at" not in json.loads(render(sample_report()))
    doc = json.loads(render(sample_report("2026-11-26T08:00:00+00:00")))
    assert doc["generated_at"] == "2026-11-26T08:00:00+00:00"


def test_schema_marks_generated_at_as_the_only_nondeterministic_field() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))

    def marked(node: Any, path: str = "") -> list[str]:
        if isinstance(node, dict):
            here = [path] if node.get("x-nondeterministic") else []
            return here + [p for k, v in node.items() for p in marked(v, f"{path}/{k}")]
        if isinstance(node, list):
            return [p for i, v in enumerate(node) for p in marked(v, f"{path}/{i}")]
        return []

    assert marked(schema) == ["/properties/generated_at"]
    assert "generated_at" not in schema["required"]


@pytest.mark.parametrize("verbose", [False, True])
def test_deterministic_and_verbosity_blind(verbose: bool) -> None:
    text = render(sample_report(), verbose)
    assert text == render(sample_report())
    assert text.endswith("}\n")
    # Keys are sorted at every level, so the text is canonical.
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert "III-G§1" in text  # UTF-8, not \u escapes


def test_schema_rejects_what_it_should() -> None:
    validator = report_validator()
    doc = json.loads(render(sample_report()))
    for broken in (
        {**doc, "extra": 1},
        {**doc, "engine": "magic"},
        {**doc, "findings": [{**doc["findings"][0], "status": "waived?"}]},
        {k: v for k, v in doc.items() if k != "counts"},
    ):
        assert not validator.is_valid(broken)
