"""The terminal report, for the person who has to fix things.

What needs action comes first (errors, then failures), grouped by domain so one owner
reads one block, each finding on one line that editors and terminals can open
(`file:line:col`), with its fix just below. Passing and not-applicable findings are only
counted unless `--verbose`. The last two lines say what was checked and with which
parameters, so a pasted output is reproducible.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from zenpolicy.model import Finding, Report, RuleInfo, Severity, Status, Tally

if TYPE_CHECKING:
    from zenpolicy.formats import RenderOptions

_SEVERITY_COLOURS: dict[Severity, dict[str, Any]] = {
    Severity.CRITICAL: {"fg": "red", "bold": True},
    Severity.HIGH: {"fg": "red"},
    Severity.MEDIUM: {"fg": "yellow"},
    Severity.LOW: {"fg": "cyan"},
    Severity.INFO: {},
}


class _Styler:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, **style: Any) -> str:
        return click.style(text, **style) if self.color and style else text


_SEVERITY_NAMES = {s: str(s) for s in Severity}

# Characters a terminal (or a CI log viewer) acts on instead of showing: C0 and C1
# controls, DEL, and the bidirectional overrides and isolates that reorder what is
# shown. Messages quote inventory values, locations quote file names: a value holding
# `ESC ] 0 ; ... BEL` would retitle the terminal, an OSC 8 sequence would plant a link,
# U+202E would reverse the line. They are written as escapes (`\x1b`, `\u202e`).
_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    for code in (*range(0x20), *range(0x7F, 0xA0), *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def shown(text: str) -> str:
    """`text` with the characters a terminal would act on written as escapes."""
    # isprintable() (C speed) is false for every character the table holds, and for a
    # few harmless ones it leaves as they are (no-break space, joiners).
    return text if text.isprintable() else text.translate(_ESCAPES)


def _located(findings: list[Finding]) -> tuple[list[str], int, int]:
    """Each finding's location as text (made once: 350k at 100k resources), and the
    widths of the location and rule columns, so messages line up."""
    locations = [shown(str(f.location)) for f in findings]
    loc_w = max(map(len, locations), default=0)
    rule_w = max((len(f.rule_id) for f in findings), default=0)
    return locations, loc_w, rule_w


def _actionable(report: Report, style: _Styler) -> list[str]:
    todo = [f for f in report.findings if f.status in (Status.ERROR, Status.FAIL)]
    if not todo:
        return []
    info = {r.id: r for r in report.rules}
    locations, loc_w, rule_w = _located(todo)
    # Domains in order of their worst finding (findings are already sorted worst first).
    groups: dict[str, list[tuple[Finding, str]]] = {}
    for f, where in zip(todo, locations, strict=True):
        rule = info.get(f.rule_id)
        groups.setdefault(shown(rule.domain) if rule else "other", []).append((f, where))
    lines: list[str] = []
    add = lines.append
    for domain, items in groups.items():
        n_fail = sum(f.status is Status.FAIL for f, _ in items)
        n_err = len(items) - n_fail
        counts = ", ".join(p for p in (_plural(n_fail, "failing"), _plural(n_err, "error")) if p)
        lines.append(style(f"{domain} ({counts})", bold=True))
        # What a line holds besides its location and message, and the line after it,
        # depend on the rule, status and severity only: made once per run of them (the
        # findings are sorted), not per finding (55,000 lines at 100k resources).
        made: tuple[str, Status, Severity] | None = None
        middle, after = "", ""
        for f, where in items:
            if (
                made is None
                or f.rule_id is not made[0]
                or f.status is not made[1]
                or f.severity is not made[2]
            ):
                made = (f.rule_id, f.status, f.severity)
                middle, after = _columns(f, info.get(f.rule_id), rule_w, style)
            add(f"  {where:<{loc_w}}  {middle}{shown(f.message)}".rstrip())
            if after:
                add(after)
        add("")
    return lines


def _columns(f: Finding, rule: RuleInfo | None, rule_w: int, style: _Styler) -> tuple[str, str]:
    """A failure's line between its location and its message, and the line after it."""
    if f.status is Status.ERROR:
        level = style("error", fg="magenta", bold=True)
        pad = " " * (8 - len("error"))
    else:
        name = _SEVERITY_NAMES[f.severity]
        level = style(name, **_SEVERITY_COLOURS[f.severity])
        pad = " " * (8 - len(name))
    middle = f"{style(shown(f.rule_id).ljust(rule_w), bold=True)}  {level}{pad}  "
    if f.status is Status.ERROR:
        return middle, style("      the rule could not be evaluated on this resource", dim=True)
    if rule is not None and rule.remediation:
        return middle, f"      {style('fix:', dim=True)} {shown(rule.remediation)}"
    return middle, ""


def _plural(n: int, word: str) -> str:
    if n == 0:
        return ""
    return _n(n, "error") if word == "error" else f"{n} {word}"


def _verbose(report: Report, style: _Styler) -> list[str]:
    lines: list[str] = []
    passing = [f for f in report.findings if f.status is Status.PASS]
    if passing:
        locations, loc_w, rule_w = _located(passing)
        lines.append(style(f"passing ({len(passing)})", bold=True))
        lines.extend(
            f"  {where:<{loc_w}}  {f.rule_id:<{rule_w}}  {shown(f.address)}".rstrip()
            for f, where in zip(passing, locations, strict=True)
        )
        lines.append("")
    not_applicable = [f for f in report.findings if f.status is Status.NOT_APPLICABLE]
    if not_applicable:
        rule_w = max(len(f.rule_id) for f in not_applicable)
        lines.append(style(f"not applicable ({len(not_applicable)})", bold=True))
        for f in not_applicable:
            lines.append(f"  {f.rule_id:<{rule_w}}  {shown(f.message)}".rstrip())
        lines.append("")
    return lines


def summary_line(report: Report, tally: Tally | None = None) -> str:
    """`tally`: the report's findings' (`report.tally()`), when the caller has it."""
    tally = report.tally() if tally is None else tally
    counts = tally.counts
    checked = len(tally.subjects - {"inventory"})
    return (
        f"{counts['fail']} failing, {_n(counts['error'], 'error')}, {counts['pass']} passing, "
        f"{counts['not_applicable']} not applicable; {_n(len(report.rules), 'rule')}, "
        f"{_n(report.resources, 'resource')} ({checked} in a rule's scope); "
        f"as of {report.as_of}; engine {report.engine}"
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def params_line(params: dict[str, Any]) -> str:
    listed = " ".join(f"{name}={_show(value)}" for name, value in sorted(params.items()))
    return f"params: {shown(listed) or '(none)'}"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(report: Report, options: RenderOptions, *, tally: Tally | None = None) -> str:
    """The text report. `tally`: that of every finding, when `report` holds only the
    failures and errors (all this report lists without `--verbose`; see
    `check.run_rendered`)."""
    if tally is not None and options.verbose:
        raise ValueError("--verbose lists every finding: the report must hold them all")
    style = _Styler(options.color)
    lines = _actionable(report, style)
    if options.verbose:
        lines += _verbose(report, style)
    tally = report.tally() if tally is None else tally
    counts = tally.counts
    summary = summary_line(report, tally)
    if counts["error"]:
        summary = style(summary, fg="magenta", bold=True)
    elif counts["fail"]:
        summary = style(summary, fg="red", bold=True)
    else:
        summary = style(summary, fg="green", bold=True)
    lines.append(summary)
    if not options.verbose and (counts["pass"] or counts["not_applicable"]):
        lines.append(style("(passing and not-applicable findings are listed with --verbose)", dim=True))
    lines.append(params_line(report.params))
    if report.generated_at is not None:
        lines.append(f"generated at {report.generated_at}")
    return "\n".join(lines) + "\n"


def stream(report: Report, options: RenderOptions, *, tally: Tally | None = None) -> Iterator[bytes]:
    """`render` as UTF-8 (at 100k resources the text is 21 MB, 47 MB with --verbose:
    small beside the report's own findings, so it is rendered whole)."""
    yield render(report, options, tally=tally).encode("utf-8")
