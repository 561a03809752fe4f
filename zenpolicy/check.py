"""`check`: load the catalogue and the inventory, evaluate, and assemble the Report.

Two ways out: `run` gives the whole `Report` (every finding, for the API and every
format); `run_rendered` gives a format's bytes, and for a large JSON report has them
rendered by the processes that evaluated the findings (zenpolicy/sharded.py), which
never brings the findings together in one process. Both give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zenpolicy import __version__, exiting, timings
from zenpolicy.engines.native import NativeEngine
from zenpolicy.errors import InputError, UsageError
from zenpolicy.formats import FORMATS, RenderOptions, text
from zenpolicy.gcpause import paused_gc
from zenpolicy.inventory import LoadedInventory, load_inventory
from zenpolicy.model import Finding, Report, Status, Tally, sort_findings
from zenpolicy.options import CheckOptions
from zenpolicy.rules.loader import Catalogue, load_catalogue
from zenpolicy.rules.params import ResolvedParams, config_problems, resolve_params
from zenpolicy.rules.timeutil import AsOf, parse_as_of, today


@dataclass(frozen=True, slots=True)
class Prepared:
    """Everything evaluated against: the rules, the inventory, the date, the parameters."""

    options: CheckOptions
    catalogue: Catalogue
    loaded: LoadedInventory
    as_of: AsOf
    params: ResolvedParams

    def report(self, findings: Sequence[Finding]) -> Report:
        """The report of these (sorted) findings."""
        generated = self.options.extra.get("generated_at")
        return Report(
            tool_version=__version__,
            as_of=self.as_of.text,
            engine=self.options.engine,
            inventory=self.options.path.as_posix(),
            inputs=self.loaded.inputs,
            params=dict(self.params.display),
            rules=tuple(r.info() for r in self.catalogue.rules),
            findings=tuple(findings),
            resources=len(self.loaded.inventory),
            generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if generated else None,
        )


# Loading, evaluating and sorting allocate millions of objects (the inventory, the
# findings), none in a cycle, that live until the report is written: the cyclic
# collector stays paused throughout, and they are frozen out of its sight before it
# resumes, or its first collection after each stage walks them all (0.1 s each at 100k
# resources, and again at every later full collection).


def run(options: CheckOptions) -> Report:
    with paused_gc():
        report, _ = _finish(_prepare(options))
        gc.freeze()
    return report


def run_rendered(
    options: CheckOptions, format_: str, render: RenderOptions
) -> tuple[Report, Tally, Iterable[bytes]]:
    """The run's report, the tally of its findings, and the report in `format_`, as
    chunks to be consumed once. The report holds only what the format lists: no
    finding for a JSON report of the native engine (rendered from each rule's blocks,
    by the processes that evaluated them when it is large), the failures and errors for
    the text format without `--verbose`."""
    from zenpolicy import sharded

    chunks: Iterable[bytes]
    with paused_gc():
        prepared = _prepare(options)
        exiting.keep(prepared)  # in a process that ends with the command, never freed
        shards = sharded.shards(prepared, format_)
        if shards > 1:
            head, tally, chunks = sharded.json_report(prepared, shards)
        elif format_ == "json" and options.engine == "native":
            # One process: the same blocks, rendered in order, the passes never built.
            head, tally, chunks = sharded.json_report_serial(prepared)
        elif format_ == "text" and not render.verbose and options.engine == "native":
            # The text report lists failures and errors only: the others are counted
            # (the tally) and, evaluated in other processes, never sent back.
            head, tally = _finish_listed(prepared, frozenset({Status.FAIL, Status.ERROR}))
            chunks = text.stream(head, render, tally=tally)
        else:
            head, _ = _finish(prepared)
            tally, chunks = head.tally(), FORMATS[format_](head, render)
        gc.freeze()
    return head, tally, chunks


class _Catalogue:
    """The run's catalogue, read the first time it is asked for: then its value, or
    its error raised again. `_prepare` has it read while other processes parse the
    inventory's files (`load_inventory`'s `meanwhile`), and asks again after."""

    def __init__(self, options: CheckOptions) -> None:
        self.options = options
        self.value: Catalogue | None = None
        self.error: Exception | None = None

    def __call__(self) -> Catalogue:
        if self.error is not None:
            raise self.error
        if self.value is None:
            try:
                self.value = self._read()
            except Exception as exc:
                self.error = exc
                raise
        return self.value

    def _read(self) -> Catalogue:
        options = self.options
        with timings.stage("catalogue"):
            # `--no-cache` means no cache at all: the rules are read from their files.
            reuse = not options.extra.get("no_cache")
            catalogue = load_catalogue(options.policies, reuse=reuse).select(options.select, options.skip)
        if options.engine not in ("native", "opa"):
            raise UsageError(f"unknown engine {options.engine!r} (native or opa)")
        if options.engine == "opa" and options.opa is None:
            raise UsageError("--engine opa needs --opa-url")
        return catalogue


def _prepare(options: CheckOptions) -> Prepared:
    # The catalogue is read while the inventory's files are parsed by other processes
    # (at 10k resources it is a sixth of a run), and it is still what fails first: an
    # error of the catalogue (or of the options it checks) is raised rather than the
    # inventory's, as when the catalogue was read before the inventory.
    read_catalogue = _Catalogue(options)
    try:
        loaded = load_inventory(options.path, jobs=options.jobs, meanwhile=read_catalogue)
    except Exception:
        read_catalogue()
        raise
    catalogue = read_catalogue()
    as_of = parse_as_of(options.as_of or loaded.config.as_of or today())
    if problems := config_problems(catalogue.params, loaded.config, options.path):
        raise InputError(problems)
    params = resolve_params(catalogue.params, loaded.config.params, options.params)
    return Prepared(options, catalogue, loaded, as_of, params)


def _finish_listed(prepared: Prepared, keep: frozenset[Status]) -> tuple[Report, Tally]:
    """The report holding only the findings whose status is in `keep`, and the tally of
    them all (native engine)."""
    report, tally = _finish(prepared, keep)
    assert tally is not None  # asked for with `keep`
    return report, tally


def _finish(prepared: Prepared, keep: frozenset[Status] | None = None) -> tuple[Report, Tally | None]:
    """The report (of the findings whose status is in `keep`, native engine, with the
    tally of them all; None: every finding, no tally)."""
    options, catalogue, inventory = prepared.options, prepared.catalogue, prepared.loaded.inventory
    params = prepared.params
    tally = None
    if options.engine == "native":
        with timings.stage("evaluate"):
            findings, tally = NativeEngine(catalogue.rules).evaluate_kept(
                inventory,
                as_of=prepared.as_of,
                params=params.values,
                display_params=params.display,
                jobs=options.jobs,
                keep=keep,
            )
    else:
        from zenpolicy.engines import opa  # type: ignore[attr-defined,unused-ignore]

        assert options.opa is not None and keep is None  # checked by _prepare; text: native only
        findings = opa.evaluate(
            catalogue.rules,
            inventory,
            as_of=prepared.as_of,
            params=params.values,
            display_params=params.display,
            options=options.opa,
            rego_modules=options.rego_modules,
        )
    with timings.stage("sort"):
        ordered = sort_findings(findings)
    return prepared.report(ordered), tally
