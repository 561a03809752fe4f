"""Which rules cost the most on an estate: each rule evaluated and rendered alone.

    python bench/rules.py bench/out/100000 --runs 3 --top 20

The estate is loaded once, in this process, as `check --jobs 1 --no-cache` loads it;
then, `--runs` times, every rule of the catalogue (or of `--select`) is evaluated as
the one-process JSON report evaluates it (`sharded._rule_parts`: its failures built,
its passes counted with their evidence) and its blocks rendered to bytes, each timed
apart. Printed: the machine, the estate's size, the medians summed over all rules, and
the `--top` rules by evaluation time, with their subjects (resources in the rule's
scope), findings that fail, and microseconds per subject.

Each round starts with what a run starts with (a new `Env`: no relation table, no
measured text, no `where` selection kept from an earlier round), but the inventory's
attribute positions, once computed, stay: the first round pays for the failing
findings' positions, later ones mostly do not, so the medians are a little below what
a cold run spends on rules with many failures. Use it to find where to look, and
`bench/compare.py` to measure a change.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections import defaultdict
from pathlib import Path

from run import machine  # bench/run.py, beside this file

from zenpolicy import check, sharded
from zenpolicy.api import CheckOptions
from zenpolicy.cli_check import split_patterns
from zenpolicy.engines.compile import Env
from zenpolicy.model import Status

Row = dict[str, float | str | int]


def profile(root: Path, runs: int, select: tuple[str, ...] = ()) -> tuple[int, list[Row]]:
    """The estate's resources, and per rule: the median seconds to evaluate and to
    render, its subjects and failures (the costliest to evaluate first)."""
    prepared = check._prepare(CheckOptions(path=root, jobs=1, select=select, extra={"no_cache": True}))
    inventory, params = prepared.loaded.inventory, prepared.params
    evaluate: dict[str, list[float]] = defaultdict(list)
    render: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, tuple[int, int]] = {}
    gc.disable()  # as `check` evaluates: the collector paused
    try:
        for _ in range(runs):
            env = Env(inventory=inventory, as_of=prepared.as_of, params=params.values)
            for rule in prepared.catalogue.rules:
                start = time.perf_counter()
                findings, passed, parts = sharded._rule_parts(rule, env, params.display)
                middle = time.perf_counter()
                for _, part in parts:
                    for _ in part():
                        pass
                end = time.perf_counter()
                evaluate[rule.id].append(middle - start)
                render[rule.id].append(end - middle)
                failed = sum(1 for f in findings if f.status is Status.FAIL)
                judged = sum(1 for f in findings if f.status is not Status.NOT_APPLICABLE)
                counts[rule.id] = (len(passed) + judged, failed)
    finally:
        gc.enable()
    rows: list[Row] = []
    for rule_id, times in evaluate.items():
        subjects, failed = counts[rule_id]
        rows.append(
            {
                "rule": rule_id,
                "evaluate": statistics.median(times),
                "render": statistics.median(render[rule_id]),
                "subjects": subjects,
                "failed": failed,
            }
        )
    return len(inventory), sorted(rows, key=lambda row: (-float(row["evaluate"]), str(row["rule"])))


def show(root: Path, resources: int, rows: list[Row], runs: int, top: int) -> str:
    m = machine()
    total_eval = sum(float(r["evaluate"]) for r in rows)
    total_render = sum(float(r["render"]) for r in rows)
    lines = [
        f"{root}: {resources:,} resources, {len(rows)} rules; {m['cpu']}, {m['cores']} cores, Python {m['python']}; "
        f"medians of {runs} rounds in one process",
        f"all rules: evaluate {total_eval:.3f} s, render {total_render:.3f} s",
        "",
        "| rule | evaluate ms | render ms | subjects | failing | us per subject |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows[:top]:
        evaluate, subjects = float(row["evaluate"]), int(row["subjects"])
        per = f"{evaluate / subjects * 1e6:.1f}" if subjects else "-"
        lines.append(
            f"| {row['rule']} | {evaluate * 1e3:.1f} | {float(row['render']) * 1e3:.1f} | "
            f"{subjects:,} | {int(row['failed']):,} | {per} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="an inventory directory (bench/out/100000)")
    parser.add_argument("--runs", type=int, default=3, help="rounds over the catalogue (medians)")
    parser.add_argument("--top", type=int, default=20, help="rules listed, the costliest first")
    parser.add_argument("--select", action="append", default=[], help="rule patterns, as `check --select`")
    opts = parser.parse_args(argv)
    if not opts.root.is_dir():
        parser.error(f"no inventory directory at {opts.root}")
    select = split_patterns(tuple(opts.select))
    resources, rows = profile(opts.root.resolve(), opts.runs, select)
    print(show(opts.root, resources, rows, opts.runs, opts.top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
