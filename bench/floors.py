"""What any `check` of an estate pays on this machine before zenpolicy's own work.

    python bench/floors.py bench/out/100000 --runs 5

The 2-second goal at 100k resources is measured against these: the least a CPython
program pays to start, to import what `check` imports, to parse the YAML (one process,
and two processes each parsing half the files, nothing sent back), and to write a
report holding every finding (the findings of an earlier `check --format json`, as
ready-made dicts: serialised by orjson, written as zenpolicy writes a report, in 1 MB
pieces written behind, synced and renamed; and their fingerprints). Each
figure is the median of `--runs` fresh processes. Nothing here validates, indexes or
evaluates anything: the sum is a lower bound, not an estimate.

Then what the machine's cores give, and what that means for `check` as it is: a fixed
pure-Python workload (dicts built, read and sorted, as bench/run.py's calibration) run
alone, then as two processes started together that share nothing. Each process of the
pair does its work at some fraction of the speed it had alone; the sum of the two
fractions is how many lone cores the machine is worth to a CPU-bound Python program
(2.0 for two real cores). The CPU time of one `check --jobs 1` (user and system),
divided by that, is the least wall time any sharing of that work among processes could
reach, with no overhead at all: the current code's own floor on this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from run import REPO, WORKLOAD, compile_bytecode  # bench/run.py, beside this file

# Each probe runs in a fresh interpreter and prints its own seconds.
_PARSE = """
import gc, os, sys, time
import yaml_rs
from zenpolicy.inventory.loader import discover
from zenpolicy.parallel import split_evenly
paths = discover(__import__("pathlib").Path(sys.argv[1]))
jobs = int(sys.argv[2])
gc.disable()
runs = split_evenly([p.stat().st_size for p in paths], jobs)
start = time.perf_counter()
pids = []
for run in runs[1:]:
    pid = os.fork()
    if pid == 0:
        for i in run:
            yaml_rs.loads(paths[i].read_text(encoding="utf-8"), parse_datetime=False)
        os._exit(0)
    pids.append(pid)
for i in runs[0]:
    yaml_rs.loads(paths[i].read_text(encoding="utf-8"), parse_datetime=False)
for pid in pids:
    os.waitpid(pid, 0)
print(time.perf_counter() - start)
"""

_REPORT = """
import gc, hashlib, json, os, sys, time
import orjson
from pathlib import Path
from zenpolicy.output import write_atomic_chunks
findings = json.loads(open(sys.argv[1], encoding="utf-8").read())["findings"]
gc.disable()
what = sys.argv[3]
start = time.perf_counter()
if what == "write":
    data = memoryview(orjson.dumps({"findings": findings}, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    # As zenpolicy writes a report: in pieces, written behind, synced, renamed.
    write_atomic_chunks(Path(sys.argv[2]), (data[i : i + (1 << 20)] for i in range(0, len(data), 1 << 20)))
else:
    sha = hashlib.sha256
    [sha(f"{f['rule_id']}\\0{f['address']}".encode()).hexdigest()[:16] for f in findings]
print(time.perf_counter() - start)
"""


# Run's calibration workload six times over: several seconds, so that the two
# processes' start-up skew is small against it.
_WORK = (
    "import time\nstart = time.perf_counter()\nfor _ in range(6):\n"
    + textwrap.indent(WORKLOAD, "    ")
    + "print(time.perf_counter() - start)\n"
)


def cores_worth(runs: int) -> tuple[float, float]:
    """The workload's median time alone, and the median over `runs` rounds of the sum of
    both processes' speed in a pair relative to it (see the module's docstring). Each
    round times the workload alone just before its pair: the host's speed moves within
    minutes, and a lone time from another moment would skew the ratio."""
    lone: list[float] = []
    sums: list[float] = []
    for _ in range(runs):
        alone = timed(_WORK, runs=1)
        pair = [
            subprocess.Popen([sys.executable, "-c", _WORK], stdout=subprocess.PIPE, text=True, cwd=REPO)
            for _ in range(2)
        ]
        seconds = [float(p.communicate()[0]) for p in pair]
        lone.append(alone)
        sums.append(sum(alone / s for s in seconds))
    return statistics.median(lone), statistics.median(sums)


def check_cpu(root: Path, report: Path, runs: int) -> float:
    """The median CPU time (user + system) of `check --jobs 1 --no-cache` on `root`."""
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True)\n"
        "if done.returncode not in (0, 1):  # 1: failing findings, as the estate has\n"
        "    sys.exit(done.stderr.decode())\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(u.ru_utime + u.ru_stime)\n"
    )
    argv = [sys.executable, "-m", "zenpolicy", "check", str(root), "--format", "json", "--output", str(report),
            "--no-cache", "--jobs", "1"]  # fmt: skip
    return timed(code, *argv, runs=runs)


def timed(code: str, *args: str, runs: int) -> float:
    seconds = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True, cwd=REPO
        )
        seconds.append(float(done.stdout.strip().splitlines()[-1]))
    return statistics.median(seconds)


def wall(argv: list[str], runs: int) -> float:
    code = (
        "import subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "subprocess.run(sys.argv[1:], check=True)\n"
        "print(time.perf_counter() - start)\n"
    )
    return timed(code, *argv, runs=runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="an inventory directory (bench/out/100000)")
    parser.add_argument("--runs", type=int, default=5)
    opts = parser.parse_args()
    root = opts.root.resolve()
    compile_bytecode()  # as `pip install` does (see bench/run.py)
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        env = {**os.environ, "ZENPOLICY_JOBS": "2"}
        subprocess.run(
            [sys.executable, "-m", "zenpolicy", "check", str(root), "--format", "json", "--output", str(report),
             "--no-cache"],
            cwd=REPO, env=env, capture_output=True, check=False,
        )  # fmt: skip
        findings = len(json.loads(report.read_text(encoding="utf-8"))["findings"])
        rows = [
            ("interpreter start (python -c pass)", wall([sys.executable, "-c", "pass"], opts.runs)),
            (
                "imports of `check` (python -c 'import zenpolicy.cli')",
                wall([sys.executable, "-c", "import zenpolicy.cli"], opts.runs),
            ),
            ("parse: yaml-rs, one process", timed(_PARSE, str(root), "1", runs=opts.runs)),
            (
                "parse: yaml-rs, two processes (nothing sent back)",
                timed(_PARSE, str(root), "2", runs=opts.runs),
            ),
            (
                f"report: {findings:,} ready-made findings serialised (orjson), written, synced",
                timed(_REPORT, str(report), str(Path(tmp) / "out.json"), "write", runs=opts.runs),
            ),
            (
                f"report: {findings:,} fingerprints (SHA-256)",
                timed(_REPORT, str(report), "", "hash", runs=opts.runs),
            ),
        ]
    print(f"{root}: {findings:,} findings; medians of {opts.runs} fresh processes; {os.cpu_count()} CPUs")
    for what, seconds in rows:
        print(f"  {seconds:6.3f} s  {what}")
    # The interpreter's start is part of the imports' figure (both are whole processes).
    floor = rows[1][1] + rows[3][1] + rows[4][1] + rows[5][1]
    print(f"  {floor:6.3f} s  lower bound: imports + parse on two processes + report + fingerprints")
    alone, worth = cores_worth(opts.runs)
    with tempfile.TemporaryDirectory() as tmp:
        cpu = check_cpu(root, Path(tmp) / "report.json", opts.runs)
    print(f"  {alone:6.3f} s  a fixed pure-Python workload alone; two at once: worth {worth:.2f} lone cores")
    print(f"  {cpu:6.3f} s  CPU time of `check --jobs 1` (user + system)")
    print(f"  {cpu / worth:6.3f} s  least wall time of that work shared with no overhead ({worth:.2f} cores)")
    print(f"  {2 * worth:6.3f} s  the one-process CPU time at which 2 s becomes possible at all")


if __name__ == "__main__":
    main()
