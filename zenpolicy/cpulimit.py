"""The CPU time a process's cgroups allow it, which its CPU affinity does not show.

A CI job in a container limited to one CPU (`docker run --cpus 1`, a Kubernetes CPU
limit, a GitLab runner's `cpus`) still sees every CPU of its host in its affinity
mask; forking a process per CPU there shares one CPU's time among them, plus the
copies and transfers they cost. The limit is the cgroup's CPU bandwidth: `cpu.max`
(cgroup v2: `"max 100000"`, or a quota and a period in microseconds), or
`cpu.cfs_quota_us` over `cpu.cfs_period_us` (v1: a quota of -1 is no limit). The
lowest limit of the process's cgroup and of its ancestors applies.

Written by hand: `loky.cpu_count()` reads the same files, but importing loky costs
about 42 ms, a fifth of a small estate's whole run. Only Linux has cgroups; elsewhere,
or when a file cannot be read or parsed, there is no limit.
"""

from __future__ import annotations

from pathlib import Path

PROC_CGROUP = Path("/proc/self/cgroup")
CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_cpu_limit(proc: Path = PROC_CGROUP, root: Path = CGROUP_ROOT) -> float | None:
    """CPUs' worth of time this process's cgroups allow it (1.5: one and a half), or
    None when they set no limit. `proc`: the process's cgroup list; `root`: where the
    cgroup file systems are mounted."""
    text = _read(proc)
    if text is None:
        return None
    limits: list[float] = []
    for line in text.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:  # the unified (v2) hierarchy
            limits += _v2_limits(root, path)
        elif "cpu" in controllers.split(","):
            limits += _v1_limits(root, controllers, path)
    return min(limits) if limits else None


def _v2_limits(root: Path, path: str) -> list[float]:
    limits = []
    for directory in _ancestors(root, path):
        fields = (_read(directory / "cpu.max") or "").split()
        if len(fields) == 2 and fields[0] != "max":
            limits += _ratio(fields[0], fields[1])
    return limits


def _v1_limits(root: Path, controllers: str, path: str) -> list[float]:
    # The controller's hierarchy is mounted under the names of its controllers
    # (`cpu,cpuacct`), often with a link named after each; in a container without a
    # cgroup namespace, the container's own cgroup is mounted at the top, where `path`
    # (its host path) does not exist: the top of the mount is among the ancestors.
    # Resolved first, so that a link and the directory it names are read once.
    limits = []
    mounts = [root / controllers, root / "cpu", root / "cpu,cpuacct"]
    for mount in dict.fromkeys(mount.resolve() for mount in mounts):
        for directory in _ancestors(mount, path):
            quota, period = _read(directory / "cpu.cfs_quota_us"), _read(directory / "cpu.cfs_period_us")
            if quota is not None and period is not None:
                limits += _ratio(quota, period)
    return limits


def _ancestors(mount: Path, path: str) -> list[Path]:
    """The cgroup at `path` below `mount`, then each of its parents up to the mount."""
    parts = [part for part in path.split("/") if part not in ("", ".", "..")]
    return [mount.joinpath(*parts[:n]) for n in range(len(parts), -1, -1)]


def _ratio(quota: str, period: str) -> list[float]:
    """`[quota / period]` for a positive quota and period, else no limit (`[]`)."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return []
    return [q / p] if q > 0 and p > 0 else []


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
