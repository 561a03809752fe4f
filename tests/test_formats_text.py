"""The text report, on a hand-built Report: layout, grouping, verbosity, colour."""

from __future__ import annotations

import dataclasses
import re

import click
import pytest

from zenpolicy.formats import RenderOptions
from zenpolicy.formats import render as render_format
from zenpolicy.formats.text import params_line, shown, summary_line
from zenpolicy.model import (
    Check,
    Clause,
    Finding,
    InputFile,
    Location,
    Report,
    RuleInfo,
    Severity,
    Status,
    sort_findings,
)

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rule_info(rule_id: str, domain: str, severity: Severity, remediation: str = "") -> RuleInfo:
    return RuleInfo(
        id=rule_id,
        control=rule_id.split("-")[0] + "-01",
        title=f"title of {rule_id}",
        severity=severity,
        domain=domain,
        clause=Clause(source="seeds/000_2c570de354c655da.txt", ref="III-G§1", text="Texte de la clause."),
        remediation=remediation or f"fix {rule_id}",
        frameworks={"gdpr": ("Art. 32",)},
    )


def finding(
    rule_id: str, address: str, status: Status, severity: Severity, line: int, message: str
) -> Finding:
    return Finding(
        rule_id=rule_id,
        address=address,
        status=status,
        severity=severity,
        location=Location(path="inv/accounts.yaml", line=line, column=5),
        message=message,
        evidence=(Check(test="mfa_enabled == true", actual=False, expected=True, result=False),),
    )


def sample_report(generated_at: str | None = None) -> Report:
    """Two domains, every status, severities out of order: what the formatters must sort out."""
    rules = (
        rule_info("ACC-01", "authorisation", Severity.MEDIUM),
        rule_info("AUTH-04", "authentication", Severity.HIGH, "Enable MFA."),
        rule_info("BAK-09", "backups", Severity.LOW),
        rule_info("WKS-01", "workstations", Severity.CRITICAL),
    )
    findings = [
        finding("ACC-01", "account.bob", Status.FAIL, Severity.MEDIUM, 12, "account.bob has no role"),
        finding("AUTH-04", "account.alice", Status.FAIL, Severity.HIGH, 3, "MFA is off on account.alice"),
        finding("AUTH-04", "account.carol", Status.PASS, Severity.HIGH, 20, "MFA is on"),
        finding(
            "ACC-01", "account.alice", Status.ERROR, Severity.MEDIUM, 3, "rule could not be evaluated: boom"
        ),
        Finding(
            rule_id="BAK-09",
            address="inventory",
            status=Status.NOT_APPLICABLE,
            severity=Severity.LOW,
            location=Location(path="inv/zenpolicy.yaml", line=1, column=1),
            message="no sla to check",
        ),
    ]
    return Report(
        tool_version="0.1.0",
        as_of="2026-11-26",
        engine="native",
        inventory="inv",
        inputs=(InputFile(path="inv/accounts.yaml", sha256="a" * 64),),
        params={"password_rotation": "31d", "admin_min_password_length": 16},
        rules=rules,
        findings=sort_findings(findings),
        resources=5,
        generated_at=generated_at,
    )


def render(report: Report, **options: bool) -> str:
    return render_format("text", report, RenderOptions(**options))


def test_default_layout_exactly() -> None:
    assert render(sample_report()).splitlines() == [
        # The domain of the error comes first: errors outrank failures.
        "authorisation (1 failing, 1 error)",
        "  inv/accounts.yaml:3:5   ACC-01   error     rule could not be evaluated: boom",
        "      the rule could not be evaluated on this resource",
        "  inv/accounts.yaml:12:5  ACC-01   medium    account.bob has no role",
        "      fix: fix ACC-01",
        "",
        "authentication (1 failing)",
        "  inv/accounts.yaml:3:5   AUTH-04  high      MFA is off on account.alice",
        "      fix: Enable MFA.",
        "",
        "2 failing, 1 error, 1 passing, 1 not applicable; 4 rules, 5 resources (3 in a rule's scope); "
        "as of 2026-11-26; engine native",
        "(passing and not-applicable findings are listed with --verbose)",
        "params: admin_min_password_length=16 password_rotation=31d",
    ]


def test_verbose_lists_passing_and_not_applicable() -> None:
    lines = render(sample_report(), verbose=True).splitlines()
    assert lines[lines.index("passing (1)") + 1] == "  inv/accounts.yaml:20:5  AUTH-04  account.carol"
    assert lines[lines.index("not applicable (1)") + 1] == "  BAK-09  no sla to check"
    assert "(passing and not-applicable findings are listed with --verbose)" not in lines


def test_not_verbose_hides_passing_and_not_applicable() -> None:
    text = render(sample_report())
    assert "account.carol" not in text
    assert "no sla to check" not in text


@pytest.mark.parametrize(
    ("options", "coloured"),
    [
        ({"color": False}, False),
        ({"color": False, "verbose": True}, False),
        ({"color": True}, True),
    ],
)
def test_colour_only_when_asked(options: dict[str, bool], coloured: bool) -> None:
    text = render(sample_report(), **options)
    assert bool(ANSI.search(text)) is coloured
    # Colour never changes the words.
    assert ANSI.sub("", text) == render(sample_report(), verbose=options.get("verbose", False))


def test_clean_report_says_so() -> None:
    report = sample_report()
    clean = Report(
        tool_version=report.tool_version,
        as_of=report.as_of,
        engine="opa",
        inventory=report.inventory,
        inputs=report.inputs,
        params={},
        rules=report.rules[:1],
        findings=(),
    )
    assert render(clean).splitlines() == [
        "0 failing, 0 errors, 0 passing, 0 not applicable; 1 rule, 0 resources (0 in a rule's scope); "
        "as of 2026-11-26; engine opa",
        "params: (none)",
    ]


def test_summary_and_params_lines() -> None:
    report = sample_report()
    assert summary_line(report).startswith("2 failing, 1 error, 1 passing, 1 not applicable;")
    assert params_line({"b": True, "a": 1.5}) == "params: a=1.5 b=true"


def test_generated_at_shown_only_when_present() -> None:
    assert "generated at" not in render(sample_report())
    assert render(sample_report("2026-11-26T08:00:00+00:00")).endswith(
        "generated at 2026-11-26T08:00:00+00:00\n"
    )


def test_coloured_lines_exactly() -> None:
    """Colour changes the styled parts only; each finding's columns are styled per line
    (a run of one rule's findings shares them)."""
    lines = render(sample_report(), color=True).splitlines()
    bold_rule = click.style("ACC-01 ", bold=True)
    assert lines[1] == (
        f"  inv/accounts.yaml:3:5   {bold_rule}  {click.style('error', fg='magenta', bold=True)}"
        "     rule could not be evaluated: boom"
    )
    assert lines[2] == click.style("      the rule could not be evaluated on this resource", dim=True)
    assert lines[3] == (
        f"  inv/accounts.yaml:12:5  {bold_rule}  {click.style('medium', fg='yellow')}    account.bob has no role"
    )
    assert lines[4] == f"      {click.style('fix:', dim=True)} fix ACC-01"
    assert [ANSI.sub("", line) for line in lines] == render(sample_report()).splitlines()


def test_terminal_controls_are_shown_escaped_and_colour_is_the_only_escape() -> None:
    """Messages, addresses, locations, domains, fixes and parameters can quote what users
    wrote: what a terminal would act on (C0, C1, DEL, bidirectional controls) is shown as
    an escape, in every part of the report, coloured or not."""
    hostile = "a\x1b]8;;http://x\x07b\x9b2J\x7f\u202ec\u2066"
    escaped = "a\\x1b]8;;http://x\\x07b\\x9b2J\\x7f\\u202ec\\u2066"
    report = sample_report()
    findings = [
        dataclasses.replace(
            f,
            message=f"{f.message} {hostile}",
            address=f"{f.address}{hostile}",
            location=dataclasses.replace(f.location, path=f"inv/{hostile}.yaml"),
        )
        for f in report.findings
    ]
    rules = tuple(dataclasses.replace(r, remediation=f"{r.remediation} {hostile}") for r in report.rules)
    report = dataclasses.replace(
        report, findings=tuple(findings), rules=rules, params={"owner": f"x{hostile}", "n": 3}
    )
    for color in (False, True):
        text = render(report, color=color, verbose=True)
        bare = ANSI.sub("", text)
        for raw in ("\x1b", "\x07", "\x9b", "\x7f", "\u202e", "\u2066"):
            assert raw not in bare
        # Three failing lines (location and message each), two fixes, the passing line
        # (location and address), the not-applicable message, the parameter.
        assert bare.count(escaped) == 12
        assert f"params: n=3 owner=x{escaped}" in bare
    assert shown("é 中 \u00a0 \u200d") == "é 中 \u00a0 \u200d"  # printable, or harmless
