"""Generate a realistic, deterministic estate for benchmarks and equivalence tests.

    python bench/generate.py --resources 100000 --files 100 --seed 1 --out bench/out/100k

Every resource kind appears; references always resolve (the estate validates); about
10% of resources carry a policy violation (an old password, a disabled firewall, an
unencrypted backup...), so that rules produce failing findings with attribute
locations, as a real estate would. The YAML is written the way people write it: block
style, a few flow sequences and mappings, comments, quoted and unquoted cron
expressions, folded descriptions, dates and date-times. Same arguments, same bytes.
"""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AS_OF = "2026-11-26"

# Share of the estate per kind (relative weights), roughly what a hosting company with
# a few hundred staff and many small clients declares. Every kind gets at least one.
WEIGHTS: dict[str, float] = {
    "person": 8,
    "account": 22,
    "role": 0.2,
    "password_policy": 0.1,
    "system": 0.5,
    "application": 1,
    "environment": 1.5,
    "server": 8,
    "workstation": 7,
    "mobile_device": 4,
    "backup_schedule": 6,
    "backup_run": 14,
    "restore_test": 2,
    "website": 2.5,
    "release": 5,
    "incident": 2,
    "breach": 0.3,
    "maintenance": 3,
    "subprocessor": 0.5,
    "attestation": 1,
    "document": 1,
    "access_review": 2,
    "erasure_request": 1.5,
    "penetration_test": 0.4,
    "sla": 1,
}

VIOLATION_RATE = 0.10
"""Share of resources generated with one non-compliant attribute."""

FIRST = [
    "alice",
    "bruno",
    "chloe",
    "david",
    "emma",
    "farid",
    "gaelle",
    "hugo",
    "ines",
    "jules",
    "karima",
    "leo",
    "manon",
    "nicolas",
    "oceane",
    "paul",
    "quentin",
    "rose",
    "samir",
    "theo",
    "ursule",
    "victor",
    "wendy",
    "yanis",
]
LAST = [
    "martin",
    "bernard",
    "dubois",
    "thomas",
    "robert",
    "richard",
    "petit",
    "durand",
    "leroy",
    "moreau",
    "simon",
    "laurent",
    "lefebvre",
    "michel",
    "garcia",
    "david",
    "bertrand",
    "roux",
    "vincent",
    "fournier",
]
CRONS = ['"0 3 * * *"', "0 2 * * *", '"30 1 * * 1-5"', "0 */6 * * *", '"15 4 * * 0"', "'0 0 1 * *'"]
COUNTRIES = ["FR", "FR", "FR", "FR", "DE", "NL", "BE", "US"]


def _name(prefix: str, i: int) -> str:
    return f"{prefix}-{i:06d}"


@dataclass
class Estate:
    rng: random.Random
    counts: dict[str, int]
    resources: list[tuple[str, str, list[str]]] = field(default_factory=list)
    """(kind, name, YAML lines of its attributes, indented by 4)."""
    violations: int = 0

    def pick(self, kind: str) -> str:
        return f"{kind}.{_name(PREFIX[kind], self.rng.randrange(self.counts[kind]))}"

    def date(self, lo_days: int = 0, hi_days: int = 300) -> str:
        # Days before AS_OF, written YYYY-MM-DD.
        import datetime as dt

        day = dt.date.fromisoformat(AS_OF) - dt.timedelta(days=self.rng.randint(lo_days, hi_days))
        return day.isoformat()

    def datetime(self, lo_days: int = 0, hi_days: int = 300) -> str:
        hour, minute = self.rng.randrange(24), self.rng.randrange(60)
        return f"{self.date(lo_days, hi_days)}T{hour:02d}:{minute:02d}:00Z"

    def bad(self) -> bool:
        if self.rng.random() < VIOLATION_RATE:
            self.violations += 1
            return True
        return False


PREFIX = {
    "person": "p",
    "account": "acc",
    "role": "role",
    "password_policy": "pwp",
    "system": "sys",
    "application": "app",
    "environment": "env",
    "server": "srv",
    "workstation": "ws",
    "mobile_device": "mob",
    "backup_schedule": "bks",
    "backup_run": "bkr",
    "restore_test": "rst",
    "website": "web",
    "release": "rel",
    "incident": "inc",
    "breach": "brc",
    "maintenance": "mnt",
    "subprocessor": "sub",
    "attestation": "att",
    "document": "doc",
    "access_review": "rev",
    "erasure_request": "era",
    "penetration_test": "pen",
    "sla": "sla",
}


def _person(e: Estate, i: int) -> list[str]:
    first, last = e.rng.choice(FIRST), e.rng.choice(LAST)
    left = e.bad()
    lines = [
        f"full_name: {first.capitalize()} {last.capitalize()}",
        f"email: {first}.{last}.{i}@example.org",
        f"job_title: {e.rng.choice(['Developer', 'Support engineer', 'Sales', 'Accountant', 'SRE'])}",
        "employer: internal",
        f"status: {'left' if left else 'active'}",
        f"started_on: {e.date(400, 3000)}",
    ]
    if left:
        lines.append(f"left_on: {e.date(10, 300)}")
    return lines


def _account(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    kind = e.rng.choice(["human"] * 8 + ["service", "shared"])
    lines = [f"system: {e.pick('system')}", f"username: u{i}", f"type: {kind}"]
    if kind == "human":
        lines.append(f"person: {e.pick('person')}")
    lines += [
        f"role: {e.pick('role')}",
        "status: active",
        "authentication: password",
        f"mfa_enabled: {'false' if bad and e.rng.random() < 0.5 else 'true'}",
        f"password_policy: {e.pick('password_policy')}",
        f"password_changed_on: {e.date(40, 200) if bad else e.date(0, 25)}",
        f"last_login: {e.datetime(0, 30)}",
    ]
    if kind != "human":
        lines.append("credential_storage: vault")
    return lines


def _role(e: Estate, i: int) -> list[str]:
    admin = i % 3 == 0
    return [
        f"description: Role number {i}",
        f"can_administer: {str(admin).lower()}",
        f"privileged: {str(admin).lower()}",
    ]


def _password_policy(e: Estate, i: int) -> list[str]:
    return [
        f"applies_to: {'administrator' if i % 2 else 'standard'}",
        f"min_length: {8 if e.bad() else 14}",
        "max_age_days: 30",
        "require_complexity: true",
    ]


def _system(e: Estate, i: int) -> list[str]:
    kind = ["identity_provider", "server_access", "password_vault", "application", "cloud_console"][i % 5]
    lines = [f"description: 'System {i}: {kind.replace('_', ' ')}'", f"type: {kind}", "vendor: Microsoft"]
    if kind == "identity_provider":
        lines += [f"tenant: tenant-{i}.onmicrosoft.com", "is_office365: true"]
    return lines


def _application(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    algo = "sha1" if bad else e.rng.choice(["argon2id", "bcrypt", "pbkdf2_sha256"])
    hosts = sorted({e.pick("server") for _ in range(3)})
    return [
        f"category: {e.rng.choice(['saas_product', 'management', 'internal'])}",
        "license: saas",
        "hosted_on:",
        *[f"  - {h}" for h in hosts],
        "password_hashing:",
        f"  algorithm: {algo}",
        "  salted: true",
        *(["  iterations: 600000"] if algo == "pbkdf2_sha256" else []),
        "logging: {accesses: true, actions: true, operations: true, timestamps: true, retention_days: 365}",
        f"tenant_isolation: {'none' if bad else 'per_tenant_database'}",
    ]


def _environment(e: Estate, i: int) -> list[str]:
    kind = ["production", "staging", "test", "development"][i % 4]
    data = "real" if kind == "production" or e.bad() else "fictitious"
    return [f"type: {kind}", f"application: {e.pick('application')}", f"data: {data}"]


def _server(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    roles = e.rng.sample(["hosting", "database", "backup", "monitoring", "build"], e.rng.randint(1, 2))
    lines = [
        f"provider: {e.rng.choice(['ovh', 'scaleway', 'in-house'])}",
        f"datacenter: {e.rng.choice(['gra', 'rbx', 'sbg', 'par'])}",
        f"country: {'US' if bad and e.rng.random() < 0.3 else 'FR'}",
        f"roles: [{', '.join(roles)}]",
        f"hosts_client_data: {str('hosting' in roles).lower()}",
    ]
    if "hosting" in roles:
        lines.append("data_categories: [identification, professional_life, connection]")
    lines += [
        f"disk_encryption: {'false' if bad else 'true'}",
        "automatic_updates: security",
        f"last_patched_on: {e.date(60, 200) if bad else e.date(0, 20)}",
        "admins:",
        *[f"  - {a}" for a in sorted({e.pick("account") for _ in range(e.rng.randint(1, 3))})],
        f"environment: {e.pick('environment')}",
    ]
    if "backup" in roles:
        lines += ["archive:", "  method: object_storage", "  encrypted: true"]
    return lines


def _workstation(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    return [
        f"type: {e.rng.choice(['laptop', 'desktop'])}",
        f"assigned_to: {e.pick('person')}",
        f"os: {e.rng.choice(['Windows 11 23H2', 'macOS 14.5', 'Ubuntu 24.04'])}",
        "individual_login: true",
        f"screen_lock_minutes: {30 if bad else 5}",
        f"firewall_enabled: {'false' if bad and e.rng.random() < 0.5 else 'true'}",
        "antivirus_enabled: true",
        f"antivirus_updated_on: {e.date(0, 3)}",
        "automatic_updates: true",
        "data_backed_up: true",
        "application_allowlisting: false",
        "user_is_local_admin: false",
        "disk_encryption: true",
    ]


def _mobile_device(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    return [
        f"type: {e.rng.choice(['smartphone', 'tablet'])}",
        f"assigned_to: {e.pick('person')}",
        f"encrypted: {'false' if bad else 'true'}",
        f"lock: {'none' if bad else e.rng.choice(['pin', 'biometric'])}",
    ]


def _backup_schedule(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    return [
        f"source: {e.pick('server')}",
        f"target: {e.pick('server')}",
        f"type: {e.rng.choice(['incremental', 'full'])}",
        f"schedule: {e.rng.choice(CRONS)}",
        f"encrypted: {'false' if bad else 'true'}",
        "on_release: true",
        "enabled: true",
        f"retention_days: {e.rng.choice([30, 90, 365])}",
    ]


def _backup_run(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    start = e.datetime(0, 60)
    return [
        f"schedule: {e.pick('backup_schedule')}",
        f"type: {e.rng.choice(['incremental', 'full'])}",
        f"started_at: {start}",
        f"ended_at: {start[:11]}23:59:00Z",
        f"status: {'failed' if bad else 'success'}",
        f"size_bytes: {e.rng.randrange(10**6, 10**12)}",
    ]


def _restore_test(e: Estate, i: int) -> list[str]:
    return [
        f"source: {e.pick('server')}",
        f"tested_on: {e.date(0, 400)}",
        f"result: {'failed' if e.bad() else 'success'}",
        f"backup_run: {e.pick('backup_run')}",
        "notes: >",
        "  Restored the latest full backup on a scratch server and",
        "  compared row counts with production.",
    ]


def _website(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    return [
        f"url: https://site-{i}.example.com",
        f"https_only: {'false' if bad else 'true'}",
        "http_redirect: true",
        f'min_tls_version: "{"1.0" if bad else "1.2"}"',
        f"certificate_expires_on: {e.date(-200, -1)}",
        f"last_changed_at: {e.datetime(0, 90)}",
        f"hosted_on: {e.pick('server')}",
    ]


def _release(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    on_prem = i % 4 == 0
    lines = [
        f"application: {e.pick('application')}",
        f'version: "{i // 100}.{i % 100}.{e.rng.randrange(10)}"',
        f"deployment: {'on_premise' if on_prem else 'saas'}",
        f"environment: {e.pick('environment')}",
        f"released_at: {e.datetime(0, 200)}",
        f"tests: {'skipped' if bad else 'passed'}",
        f"pre_release_backup: {e.pick('backup_run')}",
    ]
    if on_prem:
        lines += ["client_authorisation:", f"  reference: AUTH-{i}", f"  granted_on: {e.date(200, 400)}"]
    return lines


def _incident(e: Estate, i: int) -> list[str]:
    closed = not e.bad()
    lines = [
        f"identifier: INC-{i}",
        f'title: "Incident #{i}: unexpected outage"',
        f"detected_at: {e.datetime(30, 300)}",
        f"status: {'closed' if closed else 'open'}",
        f"severity: {e.rng.choice(['low', 'medium', 'high'])}",
    ]
    if closed:
        lines += [f"closed_at: {e.datetime(0, 29)}", "root_cause: Misconfigured firewall rule"]
    return lines


def _breach(e: Estate, i: int) -> list[str]:
    found = e.datetime(10, 200)
    lines = [f"incident: {e.pick('incident')}", "personal_data: true", f"discovered_at: {found}"]
    if not e.bad():
        lines.append(f"client_notified_at: {found[:11]}23:00:00Z")
    return [*lines, "description: Exposure of a support export"]


def _maintenance(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    start = e.datetime(0, 200)
    lines = [
        "nature: Disk replacement",
        f"performed_by: {e.pick('person')}",
        "third_party: true",
        "remote: true",
        "client_system: false",
        f"started_at: {start}",
        f"ended_at: {start[:11]}23:30:00Z",
        f"target: {e.pick('server')}",
    ]
    if not bad:
        lines.insert(2, f"supervised_by: {e.pick('person')}")
    return lines


def _subprocessor(e: Estate, i: int) -> list[str]:
    bad = e.bad()
    return [
        f"legal_name: Subprocessor {i} SAS",
        f"country: {'US' if bad else 'FR'}",
        "service: Hosting",
        f"contact: {e.pick('person')}",
        "gdpr_clauses: true",
        f"on_client_list: {'false' if bad else 'true'}",
        f"started_on: {e.date(100, 900)}",
    ]


def _attestation(e: Estate, i: int) -> list[str]:
    return [
        "topic: staff_confidentiality",
        "statement: |",
        "  Every member of staff signed the confidentiality clause;",
        "  signed copies are kept by HR.",
        f"attested_by: {e.pick('person')}",
        f"attested_on: {e.date(0, 300)}",
        f"valid_until: {e.date(-300, -1) if not e.bad() else e.date(1, 30)}",
    ]


def _document(e: Estate, i: int) -> list[str]:
    kind = ["pgssi", "incident_policy", "breach_procedure", "pra", "backup_plan", "restart_process"][i % 6]
    return [
        f"type: {kind}",
        f"title: {kind.replace('_', ' ').capitalize()} {i}",
        f"owner: {e.pick('person')}",
        f'version: "{i % 7}.{i % 3}"',
        f"approved_on: {e.date(0, 300)}",
        f"reviewed_on: {e.date(400, 800) if e.bad() else e.date(0, 300)}",
    ]


def _access_review(e: Estate, i: int) -> list[str]:
    return [
        f"system: {e.pick('system')}",
        "status: completed",
        f"completed_on: {e.date(200, 500) if e.bad() else e.date(0, 150)}",
        f"reviewer: {e.pick('person')}",
    ]


def _erasure_request(e: Estate, i: int) -> list[str]:
    received = e.date(20, 300)
    return [
        f"received_on: {received}",
        f"completed_on: {received}",
        f"replicas_erased: {'false' if e.bad() else 'true'}",
        "status: completed",
    ]


def _penetration_test(e: Estate, i: int) -> list[str]:
    return [
        f"scope: {'internal' if i % 2 else 'external'}",
        "method: grey_box",
        f"performed_on: {e.date(400, 700) if e.bad() else e.date(0, 300)}",
        "provider: Pentest & Co",
        f"report: reports/pentest-{i}.pdf",
    ]


def _sla(e: Estate, i: int) -> list[str]:
    return [
        f"client: Client {i}",
        f"pra_activation_hours: {48 if e.bad() else 4}",
        f"signed_on: {e.date(0, 700)}",
    ]


MAKERS: dict[str, Callable[[Estate, int], list[str]]] = {
    "person": _person,
    "account": _account,
    "role": _role,
    "password_policy": _password_policy,
    "system": _system,
    "application": _application,
    "environment": _environment,
    "server": _server,
    "workstation": _workstation,
    "mobile_device": _mobile_device,
    "backup_schedule": _backup_schedule,
    "backup_run": _backup_run,
    "restore_test": _restore_test,
    "website": _website,
    "release": _release,
    "incident": _incident,
    "breach": _breach,
    "maintenance": _maintenance,
    "subprocessor": _subprocessor,
    "attestation": _attestation,
    "document": _document,
    "access_review": _access_review,
    "erasure_request": _erasure_request,
    "penetration_test": _penetration_test,
    "sla": _sla,
}


def plan_counts(total: int) -> dict[str, int]:
    """Resources per kind, summing exactly to `total` (at least one of each kind)."""
    if total < len(WEIGHTS):
        raise SystemExit(f"--resources must be at least {len(WEIGHTS)} (one per kind)")
    weight = sum(WEIGHTS.values())
    counts = {k: max(1, int(total * w / weight)) for k, w in WEIGHTS.items()}
    counts["account"] += total - sum(counts.values())
    return counts


def generate(total: int, files: int, seed: int) -> tuple[dict[str, str], dict[str, Any]]:
    """The estate as {relative path: YAML text}, and a summary."""
    rng = random.Random(seed)
    counts = plan_counts(total)
    estate = Estate(rng=rng, counts=counts)
    for kind, n in counts.items():
        maker = MAKERS[kind]
        for i in range(n):
            estate.resources.append((kind, _name(PREFIX[kind], i), maker(estate, i)))
    files = max(1, min(files, total))
    per_file = -(-len(estate.resources) // files)
    out: dict[str, str] = {}
    for f in range(files):
        chunk = estate.resources[f * per_file : (f + 1) * per_file]
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
    summary = {"resources": total, "files": len(out) - 1, "violations": estate.violations, "counts": counts}
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
