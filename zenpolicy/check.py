"""`check`: load the catalogue and the inventory, evaluate, and assemble the Report."""

from __future__ import annotations

import datetime as dt
import gc

from zenpolicy import __version__
from zenpolicy.api import CheckOptions
from zenpolicy.engines.native import evaluate
from zenpolicy.errors import UsageError
from zenpolicy.inventory import load_inventory
from zenpolicy.model import Report, sort_findings
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.timeutil import parse_as_of, today


def run(options: CheckOptions) -> Report:
    catalogue = load_catalogue(options.policies).select(options.select, options.skip)
    loaded = load_inventory(options.path)
    as_of = parse_as_of(options.as_of or loaded.config.as_of or today())
    params = resolve_params(catalogue.params, loaded.config.params, options.params)
    if options.engine == "native":
        findings = evaluate(
            catalogue.rules,
            loaded.inventory,
            as_of=as_of,
            params=params.values,
            display_params=params.display,
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
    # The inventory and the findings (millions of objects at 100k resources, none in a
    # cycle) live until the report is written: out of the collector's sight from now
    # on, or its next full collection walks them all again (0.5 s at 100k).
    gc.freeze()
    generated = options.extra.get("generated_at")
    return Report(
        tool_version=__version__,
        as_of=as_of.text,
        engine=options.engine,
        inventory=options.path.as_posix(),
        inputs=loaded.inputs,
        params=dict(params.display),
        rules=tuple(r.info() for r in catalogue.rules),
        findings=sort_findings(findings),
        resources=len(loaded.inventory),
        generated_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds") if generated else None,
    )
