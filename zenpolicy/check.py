"""`check`: load the catalogue and the inventory, evaluate, and assemble the Report."""

from __future__ import annotations

import datetime as dt
import gc

from zenpolicy import __version__, timings
from zenpolicy.api import CheckOptions
from zenpolicy.engines.native import evaluate
from zenpolicy.errors import UsageError
from zenpolicy.gcpause import paused_gc
from zenpolicy.inventory import load_inventory
from zenpolicy.model import Report, sort_findings
from zenpolicy.rules.loader import Catalogue, load_catalogue
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.timeutil import parse_as_of, today


def run(options: CheckOptions) -> Report:
    with timings.stage("catalogue"):
        catalogue = load_catalogue(options.policies).select(options.select, options.skip)
    # Loading, evaluating and sorting allocate millions of objects (the inventory, the
    # findings), none in a cycle, that live until the report is written: the cyclic
    # collector stays paused throughout, and they are frozen out of its sight before
    # it resumes, or its first collection after each stage walks them all (0.1 s each
    # at 100k resources, and again at every later full collection).
    with paused_gc():
        report = _run(options, catalogue)
        gc.freeze()
    return report


def _run(options: CheckOptions, catalogue: Catalogue) -> Report:
    loaded = load_inventory(options.path, jobs=options.jobs)
    as_of = parse_as_of(options.as_of or loaded.config.as_of or today())
    params = resolve_params(catalogue.params, loaded.config.params, options.params)
    if options.engine == "native":
        with timings.stage("evaluate"):
            findings = evaluate(
                catalogue.rules,
                loaded.inventory,
                as_of=as_of,
                params=params.values,
                display_params=params.display,
                jobs=options.jobs,
            )
    elif options.engine == "opa":
        from zenpolicy.engines import opa  # type: ignore[attr-defined,unused-ignore]

        if options.opa is None:
            raise UsageError("--engine opa needs --opa-url")
        findings = opa.evaluate(
            catalogue.rules,
            loaded.inventory,
            as_of=as_of,
            params=params.values,
            display_params=params.display,
            options=options.opa,
            rego_modules=options.rego_modules,
        )
    else:
        raise UsageError(f"unknown engine {options.engine!r} (native or opa)")
    generated = options.extra.get("generated_at")
    with timings.stage("sort"):
        ordered = sort_findings(findings)
    return Report(
        tool_version=__version__,
        as_of=as_of.text,
        engine=options.engine,
        inventory=options.path.as_posix(),
        inputs=loaded.inputs,
        params=dict(params.display),
        rules=tuple(r.info() for r in catalogue.rules),
        findings=ordered,
        resources=len(loaded.inventory),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if generated else None,
    )
