"""Delivering `check`'s report: from the result cache when nothing changed, else by a run.

On a hit, the cached output goes where the run's output would have gone (the file, or
standard output), and the exit code and the summary line come from facts stored beside
it: stdout, stderr, exit code and file are exactly those of a run (tests/test_cli_cache.py).
On a miss, the report is rendered in chunks into its destination and into a new cache
entry at once, so that neither holds the whole text; the entry is kept only if the run
succeeded and read exactly the inputs the key was made from.
"""

from __future__ import annotations

import codecs
import contextlib
from pathlib import Path
from typing import Any

import click

from zenpolicy import cache, timings
from zenpolicy.api import CheckOptions, run_check_rendered
from zenpolicy.errors import EXIT_FINDINGS, EXIT_OK, EXIT_TOOL
from zenpolicy.formats import RenderOptions
from zenpolicy.formats.text import summary_line
from zenpolicy.model import Report, Severity, Tally
from zenpolicy.output import write_atomic_chunks


def outcome(report: Report, tally: Tally | None = None) -> dict[str, Any]:
    """What the exit code and the `--output` summary need: stored beside a cached output.
    `tally`: the report's findings' (`report.tally()`), when the caller has it."""
    tally = report.tally() if tally is None else tally
    worst = tally.worst_failure
    return {
        "errors": tally.errors,
        "worst_failure": None if worst is None else str(worst),
        "summary": summary_line(report, tally),
    }


def exit_code(facts: dict[str, Any], fail_on: Severity) -> int:
    """Error findings outrank failures: an unevaluated rule means the run proves nothing."""
    if facts["errors"]:
        return EXIT_TOOL
    worst = facts["worst_failure"]
    if worst is not None and Severity.parse(worst) >= fail_on:
        return EXIT_FINDINGS
    return EXIT_OK


def _intact(meta: dict[str, Any]) -> bool:
    worst = meta.get("worst_failure")
    return (
        isinstance(meta.get("errors"), bool)
        and isinstance(meta.get("summary"), str)
        and (worst is None or (isinstance(worst, str) and worst.upper() in Severity.__members__))
    )


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
    """Write the report of `options` to `output` (else standard output), from the cache
    when possible; return the run's `outcome`."""
    options = cache.pin_as_of(options)
    render_key = {"format": format_, **render.key()}
    key = cache.check_key(options, render=render_key)
    if key is not None:
        meta = _replay(key, output, render.color)
        if meta is not None:
            return meta
    report, tally, chunks = run_check_rendered(options, format_, render)
    facts = outcome(report, tally)
    if key is not None and cache.check_key(options, render=render_key, inputs=report.inputs) != key:
        key = None  # an input changed during the run: its report belongs to no key
    recorder = cache.Recorder(key) if key is not None else None
    with recorder or contextlib.nullcontext(), timings.stage("report"):
        if recorder is not None:
            chunks = recorder.tee(chunks)
        if output is not None:
            write_atomic_chunks(output, chunks)
        else:
            sink = _Stdout(render.color)
            for chunk in chunks:
                sink.write(chunk)
            sink.close()
        if recorder is not None:
            recorder.commit(facts)
    return facts


def _replay(key: str, output: Path | None, color: bool) -> dict[str, Any] | None:
    if output is not None:
        return cache.replay(key, output, _intact)
    sink = _Stdout(color)
    meta = cache.replay_to(key, sink.write, _intact)
    sink.close()
    return meta
