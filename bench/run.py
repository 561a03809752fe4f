"""Measure zenpolicy on generated estates: per-stage times, end to end, memory, ratios.

    python bench/run.py --sizes 10000,100000 --runs 5

For each size, every run is a fresh child process (cold: no zenpolicy cache, new
interpreter; the OS page cache is warm, as it is for a user who just saved a file):

* check: `python -m zenpolicy check DIR --format json --output F --no-cache`, timed
  from outside, once with `--jobs 1` (one process) and once with the default number of
  jobs, with each run's peak memory (the process's own, and its largest forked child's);
* stages: the same runs' own stage timings (`ZENPOLICY_TIMINGS=1`, printed by zenpolicy
  itself: catalogue, load, validate, build, evaluate, sort, report; with several jobs a
  large JSON report is evaluated and rendered in one stage, `evaluate+render`);
* text: `check DIR --no-cache` with the default format (text, failures only, to
  standard output) and jobs: what ops run;
* first run: the default command (default jobs, caches on) with an empty result cache
  and the rule catalogue stored by an earlier run: an inventory checked for the first
  time by a zenpolicy that has run before on the machine;
* rerun: the same command again with nothing changed (the result cache);
* parse floor: yaml-rs alone on the same files (no checks, no positions);
* Checkov (at 10k, `--checkov`): the same rules written as Checkov custom checks
  (bench/checkov/), against `check --select` of those rules.

Medians are printed (and written to --json). `--setup` generates missing estates and
creates bench/.venv-checkov with `pip install checkov` (git-ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
OUT = BENCH / "out"
CHECKOV_VENV = BENCH / ".venv-checkov"
CHECKOV = CHECKOV_VENV / "bin" / "checkov"

# The built-in rules that read only their own resource: the ones Checkov's YAML custom
# checks can express (a Checkov check sees one resource, not the inventory), each
# written again in bench/checkov/checks.py.
CHECKOV_RULES = (
    "AUTH-03a,AUTH-06,ACC-02b,SRV-01a,SRV-01b,SRV-02,SRV-04,BAK-06a,BAK-09,WEB-01a,MOB-01a,MOB-01b,"
    "MOB-02,WKS-01,WKS-02,WKS-03,WKS-04,WKS-05,WKS-06a,WKS-06b,SUB-01,SUB-02,DEV-02,GDPR-03b"
)

CHECKOV_IDS = ",".join("CKV_ZP_" + rule.replace("-", "_") for rule in CHECKOV_RULES.split(","))


# ---- inside a child process ---------------------------------------------------------------


def child_cache_hit(root: Path, output: Path) -> dict[str, float]:
    """What `check --output F` costs when its result is cached, without the command
    line's own imports: what `check` does (zenpolicy.cli_report.deliver: the key, hashing
    every input, then the entry replayed, which leaves F alone when it already holds the
    report). The first call fills the cache; run it twice and time the second."""
    start = time.perf_counter()
    from zenpolicy import api, cli_report
    from zenpolicy.api import CheckOptions
    from zenpolicy.formats import RenderOptions

    ran: list[CheckOptions] = []

    def counted(options: CheckOptions, format_: str, render: RenderOptions) -> Any:
        ran.append(options)
        return api.run_check_rendered(options, format_, render)

    # The name cli_report imported from zenpolicy.api, replaced in its namespace: a
    # run that happens anyway (a cache miss) is then known.
    vars(cli_report)["run_check_rendered"] = counted
    cli_report.deliver(CheckOptions(path=root), format_="json", render=RenderOptions(), output=output)
    return {"hit": time.perf_counter() - start, "was_hit": not ran}


def child_parse_floor(root: Path) -> dict[str, float]:
    """yaml-rs alone on the inventory's files: the least any YAML-reading tool pays."""
    import gc

    import yaml_rs

    from zenpolicy.inventory.loader import discover

    paths = discover(root)
    gc.disable()
    start = time.perf_counter()
    for path in paths:
        yaml_rs.loads(path.read_text(encoding="utf-8"), parse_datetime=False)
    return {"parse_floor": time.perf_counter() - start}


# ---- from the parent ------------------------------------------------------------------------


def run_child(
    argv: list[str], env: dict[str, str] | None = None, cwd: Path = REPO
) -> tuple[float, dict[str, int], str, str]:
    """Run a command; return (wall seconds, {"self", "children": peak RSS in MB, "cpu_ms":
    CPU time of the process and its children, user and system}, stdout, stderr). Raises
    on failure."""
    start = time.perf_counter()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd
    ) as proc:
        out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):  # 1 = failing findings, expected here
        raise RuntimeError(f"{argv} exited {proc.returncode}: {err[-2000:]}")
    peak = {"self": 0, "children": 0, "cpu_ms": 0}
    for line in err.splitlines():
        if line.startswith("BENCH_USAGE="):
            mine, children, cpu = line.split("=", 1)[1].split(",")
            peak = {"self": int(mine) // 1024, "children": int(children) // 1024, "cpu_ms": int(cpu)}
    return wall, peak, out, err


def stage_times(stderr: str) -> dict[str, float]:
    """The stage timings zenpolicy printed (`zenpolicy: timing: load 0.412 s`)."""
    times: dict[str, float] = {}
    for line in stderr.splitlines():
        if line.startswith("zenpolicy: timing: "):
            name, value, _ = line.removeprefix("zenpolicy: timing: ").split()
            times[name] = times.get(name, 0.0) + float(value)
    return times


# Runs a module (or this file's child modes) and reports the process's peak RSS, that
# of its largest child (forked workers), and the CPU time of both (user and system,
# milliseconds), on stderr at exit: each run's own. The CPU time moves less than the
# wall time when the host is busy, and shows work added or removed whichever process
# does it. zenpolicy's program ends its process without Python's exit (no `atexit`,
# zenpolicy/exiting.py): there the figures are printed as it leaves.
_WRAP = (
    "import atexit, resource, runpy, sys\n"
    "u = lambda who: resource.getrusage(who)\n"
    "said = []\n"
    "def usage():\n"
    "    if not said:\n"
    "        said.append(True)\n"
    "        print('BENCH_USAGE=%d,%d,%d' % ("
    "u(resource.RUSAGE_SELF).ru_maxrss, u(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "1000 * sum(x.ru_utime + x.ru_stime for x in (u(resource.RUSAGE_SELF), u(resource.RUSAGE_CHILDREN)))"
    "), file=sys.stderr)\n"
    "atexit.register(usage)\n"
    "try:\n"
    "    import zenpolicy.exiting as exiting\n"
    "except ImportError:\n"
    "    pass\n"
    "else:\n"
    "    leave = exiting.leave\n"
    "    exiting.leave = lambda done: (usage(), leave(done))\n"
    "target = sys.argv[1]\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(target, run_name='__main__', alter_sys=True) if not target.endswith('.py') "
    "else runpy.run_path(target, run_name='__main__')\n"
)


def py(*args: str) -> list[str]:
    return [sys.executable, "-c", _WRAP, *args]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except OSError:
        mem_kb = 0
    from zenpolicy.parallel import usable_cpus

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cpus": usable_cpus(),  # affinity, and a container's CPU limit: the default jobs
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "interpreter": sys.executable,
        "base_interpreter": base_interpreter(),
        "libpython": libpython(),
        "startup": interpreter_startup(),
        "platform": platform.platform(),
    }


def interpreter_startup(runs: int = 5) -> float:
    """The median time `python -c pass` takes with this interpreter: what its site
    hooks cost every process (a `.pth` file of the base installation importing certifi
    adds 20 ms on this machine's global Python; a virtualenv does not read it)."""
    return median([run_child([sys.executable, "-c", "pass"])[0] for _ in range(runs)])


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in ("zenpolicy", "yaml-rs", "jsonschema-rs", "pyyaml", "jsonschema"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "absent"
    if CHECKOV.exists():
        done = subprocess.run([str(CHECKOV), "--version"], capture_output=True, text=True, check=False)
        out["checkov"] = done.stdout.strip()
        # Shown beside the version: a Checkov environment left from another interpreter
        # (a run without --setup) would skew the ratio.
        out["checkov's python"] = venv_base(CHECKOV_VENV) or "unknown"
    return out


def generator_digest() -> str:
    """The digest of the generator's sources: bench/generate.py, then bench/estate/*.py
    sorted by name, each with its name and size (code moved from one file to the next
    changes it too), so that a change in any of them is seen."""
    sources = [BENCH / "generate.py", *sorted((BENCH / "estate").glob("*.py"), key=lambda p: p.name)]
    digest = hashlib.sha256()
    for path in sources:
        data = path.read_bytes()
        digest.update(f"{path.relative_to(BENCH)} {len(data)}\n".encode())
        digest.update(data)
    return digest.hexdigest()[:16]


def setup(sizes: list[int], files: int, seed: int, checkov: bool) -> None:
    for size in sizes:
        target = OUT / f"{size}"
        stamp = target / ".generated"
        # The generator's digest too: an estate made by an older generator is made again.
        digest = generator_digest()
        wanted = f"{size} {files} {seed} {digest}"
        if not stamp.exists() or stamp.read_text() != wanted:
            subprocess.run(
                [sys.executable, str(BENCH / "generate.py"), "--resources", str(size), "--files",
                 str(files), "--seed", str(seed), "--out", str(target)],
                check=True,
            )  # fmt: skip
            stamp.write_text(wanted)
    # Checkov runs on the interpreter zenpolicy runs on: a venv made from another one is
    # made again (two builds of CPython 3.11 differ by 10-30% on this machine:
    # docs/performance.md, "The interpreter").
    if checkov and (not CHECKOV.exists() or venv_base(CHECKOV_VENV) != base_interpreter()):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHECKOV_VENV)], check=True)
        subprocess.run([str(CHECKOV_VENV / "bin" / "pip"), "install", "-q", "checkov"], check=True)


def base_interpreter() -> str:
    """The interpreter this one's virtual environment was made from (itself, outside
    one), symbolic links resolved."""
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def venv_base(venv: Path) -> str | None:
    """The interpreter `venv` was made from (its pyvenv.cfg's `executable`, links
    resolved), or None when that is not written down."""
    try:
        text = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "executable":
            return os.path.realpath(value.strip())
    return None


def libpython() -> str:
    """`shared` when this process runs CPython from libpython*.so, `static` when the
    interpreter is linked into its executable. With the interpreter's path, it tells
    the builds apart: pyenv's default build here is shared and unoptimised, Debian's is
    static, with PGO and LTO. It does not say alone whether a build is optimised
    (some distributions ship an optimised shared libpython)."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "unknown"
    return "shared" if "/libpython" in maps else "static"


def compile_bytecode(package: Path = REPO / "zenpolicy") -> None:
    """Write zenpolicy's bytecode (of `package`: a revision's copy for bench/compare.py),
    as `pip install` does for an installed package. An
    editable install under `PYTHONDONTWRITEBYTECODE=1` (set on the project's machines)
    never writes it, and every run would compile the sources again: about 0.3 s, more
    than the whole evaluation at 10k, and not what a user of an installed zenpolicy pays."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(package)],
        check=True,
        stdout=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    )


WORKLOAD = (
    "rows = [{'name': f'r{i}', 'n': i % 97, 'ok': i % 3 == 0} for i in range(300_000)]\n"
    "rows.sort(key=lambda r: (r['n'], r['name']))\n"
    "sum(1 for r in rows if r['ok'] and r['n'] > 10)\n"
)
"""A fixed pure-Python workload shaped like zenpolicy's (dicts built, read and sorted):
the calibration below, and bench/floors.py's measure of the cores."""


def calibrate() -> float:
    """The median time of a fixed pure-Python workload shaped like zenpolicy's (dicts
    built, read and sorted), in a child process. The project's machine is shared and its
    speed has been seen to vary twofold within a day: this says how fast it was while a
    series ran, so that two series are compared only at similar values."""
    code = "import time\nt = time.perf_counter()\n" + WORKLOAD + "print(time.perf_counter() - t)\n"
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(5)
    ]
    return median(times)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def first_env(tmp: Path) -> dict[str, str]:
    """The environment of a first run: its own result cache, emptied by `fresh` before
    each run; the stored catalogue lives beside it (`<dir>-catalogue`) and stays."""
    return dict(os.environ, ZENPOLICY_CACHE_DIR=str(tmp / "first"))


def fresh(tmp: Path) -> None:
    """Empty the first run's result cache (its catalogue store stays)."""
    shutil.rmtree(tmp / "first", ignore_errors=True)


def bench_size(size: int, runs: int, with_checkov: bool, tmp: Path) -> dict[str, Any]:
    root = OUT / f"{size}"
    report = tmp / f"report-{size}.json"
    # A private cache: the runs' entries (about 195 MB each at 100k) stay out of the user's.
    env = dict(os.environ, ZENPOLICY_CACHE_DIR=str(tmp / "cache"))
    results: dict[str, list[float]] = {}

    def add(name: str, value: float) -> None:
        results.setdefault(name, []).append(value)

    for _ in range(runs):
        cmd = py("zenpolicy", "check", str(root), "--format", "json", "--output", str(report))
        timed = dict(env, ZENPOLICY_TIMINGS="1")
        for label, jobs in (("1", ["--jobs", "1"]), ("n", [])):
            wall, peak, _, err = run_child([*cmd, "--no-cache", *jobs], timed)
            add(f"check_{label}", wall)
            add(f"peak_{label}_mb", peak["self"])
            add(f"peak_{label}_child_mb", peak["children"])
            add(f"cpu_{label}", peak["cpu_ms"] / 1000)
            for name, value in stage_times(err).items():
                add(f"{name}_{label}", value)
        # What ops run: the text report (failures only) to standard output, default jobs.
        wall, _, _, _ = run_child(py("zenpolicy", "check", str(root), "--no-cache"), env)
        add("text_n", wall)
        _, _, out, _ = run_child(py(str(Path(__file__)), "--child-floor", str(root)))
        add("parse_floor", json.loads(out.splitlines()[-1])["parse_floor"])
        # A first run: the default command on an inventory never checked (the result
        # cache empty: the report is rendered, and recorded in it), by an installed
        # zenpolicy that has run before (its parsed rule catalogue stored, as after any
        # earlier run on the machine).
        fresh(tmp)
        wall, _, _, _ = run_child(cmd, first_env(tmp))
        add("first", wall)
        run_child(cmd, env)  # fills the cache, once `check` uses it
        wall, _, _, _ = run_child(cmd, env)
        add("rerun", wall)
        hit = py(str(Path(__file__)), "--child-hit", str(root), str(report))
        run_child(hit, env)
        for _attempt in range(3):
            # A miss here means the key changed between the two runs: someone edited
            # zenpolicy's sources meanwhile (they are part of the key). Fill again.
            wall, _, out, _ = run_child(hit, env)
            if json.loads(out.splitlines()[-1])["was_hit"]:
                add("cache_hit", wall)
                break
    out_row: dict[str, Any] = {k: median(v) for k, v in results.items()}
    out_row["size"] = size
    out_row["jobs"] = default_jobs()
    out_row["report_mb"] = round(report.stat().st_size / 1e6, 1)
    out_row["findings"] = sum(json.loads(report.read_text())["counts"].values())
    out_row["yaml_mb"] = round(sum(p.stat().st_size for p in root.rglob("*.yaml")) / 1e6, 1)
    if with_checkov and CHECKOV.exists():
        zen, zen_first, ck = [], [], []
        select = ["--select", CHECKOV_RULES]
        for _ in range(min(runs, 3)):
            cmd = py("zenpolicy", "check", str(root), "--format", "json", "--output", str(report), *select)
            # zenpolicy's half-second runs are the noisy side of the ratio on a shared
            # host: three of each per Checkov run (nine in all), Checkov's own taking 9 s.
            for _ in range(3):
                zen.append(run_child([*cmd, "--no-cache"], env)[0])
                fresh(tmp)
                zen_first.append(run_child(cmd, first_env(tmp))[0])
            ck_out = tmp / "checkov"
            argv = [
                str(CHECKOV), "-d", str(root), "--framework", "yaml", "--external-checks-dir",
                str(BENCH / "checkov"), "--check", CHECKOV_IDS, "-o", "json", "--output-file-path",
                str(ck_out), "--quiet", "--compact", "--skip-download",
            ]  # fmt: skip
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=REPO)
            ck.append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise RuntimeError(f"checkov failed: {done.stderr[-2000:]}")
        out_row["checkov_agrees"] = same_failures(ck_out / "results_json.json", report)
        out_row["zen_selected"] = median(zen)
        out_row["checkov"] = median(ck)
        out_row["checkov_ratio"] = median(ck) / median(zen)
        out_row["zen_selected_first"] = median(zen_first)
        out_row["checkov_ratio_first"] = median(ck) / median(zen_first)
    return out_row


def same_failures(checkov_json: Path, zen_json: Path) -> bool:
    """Whether Checkov and zenpolicy failed the same (rule, resource) pairs."""
    checkov = json.loads(checkov_json.read_text())
    theirs = {
        (c["check_id"].removeprefix("CKV_ZP_"), c["resource"].split(".yaml.")[1].rsplit(".CKV", 1)[0])
        for c in checkov["results"]["failed_checks"]
    }
    ours = {
        (f["rule_id"].replace("-", "_"), f["address"])
        for f in json.loads(zen_json.read_text())["findings"]
        if f["status"] == "fail"
    }
    return theirs == ours


STAGES_1 = ("catalogue", "load", "validate", "build", "evaluate", "sort", "report")
STAGES_N = ("catalogue", "load", "validate", "build", "evaluate+render", "report")


def cores_text(machine: dict[str, Any]) -> str:
    """`2 cores`, or `8 cores (2 usable)` where the affinity or a cgroup's CPU limit
    leaves fewer to zenpolicy than the machine has."""
    cores, usable = machine["cores"], machine.get("usable_cpus", machine["cores"])
    return f"{cores} cores" + (f" ({usable} usable)" if usable != cores else "")


def show(rows: list[dict[str, Any]], info: dict[str, Any]) -> str:
    lines = [
        f"machine: {info['machine']['cpu']}, {cores_text(info['machine'])}, "
        f"{info['machine']['ram_gb']} GB RAM, load average at start "
        f"{', '.join(f'{x:.2f}' for x in info['machine']['load_average'])}",
        "versions: " + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
        f"interpreter: {info['machine']['interpreter']} (python {info['machine']['python']}, made from "
        f"{info['machine'].get('base_interpreter', '?')}, libpython {info['machine'].get('libpython', '?')}; "
        f"`-c pass` takes {info['machine']['startup']:.3f} s)",
        f"host speed: the calibration loop took {info['calibration'][0]:.3f} s before the series and "
        f"{info['calibration'][1]:.3f} s after; before each size, in the table (compare figures only at "
        "similar values)",
        f"commit {info['commit']}; medians of {info['runs']} runs, seconds (wall clock):",
        "",
    ]
    jobs = rows[0]["jobs"] if rows else 1
    head = [
        "size",
        "YAML MB",
        "findings",
        "check -j 1",
        f"check -j {jobs}",
        "first run",
        "text",
        "rerun",
        "cache hit",
    ]
    head += [
        "floor",
        f"-j {jobs}/floor",
        "eval/(load+validate) (-j 1)",
        "peak MB -j 1",
        f"peak MB -j {jobs} (child)",
    ]
    head += ["calibration"]
    lines.append(" | ".join(head))
    lines.append(" | ".join("---" for _ in head))
    for row in rows:
        lines.append(
            " | ".join(
                [
                    f"{row['size']:,}",
                    f"{row['yaml_mb']}",
                    f"{row['findings']:,}",
                    f"{row['check_1']:.2f}",
                    f"{row['check_n']:.2f}",
                    f"{row['first']:.2f}",
                    f"{row['text_n']:.2f}",
                    f"{row['rerun']:.2f}",
                    f"{row['cache_hit']:.2f}",
                    f"{row['parse_floor']:.2f}",
                    f"{row['check_n'] / row['parse_floor']:.1f}x",
                    f"{row['evaluate_1'] / (row['load_1'] + row.get('validate_1', 0.0)):.2f}",
                    f"{row['peak_1_mb']:.0f}",
                    f"{row['peak_n_mb']:.0f} ({row['peak_n_child_mb']:.0f})",
                    f"{row['calibration']:.3f}",
                ]
            )
        )
    lines.append("")
    lines.append("stages, as zenpolicy times them (ZENPOLICY_TIMINGS=1):")
    lines.append("")
    names = [*STAGES_1[:-1], "evaluate+render", "report"]
    lines.append(" | ".join(["size", "jobs", *names]))
    lines.append(" | ".join("---" for _ in range(len(names) + 2)))
    for row in rows:
        for label, shown in (("1", "1"), ("n", str(row["jobs"]))):
            cells = [f"{row[f'{name}_{label}']:.2f}" if f"{name}_{label}" in row else "" for name in names]
            lines.append(" | ".join([f"{row['size']:,}", shown, *cells]))
    if len(rows) >= 2:
        small, big = rows[0], rows[-1]
        lines.append("")
        lines.append(
            f"growth {small['size']:,} -> {big['size']:,} ({big['size'] / small['size']:.0f}x resources): "
            f"check -j 1 {big['check_1'] / small['check_1']:.1f}x, "
            f"check -j {big['jobs']} {big['check_n'] / small['check_n']:.1f}x"
        )
    for row in rows:
        if "checkov" in row:
            lines.append(
                f"Checkov at {row['size']:,} ({CHECKOV_RULES.count(',') + 1} single-resource rules): "
                f"checkov {row['checkov']:.2f} s, zenpolicy check --select {row['zen_selected']:.2f} s, "
                f"{row['checkov_ratio']:.0f}x (first run {row['zen_selected_first']:.2f} s, "
                f"{row['checkov_ratio_first']:.0f}x); same failing (rule, resource) pairs: {row['checkov_agrees']}"
            )
    return "\n".join(lines)


def default_jobs() -> int:
    from zenpolicy.parallel import default_jobs as jobs

    return jobs()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--child-hit"]:
        print(json.dumps(child_cache_hit(Path(args[1]), Path(args[2]))))
        return
    if args[:1] == ["--child-floor"]:
        print(json.dumps(child_parse_floor(Path(args[1]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated resource counts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--checkov", action="store_true", help="compare with Checkov (at --checkov-size)")
    parser.add_argument("--checkov-size", type=int, default=10000)
    parser.add_argument("--setup", action="store_true", help="generate estates, install Checkov")
    parser.add_argument("--json", type=Path, help="also write the results here")
    opts = parser.parse_args(args)
    sizes = [int(s) for s in opts.sizes.split(",")]
    setup(sizes, opts.files, opts.seed, opts.checkov and opts.setup)
    compile_bytecode()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False, cwd=REPO
    ).stdout.strip()
    info: dict[str, Any] = {"machine": machine(), "versions": versions(), "runs": opts.runs, "commit": commit}
    rows: list[dict[str, Any]] = []
    speed = [calibrate()]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            before = calibrate() if rows else speed[0]
            rows.append(bench_size(size, opts.runs, opts.checkov and size == opts.checkov_size, Path(tmp)))
            rows[-1]["calibration"] = before
            print(f"  {size:,} done: {json.dumps(rows[-1])}", file=sys.stderr)
    speed.append(calibrate())
    info["calibration"] = speed
    text = show(rows, info)
    print(text)
    if opts.json:
        opts.json.write_text(json.dumps({"info": info, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
