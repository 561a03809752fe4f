"""Compare two revisions of zenpolicy on one estate, their runs interleaved.

    python bench/compare.py 2c14987 HEAD --size 100000 --runs 8

This machine's speed moves by half within minutes (bench/README.md): two series taken
an hour apart can differ by more than the change between them. Here each round runs
both revisions, A then B or B then A in turn (a drift favours neither), and what is
printed for each figure is the median of each revision, the median of the paired
differences B - A, and in how many rounds B was the faster.

Each revision is exported with `git archive` (zenpolicy/, policies/, schemas/) into a
temporary directory, its bytecode written (as `pip install` does), and run by this
interpreter from that directory, so that it imports its own `zenpolicy`; every run is
`check ESTATE --no-cache` in a fresh process (`--format json` writes the report to a
file, `--format text` to standard output). Figures: the wall time, the CPU time of the
process and its children (user and system: it moves less than the wall time when the
host is busy), the peak memory of the process and of its largest child, and
zenpolicy's own stage timings. The two
revisions' reports must be the same bytes, or the comparison says so: a change made
for speed must not change what is reported.

The estate is bench/out/SIZE (made by `bench/run.py`), or `--estate DIR`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from run import (
    CHECKOV_RULES,
    OUT,
    REPO,
    calibrate,
    compile_bytecode,
    cores_text,
    machine,
    py,
    run_child,
    stage_times,
)

EXPORTED = ("zenpolicy", "policies", "schemas")


def export(revision: str, target: Path) -> str:
    """`revision`'s sources, bytecode written, in `target`; returns its short hash."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", f"{revision}^{{commit}}"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout.strip()  # fmt: skip
    archive = subprocess.run(
        ["git", "archive", "--format=tar", commit, *EXPORTED], capture_output=True, check=True, cwd=REPO
    ).stdout
    target.mkdir(parents=True)
    # Our own repository's files, unpacked by tar: `extractall(filter=...)` came with
    # Python 3.11.4, and Debian 12's optimised 3.11.2 (the project's interpreter on its
    # machine, see docs/performance.md) lacks it.
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    compile_bytecode(target / "zenpolicy")
    return commit


def measure(
    source: Path, estate: Path, fmt: str, jobs: int | None, tmp: Path, select: str | None = None
) -> tuple[dict[str, float], bytes]:
    """One `check` of `estate` by the sources in `source`: its figures and its report."""
    report = tmp / "report.json"
    argv = py("zenpolicy", "check", str(estate), "--no-cache")
    if fmt == "json":
        argv += ["--format", "json", "--output", str(report)]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    if select is not None:
        argv += ["--select", select]
    env = {
        **os.environ,
        "PYTHONPATH": str(source),
        "ZENPOLICY_TIMINGS": "1",
        "ZENPOLICY_CACHE_DIR": str(tmp / "cache"),
    }
    wall, peak, out, err = run_child(argv, env, cwd=source)
    figures = {
        "wall": wall,
        "cpu": peak["cpu_ms"] / 1000,
        "peak_mb": float(peak["self"]),
        "child_peak_mb": float(peak["children"]),
    }
    figures |= stage_times(err)
    return figures, report.read_bytes() if fmt == "json" else out.encode()


def paired(a: list[float], b: list[float]) -> dict[str, float]:
    """The medians of `a` and `b`, the median of the differences `b[i] - a[i]`, and the
    number of rounds where `b` was below `a`."""
    differences = [y - x for x, y in zip(a, b, strict=True)]
    return {
        "a": statistics.median(a),
        "b": statistics.median(b),
        "difference": statistics.median(differences),
        "b_lower": sum(1 for d in differences if d < 0),
    }


def compare(
    revisions: tuple[str, str], estate: Path, runs: int, fmt: str, jobs: int | None, select: str | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        sources = [tmp / "a", tmp / "b"]
        commits = [export(revision, source) for revision, source in zip(revisions, sources, strict=True)]
        series: list[list[dict[str, float]]] = [[], []]
        same = True
        speed = [calibrate()]
        for round_ in range(runs):
            reports: list[bytes] = [b"", b""]
            for side in (0, 1) if round_ % 2 == 0 else (1, 0):
                figures, reports[side] = measure(sources[side], estate, fmt, jobs, tmp, select)
                series[side].append(figures)
            same = same and reports[0] == reports[1]
        speed.append(calibrate())
    names = [name for name in series[0][0] if all(name in run for side in series for run in side)]
    return {
        "revisions": {"a": f"{revisions[0]} ({commits[0]})", "b": f"{revisions[1]} ({commits[1]})"},
        "estate": str(estate),
        "format": fmt,
        "jobs": jobs,
        "select": select,
        "runs": runs,
        "same_report": same,
        "calibration": speed,
        "machine": machine(),
        "figures": {
            name: paired([run[name] for run in series[0]], [run[name] for run in series[1]]) for name in names
        },
    }


def show(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"A = {result['revisions']['a']}, B = {result['revisions']['b']}",
        f"{result['estate']}, --format {result['format']}, --jobs {result['jobs'] or 'default'}, "
        + (f"--select {result['select']}, " if result.get("select") else "")
        + f"{result['runs']} rounds interleaved; {m['cpu']}, {cores_text(m)}, Python {m['python']}; "
        f"calibration {result['calibration'][0]:.3f} / {result['calibration'][1]:.3f} s",
        f"same report: {'yes' if result['same_report'] else 'NO: the revisions report differently'}",
        "",
        "| figure | A (median) | B (median) | B - A (median of pairs) | B lower in |",
        "|---|---|---|---|---|",
    ]
    for name, f in result["figures"].items():
        unit = " MB" if name.endswith("_mb") else " s"
        digits = 0 if unit == " MB" else 3
        lines.append(
            f"| {name} | {f['a']:.{digits}f}{unit} | {f['b']:.{digits}f}{unit} | "
            f"{f['difference']:+.{digits}f}{unit} | {f['b_lower']} of {result['runs']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="a revision (commit, tag, branch)")
    parser.add_argument("b", help="another revision")
    parser.add_argument("--size", type=int, default=100_000, help="the estate bench/out/SIZE")
    parser.add_argument("--estate", type=Path, help="an inventory directory instead")
    parser.add_argument("--runs", type=int, default=8, help="rounds (one run of each revision)")
    parser.add_argument("--format", choices=("json", "text"), default="json")
    parser.add_argument("--jobs", type=int, help="zenpolicy's --jobs (default: its own)")
    parser.add_argument(
        "--select", help="zenpolicy's --select (`checkov`: the rules bench/run.py compares with Checkov)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    opts = parser.parse_args(argv)
    for revision in (opts.a, opts.b):
        known = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
            capture_output=True, check=False, cwd=REPO,
        )  # fmt: skip
        if known.returncode != 0:
            parser.error(f"{revision!r} is not a revision of this repository")
    estate = opts.estate or OUT / str(opts.size)
    if not estate.is_dir():
        parser.error(f"no estate at {estate}: run bench/run.py --sizes {opts.size} first, or give --estate")
    select = CHECKOV_RULES if opts.select == "checkov" else opts.select
    result = compare((opts.a, opts.b), estate.resolve(), opts.runs, opts.format, opts.jobs, select)
    print(show(result))
    if opts.json:
        opts.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["same_report"] else 1


if __name__ == "__main__":
    sys.exit(main())
