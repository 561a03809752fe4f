"""The JSON report: the whole `Report`, deterministic, described by schemas/report.schema.json.

Byte-identical reruns are a promise (CI diffs reports, caches key on them): keys are
sorted, list orders come from the report (findings from `sort_findings`, rules by ID,
inputs by path), and the one clock-dependent field, `generated_at`, appears only when
the user asks for it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from zenpolicy.model import Report, RuleInfo

if TYPE_CHECKING:
    from zenpolicy.formats import RenderOptions

REPORT_VERSION = 1
"""Bumped when a consumer of the JSON would have to change (a key renamed or removed)."""


def rule_to_dict(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.id,
        "control": rule.control,
        "title": rule.title,
        "severity": str(rule.severity),
        "domain": rule.domain,
        "clause": {"source": rule.clause.source, "ref": rule.clause.ref, "text": rule.clause.text},
        "frameworks": {name: list(refs) for name, refs in rule.frameworks.items()},
        "remediation": rule.remediation,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    out: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "tool_version": report.tool_version,
        "as_of": report.as_of,
        "engine": report.engine,
        "inventory": report.inventory,
        "inputs": [{"path": i.path, "sha256": i.sha256} for i in report.inputs],
        "resources": report.resources,
        "params": dict(report.params),
        "rules": [rule_to_dict(r) for r in report.rules],
        "findings": [f.to_dict() for f in report.findings],
        "counts": report.counts(),
    }
    if report.generated_at is not None:
        out["generated_at"] = report.generated_at
    return out


def dumps(value: Any) -> str:
    """The one JSON style of every zenpolicy output: sorted, indented, UTF-8, final newline."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render(report: Report, options: RenderOptions) -> str:
    del options  # JSON always carries every finding; verbosity is a text-format concern
    return dumps(report_to_dict(report))
