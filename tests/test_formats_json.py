"""The JSON report: the whole Report, schema-valid, deterministic."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st
from test_formats_text import sample_report

from zenpolicy.api import CheckOptions, run_check
from zenpolicy.formats import RenderOptions
from zenpolicy.formats import json as json_format
from zenpolicy.formats import render as render_format
from zenpolicy.model import (
    Check,
    Finding,
    Location,
    Report,
    Severity,
    Status,
    rule_fingerprints,
    sort_findings,
)
from zenpolicy.model import fingerprints as model_fingerprints

ROOT = Path(__file__).parents[1]
SCHEMA_PATH = ROOT / "schemas" / "report.schema.json"


def report_validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def render(report: Report, verbose: bool = False) -> str:
    return render_format("json", report, RenderOptions(verbose=verbose))


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


# ---- the same bytes as the reference encoder ----------------------------------------------
# The report is written with orjson, in chunks; it must be, byte for byte, what the standard
# library writes (`reference`). Where orjson would write a value differently, the standard
# library writes that chunk: these tests hold both paths to the reference.


def reference(report: Report) -> bytes:
    value = json_format.report_to_dict(report)
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def streamed(report: Report) -> bytes:
    return b"".join(json_format.stream(report, RenderOptions()))


def evidence_report(values: list[Any], *, per_finding: int = 1) -> Report:
    """A report whose findings' evidence holds `values` (as actual, and reversed as expected)."""
    findings = []
    for i in range(0, max(len(values), 1), per_finding):
        group = values[i : i + per_finding]
        findings.append(
            Finding(
                rule_id=f"R-{i:03d}",
                address=f"server.é{i}",
                status=Status.FAIL if i % 2 else Status.PASS,
                severity=Severity(i % 5),
                location=Location(path="inv/servers.yaml", line=i + 1, column=3),
                message=f"message {i} «{group!r:.20}»",
                evidence=tuple(
                    Check(test=f"x{j} == y", actual=v, expected=values[-1 - i - j], result=bool(j % 2))
                    for j, v in enumerate(group)
                ),
            )
        )
    return replace(sample_report(), findings=sort_findings(findings), params={"ratio": 0.5, "n": 3})


TRICKY: list[Any] = [
    "é ü 中文 🙂 III-G§1",
    'quote " backslash \\ slash / ',
    "\x00\x01\x1f\x7f \x1b[31m",
    "\u2028\u2029\ufeff",
    "\t\n\r\b\f",
    0,
    -1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
    -(2**63),
    -(2**63) - 1,
    10**30,
    0.1,
    1e-7,
    1e21,
    1e16,
    1e15,
    123456789.123,
    -0.0,
    0.0,
    5e-324,
    1.7976931348623157e308,
    float("nan"),
    float("inf"),
    float("-inf"),
    True,
    False,
    None,
    [],
    {},
    (),
    (1, "a"),
    [1, "a", [2.5, {"z": 1, "a": [1e-7]}]],
    {"b": 1, "a": {"é": 1, "e": 2, "Z": 3, "": None, "a b": [], "\u00e9\u0301": 0}},
    {"nested": {"deeper": {"big": 2**70}}},
]


@pytest.mark.parametrize("value", TRICKY, ids=[repr(v)[:30] for v in TRICKY])
def test_each_tricky_value_renders_as_the_reference_does(value: Any) -> None:
    report = evidence_report([value, "plain", 1])
    assert streamed(report) == reference(report)
    assert json_format.dumps(value) == json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_exact_says_where_orjson_differs() -> None:
    differ = [1e-7, 1e-5, float("nan"), float("inf"), 2**64, -(2**63) - 1, {1: "a"}, {"a": [1e-7]}]
    for value in [*differ, object()]:
        assert not json_format.exact(value), value
    for value in (0.1, 1e21, 1e16, -0.0, 2**64 - 1, -(2**63), "é", None, [1, (2, {"a": True})]):
        assert json_format.exact(value), value


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_chunks_join_into_the_reference(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Findings are rendered CHUNK at a time; only the chunk holding an odd value goes
    through the standard library, and the joins do not show."""
    monkeypatch.setattr(json_format, "CHUNK", chunk)
    values: list[Any] = ["a", 1, True, None, ["x"], 1e-7, "b", {"k": 2}, 3, "é"]
    for per_finding in (1, 2, 3):
        report = evidence_report(values, per_finding=per_finding)
        assert streamed(report) == reference(report)
    empty = replace(sample_report(), findings=())
    assert streamed(empty) == reference(empty)
    assert b'"findings": []' in streamed(empty)


def test_example_inventory_report_is_the_reference(monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_check(CheckOptions(path=ROOT / "inventory"))
    assert streamed(report) == reference(report)
    monkeypatch.setattr(json_format, "CHUNK", 100)
    assert len(report.findings) > 500
    assert streamed(report) == reference(report)
    assert streamed(sample_report()) == reference(sample_report())
    timestamped = sample_report("2026-11-26T08:00:00+00:00")
    assert streamed(timestamped) == reference(timestamped)


def test_values_the_reference_refuses_are_refused() -> None:
    for value in ({1: "a", "b": 2}, object()):  # unsortable keys, not JSON
        report = evidence_report([value])
        with pytest.raises(TypeError):
            reference(report)
        with pytest.raises(TypeError):
            streamed(report)
    report = evidence_report(["\ud800"])  # a lone surrogate is not UTF-8
    with pytest.raises(UnicodeEncodeError):
        reference(report)
    with pytest.raises(UnicodeEncodeError):
        streamed(report)


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**66), max_value=2**66)
    | st.floats()
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=examples(300), deadline=None)
@given(_values)
def test_exact_values_render_identically(value: Any) -> None:
    expected = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    if json_format.exact(value):
        try:
            got = orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        except TypeError:  # beyond 64 bits: refused, never written differently
            return
        assert got == expected.encode("utf-8")
    assert json_format.dumps(value) == expected + "\n"


@settings(max_examples=examples(100), deadline=None)
@given(st.lists(_values, min_size=1, max_size=8))
def test_any_evidence_renders_as_the_reference_does(values: list[Any]) -> None:
    report = evidence_report(values, per_finding=2)
    assert streamed(report) == reference(report)


@pytest.mark.parametrize("chunk", [1, 3, 1000])
def test_passes_render_as_the_findings_they_stand_for(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """A forked process renders a rule's passes from their addresses, locations and
    evidence (zenpolicy/sharded.py): the bytes of the `Finding`s it does not build."""
    monkeypatch.setattr(json_format, "CHUNK", chunk)
    rule = sample_report().rules[0]
    shared = (Check(test="mfa_enabled == true", actual=True, expected=True, result=True),)
    evidence = [
        shared,
        shared,
        (Check(test="ratio >= 0.5", actual=1e-7, expected=0.5, result=True),),  # the reference encoder's
        (Check(test="tags exists", actual={"b": 1, "a": ["é"]}, expected=True, result=True), *shared),
        (),
        shared,
    ]
    addresses = [f"account.user-{i}" for i in range(len(evidence))]
    locations = [Location(path="inv/accounts.yaml", line=3 * i + 2, column=3) for i in range(len(evidence))]
    findings = [
        Finding(
            rule_id=rule.id,
            address=address,
            status=Status.PASS,
            severity=rule.severity,
            location=location,
            message=rule.title,
            evidence=checks,
        )
        for address, location, checks in zip(addresses, locations, evidence, strict=True)
    ]
    rendered = b"".join(json_format.render_passes(rule, addresses, locations, evidence))
    assert rendered == b"".join(json_format.render_items(findings))
    assert json.loads(b"[" + rendered + b"]")[3]["evidence"][0]["actual"] == {"a": ["é"], "b": 1}
    assert model_fingerprints(findings) == rule_fingerprints(rule.id, addresses)
