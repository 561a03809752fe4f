"""Generate a realistic, deterministic estate for benchmarks and equivalence tests.

    python bench/generate.py --resources 100000 --files 100 --seed 1 --out bench/out/100k

Every resource kind appears, in the shares of WEIGHTS; references always resolve (the
estate validates). The estate is built, not drawn at random: people hold accounts on
systems, servers host applications, backup schedules back servers, applications and
websites up, runs belong to schedules and restore tests to runs, releases take their
backup from the full job of the server that hosts them. So the relational rules count
what the estate really holds: a hosting server's successful full runs in 30 days
(BAK-04) are the runs of its own schedules.

Against the built-in catalogue (policies/) at the estate's as_of, 2026-11-26, from
2,000 resources up: every rule on a resource kind finds compliant resources and a
minority that violate it, and every organisation-wide rule passes (a DPO, valid
attestations of every topic, tested continuity plans, this year's black-box
penetration tests). Each violation is deliberate (a stale password, a laptop without
its firewall, a disabled backup job, a server with too few full backups, a release
whose backup failed...), drawn first from a neglected quarter of each kind, as in
life, and hides no other: the resources with a failing finding are exactly those
generated with a violation, about 13% of them. About 7% of the findings fail: 6.7% at
10,000 and 100,000 resources (seed 1), 7.1% at 2,000 (seed 5), which
tests/test_bench_generate.py holds between 5% and 15%.

The backup history is the export of a backup tool that keeps the last six runs of each
server's main full job, the last run of every other job and the runs taken before
releases. Hosting servers (those with client data, about 14% of the servers) are as
many as that history can back up properly; the others are backup, database, archive,
build, monitoring and admin servers. Below 2,000 resources the small kinds keep one
resource (MINIMUM_FROM): some rules then have no subject, or no violation.

The YAML is written the way people write it: block style, a few flow sequences and
mappings, comments, quoted and unquoted cron expressions, folded descriptions, dates
and date-times. Same arguments, same bytes.

The estate's model and its builders are the package bench/estate/ beside this file
(base: constants, Cron, Estate...; then people, applications, backups, devices,
governance: the builders of each group of kinds); this file runs the builders in
order, on one Estate and one random generator, and writes the files.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# The estate package beside this file: on the path when this file runs as a script, not
# when it is loaded by its path (tests/engine_helpers.py).
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from estate.applications import (
    build_applications,
    build_environments,
    build_releases,
    plan_applications,
    plan_releases,
)
from estate.backups import (
    build_backups,
    build_restore_tests,
    build_runs,
    build_servers,
    build_websites,
    plan_servers,
)
from estate.base import AS_OF, MINIMUM, MINIMUM_FROM, PREFIX, WEIGHTS, Estate, _name
from estate.devices import build_mobile_devices, build_workstations
from estate.governance import (
    build_access_reviews,
    build_attestations,
    build_breaches,
    build_documents,
    build_erasure_requests,
    build_incidents,
    build_maintenance,
    build_penetration_tests,
    build_slas,
    build_subprocessors,
)
from estate.people import build_accounts, build_password_policies, build_people, build_roles, build_systems

__all__ = ["AS_OF", "BUILDERS", "MINIMUM_FROM", "generate", "main", "plan_counts", "write"]


BUILDERS: list[Callable[[Estate], None]] = [
    build_people,
    build_roles,
    build_password_policies,
    build_systems,
    build_accounts,
    plan_applications,
    build_environments,
    plan_releases,
    plan_servers,
    build_backups,
    build_releases,
    build_runs,
    build_restore_tests,
    build_applications,
    build_servers,
    build_websites,
    build_workstations,
    build_mobile_devices,
    build_incidents,
    build_breaches,
    build_maintenance,
    build_subprocessors,
    build_attestations,
    build_documents,
    build_access_reviews,
    build_erasure_requests,
    build_penetration_tests,
    build_slas,
]


def plan_counts(total: int) -> dict[str, int]:
    """Resources per kind, summing exactly to `total` (at least one of each kind)."""
    if total < len(WEIGHTS):
        raise SystemExit(f"--resources must be at least {len(WEIGHTS)} (one per kind)")
    weight = sum(WEIGHTS.values())
    counts = {k: max(1, int(total * w / weight)) for k, w in WEIGHTS.items()}
    if total >= MINIMUM_FROM:
        for kind, least in MINIMUM.items():
            counts[kind] = max(counts[kind], least)
    counts["account"] += total - sum(counts.values())
    # The smallest estates: the kinds rounded up to one leave accounts too few; the
    # largest kinds give some back.
    while counts["account"] < 1:
        largest = max((k for k in counts if k != "account"), key=lambda k: counts[k])
        counts[largest] -= 1
        counts["account"] += 1
    return counts


def generate(total: int, files: int, seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    """The estate as {relative path: YAML text}, and a summary."""
    counts = plan_counts(total)
    estate = Estate(rng=random.Random(seed), counts=counts)
    for build in BUILDERS:
        build(estate)
    resources: list[tuple[str, str, list[str]]] = []
    for kind, n in counts.items():
        made = estate.lines[kind]
        assert len(made) == n, (kind, len(made), n)
        resources += [(kind, _name(PREFIX[kind], i), lines) for i, lines in enumerate(made)]
    files = max(1, min(files, total))
    per_file = -(-len(resources) // files)
    out: dict[str, str] = {}
    for f in range(files):
        chunk = resources[f * per_file : (f + 1) * per_file]
        if not chunk:
            break
        parts = [f"# Generated by bench/generate.py (seed {seed}), file {f + 1} of {files}.\n"]
        current = None
        for kind, name, lines in chunk:
            if kind != current:
                parts.append(f"{kind}:\n")
                current = kind
            parts.append(f"  {name}:\n")
            parts.extend(f"    {line}\n" for line in lines)
        out[f"{chunk[0][0]}/part-{f:04d}.yaml"] = "".join(parts)
    out["zenpolicy.yaml"] = f"organisation: Bench Corp (fictitious)\nas_of: {AS_OF}\n"
    violations = sum(len(v) for v in estate.violating.values())
    summary = {"resources": total, "files": len(out) - 1, "violations": violations, "counts": counts}
    return out, summary


def write(out_dir: Path, files: dict[str, str]) -> None:
    if out_dir.exists():
        shutil.rmtree(out_dir)
    for rel, text in files.items():
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, required=True)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="directory, replaced if it exists")
    args = parser.parse_args(argv)
    files, summary = generate(args.resources, args.files, args.seed)
    write(args.out, files)
    size = sum(len(t.encode()) for t in files.values())
    print(
        f"{args.out}: {summary['resources']} resources, {summary['violations']} with a violation, "
        f"{summary['files']} files, {size / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
