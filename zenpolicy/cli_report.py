"""Delivering `check`'s report: run, then render in chunks into the destination.

The report is rendered in chunks into its destination (standard output, or the
`--output` file, atomically), so that the whole text (220 MB of JSON at 100k resources)
is never held at once. What the exit code and the summary line need is computed once.
"""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import Any

import click

from zenpolicy.api import CheckOptions, run_check
from zenpolicy.errors import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL
from zenpolicy.formats import FORMATS, RenderOptions
from zenpolicy.formats.text import summary_line
from zenpolicy.model import Report, Severity, Status
from zenpolicy.output import write_atomic_chunks


def outcome(report: Report) -> dict[str, Any]:
    """What the exit code and the `--output` summary need."""
    worst = max((f.severity for f in report.findings if f.status is Status.FAIL), default=None)
    return {
        "errors": any(f.status is Status.ERROR for f in report.findings),
        "worst_failure": None if worst is None else str(worst),
        "summary": summary_line(report),
    }


def exit_code(facts: dict[str, Any], fail_on: Severity) -> int:
    """Error findings outrank failures: an unevaluated rule means the run proves nothing."""
    if facts["errors"]:
        return EXIT_TOOL
    worst = facts["worst_failure"]
    if worst is not None and Severity.parse(worst) >= fail_on:
        return EXIT_FINDINGS
    return EXIT_OK


class _Stdout:
    """Standard output fed UTF-8 chunks: decoded across chunk boundaries and echoed a
    whole number of lines at a time, so that click strips the same ANSI sequences (it
    does when colour is off) however the chunks fall."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.pending = ""

    def write(self, chunk: bytes) -> None:
        text = self.pending + self.decoder.decode(chunk)
        cut = text.rfind("\n") + 1
        self.pending = text[cut:]
        if cut:
            click.echo(text[:cut], nl=False, color=self.color)

    def close(self) -> None:
        text = self.pending + self.decoder.decode(b"", final=True)
        self.pending = ""
        if text:
            click.echo(text, nl=False, color=self.color)


def deliver(
    options: CheckOptions, *, format_: str, render: RenderOptions, output: Path | None
) -> dict[str, Any]:
    """Write the report of `options` to `output` (else standard output); return the
    run's `outcome`."""
    report = run_check(options)
    facts = outcome(report)
    chunks = FORMATS[format_](report, render)
    if output is not None:
        write_atomic_chunks(output, chunks)
    else:
        sink = _Stdout(render.color)
        for chunk in chunks:
            sink.write(chunk)
        sink.close()
    return facts
