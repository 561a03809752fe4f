"""The CPU time a process's cgroups allow it (zenpolicy/cpulimit.py), and the default
number of jobs that follows: in the cgroup files' own formats, and in a real cgroup
where this machine lets the tests make one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from zenpolicy.cpulimit import CGROUP_ROOT, cgroup_cpu_limit


def _tree(tmp_path: Path, cgroups: str, files: Mapping[str, str]) -> tuple[Path, Path]:
    """A /proc/self/cgroup holding `cgroups`, and a cgroup mount holding `files`."""
    proc = tmp_path / "cgroup"
    proc.write_text(cgroups, encoding="ascii")
    root = tmp_path / "sys-fs-cgroup"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text + "\n", encoding="ascii")
    return proc, root


def _v1(directory: str, quota: str) -> dict[str, str]:
    """A v1 cgroup's bandwidth files: `quota` microseconds of CPU time a 100 ms period."""
    return {f"{directory}/cpu.cfs_quota_us": quota, f"{directory}/cpu.cfs_period_us": "100000"}


@pytest.mark.parametrize(
    ("cgroups", "files", "limit"),
    [
        ("0::/ci/job\n", {"ci/job/cpu.max": "max 100000"}, None),
        ("0::/ci/job\n", {"ci/job/cpu.max": "150000 100000"}, 1.5),
        # The lowest limit of the cgroup and its ancestors applies.
        ("0::/ci/job\n", {"ci/cpu.max": "50000 100000", "ci/job/cpu.max": "200000 100000"}, 0.5),
        ("0::/\n", {"cpu.max": "200000 100000"}, 2.0),
        ("4:cpu,cpuacct:/docker/abc\n", _v1("cpu,cpuacct/docker/abc", "200000"), 2.0),
        # A container without its own cgroup namespace: its cgroup is the mount's top.
        ("4:cpu,cpuacct:/docker/abc\n", _v1("cpu,cpuacct", "100000"), 1.0),
        ("1:cpu:/\n", _v1("cpu", "-1"), None),
        ("1:cpu:/job\n", _v1("cpu/job", "50000"), 0.5),
        # Hybrid: the v1 cpu controller limits, the unified hierarchy has no cpu.max.
        ("1:cpu:/job\n0::/job\n", _v1("cpu/job", "25000"), 0.25),
        # Other controllers say nothing of CPU time.
        ("5:memory:/job\n", _v1("memory/job", "50000"), None),
        # Unreadable or malformed values are no limit.
        ("0::/job\n", {"job/cpu.max": "max"}, None),
        ("0::/job\n", {"job/cpu.max": "half 100000"}, None),
        ("0::/job\n", {"job/cpu.max": "50000 0"}, None),
        ("0::/job\n", {}, None),
        ("", {}, None),
    ],
    ids=[
        "v2-max",
        "v2-one-and-a-half",
        "v2-ancestor-lower",
        "v2-namespace-root",
        "v1-at-path",
        "v1-container-top",
        "v1-unlimited",
        "v1-half",
        "hybrid",
        "other-controller",
        "v2-max-alone",
        "v2-not-a-number",
        "v2-zero-period",
        "v2-no-file",
        "no-cgroups",
    ],
)
def test_the_limit_is_read_from_the_cgroup_files(
    tmp_path: Path, cgroups: str, files: Mapping[str, str], limit: float | None
) -> None:
    proc, root = _tree(tmp_path, cgroups, files)
    assert cgroup_cpu_limit(proc, root) == limit


def test_without_proc_there_is_no_limit(tmp_path: Path) -> None:
    assert cgroup_cpu_limit(tmp_path / "no-such-file", tmp_path) is None


@pytest.fixture
def half_cpu_cgroup() -> Iterator[Path]:
    """A real cgroup (v1 cpu controller) limited to half a CPU, removed after; the test
    is skipped where the machine does not let it be made (not root, no writable v1 cpu
    controller: on a cgroup v2 host, only the file formats above are tested)."""
    controller = CGROUP_ROOT / "cpu"
    group = controller / f"zenpolicy-test-{uuid.uuid4().hex[:12]}"
    try:
        group.mkdir()
    except OSError as exc:
        pytest.skip(f"cannot make a cgroup under {controller}: {exc.strerror or exc}")
    try:
        (group / "cpu.cfs_period_us").write_text("100000\n", encoding="ascii")
        (group / "cpu.cfs_quota_us").write_text("50000\n", encoding="ascii")
        yield group
    finally:
        group.rmdir()  # its only process has exited


def _in_cgroup(group: Path, code: str, env: Mapping[str, str] | None = None) -> str:
    """What `code` prints, run by Python in a process moved into `group` first."""
    done = subprocess.run(
        ["sh", "-c", f'echo $$ > "{group}/cgroup.procs" && exec "{sys.executable}" -c "$0"', code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return done.stdout.strip()


def test_a_process_limited_to_half_a_cpu_works_alone(half_cpu_cgroup: Path) -> None:
    code = (
        "from zenpolicy import cpulimit, parallel\n"
        "print(cpulimit.cgroup_cpu_limit(), parallel.usable_cpus(), parallel.default_jobs())"
    )
    environment = {"ZENPOLICY_JOBS": ""}
    assert _in_cgroup(half_cpu_cgroup, code, environment) == "0.5 1 1"
    # Asked for explicitly, jobs are what was asked.
    assert _in_cgroup(half_cpu_cgroup, code, {"ZENPOLICY_JOBS": "2"}).split()[-1] == "2"
