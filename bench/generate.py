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
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

AS_OF = "2026-11-26"
T0 = dt.datetime.fromisoformat(AS_OF).replace(tzinfo=dt.UTC)
D0 = T0.date()

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

MINIMUM: dict[str, int] = {
    "password_policy": 4,  # two per audience: one compliant, one not, for AUTH-05a and AUTH-05b
    "role": 4,
    "attestation": 9,  # one valid statement per topic the rules ask for
    "document": 9,  # one current document per type the rules ask for
    "penetration_test": 2,  # internal and external
}
MINIMUM_FROM = 2000
"""Estates smaller than this keep one resource per kind at least, no more: they are for
parser and engine tests, which need no compliant-and-violating pair per rule, and some
of their rules have no subject at all (a single password policy, a standard one: no
administrator policy for AUTH-05a), which exercises not_applicable findings."""

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
JOBS = ["Developer", "Support engineer", "Sales", "Accountant", "SRE", "Project manager"]
EU = ["FR", "FR", "FR", "FR", "FR", "DE", "NL", "BE"]
# Datacentres by provider and country; other providers than OVHcloud are in France.
DATACENTRES = {
    "ovh": {"FR": ["gra", "rbx", "sbg"], "DE": ["fra"], "NL": ["ams"], "BE": ["bru"], "US": ["vin"]},
    "scaleway": {"FR": ["par1", "par2"], "US": ["par1"]},
    "in-house": {"FR": ["head-office"], "US": ["head-office"]},
}
NATURES = [
    "Disk replacement",
    "Kernel security update",
    "Firewall rule change",
    "Database minor upgrade",
    "Certificate renewal",
    "RAID controller firmware update",
]
TOPICS = [
    "privacy_by_design",
    "non_human_risks",
    "secure_destruction",
    "maintenance_supervision",
    "staff_confidentiality",
    "audit_notice",
    "ovh_infrastructure",
]
DOCUMENTS = [
    "pgssi",
    "incident_policy",
    "breach_procedure",
    "pra",
    "backup_plan",
    "restart_process",
    "record_of_processing",
    "client_instruction",
    "transfer_mechanism",
]
TESTED_DOCUMENTS = {"pra", "backup_plan", "restart_process"}
TITLES = {
    "pgssi": "Information systems security policy (PGSSI)",
    "incident_policy": "Security incident management policy",
    "breach_procedure": "Personal data breach procedure",
    "pra": "Disaster recovery plan (PRA)",
    "backup_plan": "Backup plan",
    "restart_process": "Business restart process",
    "record_of_processing": "Record of processing activities",
    "client_instruction": "Client instruction on data transfers",
    "transfer_mechanism": "Standard contractual clauses",
    "other": "Procedure",
}

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


def _name(prefix: str, i: int) -> str:
    return f"{prefix}-{i:06d}"


def _ref(kind: str, i: int) -> str:
    return f"{kind}.{_name(PREFIX[kind], i)}"


def _day(days_ago: int) -> str:
    return (D0 - dt.timedelta(days=days_ago)).isoformat()


def _stamp(t: dt.datetime) -> str:
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:00Z"


def _bool(value: bool) -> str:
    return "true" if value else "false"


# ---- cron expressions ---------------------------------------------------------------------


@dataclass(frozen=True)
class Cron:
    """The few shapes of cron expression the estate uses, with their firings: the
    generator must know when a job ran to write the runs the rules count."""

    minute: int
    hours: tuple[int, ...]
    dom: int | None = None
    months: tuple[int, ...] | None = None
    dows: tuple[int, ...] | None = None  # cron numbering: 0 is Sunday

    def text(self) -> str:
        hours = "*/6" if self.hours == (0, 6, 12, 18) else ",".join(map(str, self.hours))
        months = (
            "*"
            if self.months is None
            else "*/3"
            if self.months == (1, 4, 7, 10)
            else ",".join(map(str, self.months))
        )
        dows = "*" if self.dows is None else ",".join(map(str, self.dows))
        return f"{self.minute} {hours} {'*' if self.dom is None else self.dom} {months} {dows}"

    def _fires_on(self, day: dt.date) -> bool:
        if self.dom is not None and day.day != self.dom:
            return False
        if self.months is not None and day.month not in self.months:
            return False
        return self.dows is None or (day.weekday() + 1) % 7 in self.dows

    def last(self, count: int) -> list[dt.datetime]:
        """The `count` latest firings before as_of, newest first."""
        out: list[dt.datetime] = []
        day = D0
        for _ in range(400):
            if self._fires_on(day):
                for hour in sorted(self.hours, reverse=True):
                    t = dt.datetime(day.year, day.month, day.day, hour, self.minute, tzinfo=dt.UTC)
                    if t < T0:
                        out.append(t)
                        if len(out) == count:
                            return out
            day -= dt.timedelta(days=1)
        return out


@dataclass
class Schedule:
    source: str
    target: int
    type: str
    cron: Cron
    job: str
    """What the job is for: incremental, full, dump, archive, image, logs, app, web."""
    server: int | None = None
    enabled: bool = True
    encrypted: bool = True
    retention: int = 35
    comment: str | None = None
    late: bool = False
    """Its last run failed: no successful run within the schedule's own period."""


@dataclass
class Run:
    schedule: int
    type: str
    start: dt.datetime
    minutes: int
    status: str = "success"


@dataclass
class Release:
    app: int
    when: dt.datetime
    deployment: str
    env: int | None
    version: str
    run: int | None = None


@dataclass
class Account:
    type: str
    system: int
    username: str
    person: int | None = None
    status: str = "active"
    role: int | None = None
    auth: str = "password"
    third_party: bool = False
    comment: str | None = None


# ---- the estate ---------------------------------------------------------------------------


@dataclass
class Estate:
    rng: random.Random
    counts: dict[str, int]
    lines: dict[str, list[list[str]]] = field(default_factory=dict)
    """Per kind, the YAML lines of each resource's attributes (indented by 4), by index."""
    violating: dict[str, set[int]] = field(default_factory=dict)
    """Per kind, the resources generated with a deliberate violation."""

    # Plans shared between kinds, filled in as the kinds are built.
    names: list[tuple[str, str]] = field(default_factory=list)
    active_people: list[int] = field(default_factory=list)
    left_people: list[int] = field(default_factory=list)
    vendor_people: list[int] = field(default_factory=list)
    vendor_of: dict[int, int] = field(default_factory=dict)
    leads: list[int] = field(default_factory=list)
    admin_roles: list[int] = field(default_factory=list)
    user_roles: list[int] = field(default_factory=list)
    admin_policies: list[int] = field(default_factory=list)
    user_policies: list[int] = field(default_factory=list)
    system_types: list[str] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    former_admins: list[int] = field(default_factory=list)
    vendor_admins: list[int] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    production_env: dict[int, int] = field(default_factory=dict)
    staging_env: dict[int, int] = field(default_factory=dict)
    releases: list[Release] = field(default_factory=list)
    server_roles: list[str] = field(default_factory=list)
    hosting: list[int] = field(default_factory=list)
    backup_servers: list[int] = field(default_factory=list)
    hosted_on: dict[int, list[int]] = field(default_factory=dict)
    primary: dict[int, int] = field(default_factory=dict)
    backed_websites: list[int] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    full_schedule: dict[int, int] = field(default_factory=dict)
    incidents: list[dt.datetime] = field(default_factory=list)

    def split(self, n: int, *rates: float) -> list[set[int]]:
        """Disjoint random sets of indices in range(n), one per rate, of about n * rate
        members but at least one each, always leaving one index out of all of them: a
        rule then has both a violating and a compliant subject in the population."""
        order = self.rng.sample(range(n), n)
        out: list[set[int]] = []
        taken = 0
        for rate in rates:
            k = min(max(1, round(n * rate)), n - 1 - taken)
            out.append(set(order[taken : taken + max(k, 0)]))
            taken += max(k, 0)
        return out

    def some(self, population: Sequence[T], rate: float, weak: Set[T] = frozenset()) -> set[T]:
        """About len(population) * rate members of `population` chosen to violate a rule:
        at least one, never all (see split). Drawn from the `weak` ones first: a
        neglected laptop lacks updates, firewall and antivirus at once, as in life, so
        a minority of resources carries the violations."""
        n = len(population)
        k = min(max(1, round(n * rate)), n - 1)
        if k <= 0:
            return set()
        inside = [x for x in population if x in weak]
        if len(inside) >= k:
            return set(self.rng.sample(inside, k))
        outside = [x for x in population if x not in weak]
        return set(inside) | set(self.rng.sample(outside, k - len(inside)))

    def weak(self, n: int, rate: float = 0.25) -> frozenset[int]:
        """The neglected resources of a kind of n: where its violations go first."""
        return frozenset(self.rng.sample(range(n), round(n * rate)))

    def mark(self, kind: str, i: int) -> None:
        self.violating.setdefault(kind, set()).add(i)

    def days(self, lo: int, hi: int) -> str:
        """A date between lo and hi days before as_of (negative: after)."""
        return _day(self.rng.randint(lo, hi))

    def moment(self, lo_days: int, hi_days: int) -> dt.datetime:
        """A date-time between lo and hi days before as_of, always before its instant:
        an inventory written on the as_of date records nothing later that day."""
        minutes = self.rng.randint(max(1, lo_days * 1440), hi_days * 1440 + 1439)
        return T0 - dt.timedelta(minutes=minutes)

    def cron(self, cron: Cron) -> str:
        """Written as people do: double-quoted, single-quoted or bare."""
        return self.rng.choice(['"{}"', "'{}'", "{}", "{}"]).format(cron.text())

    def person_name(self, p: int) -> str:
        first, last = self.names[p]
        return f"{first.capitalize()} {last.capitalize()}"


# ---- people, access -----------------------------------------------------------------------


def build_people(e: Estate) -> None:
    n, subs = e.counts["person"], e.counts["subprocessor"]
    e.names = [(e.rng.choice(FIRST), e.rng.choice(LAST)) for _ in range(n)]
    dpo = 0
    e.leads = [i for i in range(1, n) if i % 400 == 1]
    special = {dpo, *e.leads}
    e.vendor_people = [i for i in range(n) if i % 33 == 7 and i not in special] if subs else []
    vendor = set(e.vendor_people)
    ordinary = [i for i in range(n) if i not in special and i not in vendor]
    left = e.some(ordinary, 0.07)  # staff turnover, not a violation by itself
    e.left_people = sorted(left)
    e.active_people = [i for i in range(n) if i not in left and i not in vendor]
    out = []
    for i in range(n):
        first, last = e.names[i]
        lines = [f"full_name: {e.person_name(i)}"]
        if i in vendor:
            sub = (i // 33) % subs
            e.vendor_of[i] = sub
            lines += [
                f"email: {first}.{last}@sub-{sub}.example.com",
                "job_title: Infrastructure technician",
                "employer: subprocessor",
                f"subprocessor: {_ref('subprocessor', sub)}",
                "status: active",
            ]
        else:
            job = (
                "Data protection officer"
                if i == dpo
                else "Technology lead"
                if i in e.leads
                else e.rng.choice(JOBS)
            )
            lines += [
                f"email: {'dpo' if i == dpo else f'{first}.{last}.{i}'}@example.org",
                f"job_title: {job}",
                "employer: internal",
                f"status: {'left' if i in left else 'active'}",
                f"started_on: {e.days(400, 3000)}",
            ]
            if i in left:
                lines.append(f"left_on: {e.days(10, 300)}")
            if i == dpo:
                lines += ["# Named in the record of processing (GDPR art. 37).", "is_dpo: true"]
            if i in e.leads:
                lines.append("is_technology_lead: true  # supervises third-party maintenance")
        out.append(lines)
    e.lines["person"] = out


def build_roles(e: Estate) -> None:
    n = e.counts["role"]
    e.admin_roles = [i for i in range(n) if i % 3 == 0]
    e.user_roles = [i for i in range(n) if i % 3] or e.admin_roles
    e.lines["role"] = [
        [
            f"description: {'Administrators' if i % 3 == 0 else 'Users'} of team {i}",
            f"can_administer: {_bool(i % 3 == 0)}",
            f"privileged: {_bool(i % 3 == 0)}",
        ]
        for i in range(n)
    ]


def build_password_policies(e: Estate) -> None:
    n = e.counts["password_policy"]
    e.admin_policies = [i for i in range(n) if i % 2]
    e.user_policies = [i for i in range(n) if i % 2 == 0]
    short = e.some(e.admin_policies, 0.08) | e.some(e.user_policies, 0.08)
    no_generator, slow_rotation = (set(s) for s in e.split(n, 0.08, 0.08))
    out = []
    for i in range(n):
        admin = i % 2 == 1
        good_length = e.rng.choice([16, 20, 24] if admin else [12, 14, 16])
        lines = [
            f"applies_to: {'administrator' if admin else 'standard'}",
            f"min_length: {(12 if admin else 8) if i in short else good_length}",
            f"max_age_days: {90 if i in slow_rotation else e.rng.choice([30, 31])}",
            "require_complexity: true",
        ]
        if i not in no_generator:
            lines.append(f"generator: Vault generator, {good_length + 8} random characters")
        if i in short or i in no_generator or i in slow_rotation:
            e.mark("password_policy", i)
        out.append(lines)
    e.lines["password_policy"] = out


SYSTEM_TYPES = ["identity_provider", "server_access", "password_vault", "application", "cloud_console"]
VENDORS = {
    "identity_provider": "Microsoft",
    "server_access": "Example Bastion",
    "password_vault": "Example Vault",
    "application": "In-house",
    "cloud_console": "Example Cloud",
}
AUTHENTICATION = {
    "identity_provider": "password",
    "server_access": "ssh_key",
    "password_vault": "password",
    "application": "password",
    "cloud_console": "sso",
}


def build_systems(e: Estate) -> None:
    n = e.counts["system"]
    e.system_types = [SYSTEM_TYPES[i % 5] for i in range(n)]
    out = []
    for i, kind in enumerate(e.system_types):
        lines = [
            f"description: 'System {i}: {kind.replace('_', ' ')}'",
            f"type: {kind}",
            f"vendor: {VENDORS[kind]}",
        ]
        if kind == "identity_provider":
            lines += [f"tenant: tenant-{i}.onmicrosoft.com", "is_office365: true"]
        out.append(lines)
    e.lines["system"] = out


def build_accounts(e: Estate) -> None:
    n, people, systems = e.counts["account"], e.counts["person"], e.counts["system"]
    machine_systems = [s for s, t in enumerate(e.system_types) if t != "identity_provider"] or [0]
    accounts: list[Account] = []
    human = 0
    for i in range(n):
        r = e.rng.random()
        if r < 0.89:
            # Each person's accounts are on distinct systems (AUTH-01c): the k-th human
            # account goes to person k % people, on the system its lap round names.
            p = human % people
            system = (human // people + p * 7) % systems
            first, last = e.names[p]
            accounts.append(Account("human", system, f"{first[0]}{last}{p}", person=p))
            human += 1
        else:
            kind = "service" if r < 0.96 else "shared"
            accounts.append(Account(kind, e.rng.choice(machine_systems), f"{kind[:3]}-{i}"))
            if kind == "shared" and e.rng.random() < 0.3:
                accounts[-1].third_party = True  # a vendor's support login, shared by its team
    humans = [i for i, a in enumerate(accounts) if a.type == "human"]
    machines = [i for i, a in enumerate(accounts) if a.type != "human"]
    left, vendor, staff = set(e.left_people), set(e.vendor_people), set(e.active_people)
    # AUTH-01c: a second account for a member of staff on the same system.
    previous = {i: j for j, i in pairwise(humans) if accounts[j].person in staff}
    twins: set[int] = set()
    for i in sorted(e.some(list(previous), 0.015)):
        a, b = accounts[i], accounts[previous[i]]
        a.person, a.system, a.username = b.person, b.system, f"{b.username}-2"
        a.comment = "opened again when the first one was locked"
        twins |= {i, previous[i]}
        e.mark("account", i)
        e.mark("account", previous[i])
    # AUTH-01b: two service accounts with one login name on the same system.
    for i in sorted(e.some(machines, 0.03)):
        j = e.rng.choice([m for m in machines[:50] if m != i])
        accounts[i].system, accounts[i].username = accounts[j].system, accounts[j].username
        e.mark("account", i)
        e.mark("account", j)
    for i, a in enumerate(accounts):
        kind = e.system_types[a.system]
        a.auth = AUTHENTICATION[kind] if a.type == "human" or kind == "server_access" else "password"
        if a.type == "human":
            # A leaver's accounts are disabled; a few others are no longer needed (not a
            # twin: both stay open, which is the AUTH-01c violation).
            if a.person in left or (i not in twins and e.rng.random() < 0.03):
                a.status = "disabled"
            # Accounts on the bastion are the server administrators'; a few others
            # administer a console or an application.
            admin = a.person not in vendor and (kind == "server_access" or e.rng.random() < 0.05)
            a.role = e.rng.choice(e.admin_roles if admin else e.user_roles)
        else:
            a.status = "disabled" if e.rng.random() < 0.03 else "active"
            a.role = e.rng.choice(e.user_roles)
    # ACC-02a: a leaver's account left open.
    for i in e.some([i for i in humans if accounts[i].person in left], 0.5):
        accounts[i].status = "active"
        e.mark("account", i)

    def active(i: int) -> bool:
        return accounts[i].status == "active"

    def on_bastion(i: int) -> bool:
        return e.system_types[accounts[i].system] == "server_access"

    def privileged(i: int) -> bool:
        return accounts[i].role in e.admin_roles

    def third_party(i: int) -> bool:
        return accounts[i].third_party or accounts[i].person in vendor

    weak = e.weak(n)
    # Human accounts without their person (AUTH-01a): not a twin, whose duplicate
    # AUTH-01c counts through the person.
    plain = [i for i in humans if active(i) and not on_bastion(i) and not third_party(i) and i not in twins]
    # Accounts without a role (ACC-01) are taken among the unprivileged: a privileged
    # one without its role would drop out of the MFA and password policy rules' scope,
    # hiding the violations drawn for it there.
    unprivileged = [i for i in range(n) if active(i) and not privileged(i) and not third_party(i)]
    no_role = e.some(unprivileged, 0.06, weak)
    no_person = e.some(plain, 0.05, weak)
    office = [i for i in humans if active(i) and e.system_types[accounts[i].system] == "identity_provider"]
    no_mfa = e.some(office, 0.1, weak) | e.some([i for i in humans if active(i) and privileged(i)], 0.1, weak)
    with_password = [i for i in range(n) if active(i) and accounts[i].auth == "password"]
    weak_policy = e.some([i for i in with_password if privileged(i)], 0.08, weak)
    stale_password = e.some(with_password, 0.12, weak)
    dormant = e.some([i for i in humans if active(i)], 0.12, weak)
    no_vault = e.some([i for i in machines if active(i)], 0.12, weak)
    outsiders = [i for i in range(n) if active(i) and third_party(i)]
    long_window, expired = ({outsiders[k] for k in s} for s in e.split(len(outsiders), 0.1, 0.1))
    # Made administrators: vendor staff only (a shared login with an administrator role
    # would also lack the MFA that AUTH-04b asks of privileged people).
    too_powerful = e.some([i for i in outsiders if accounts[i].type == "human"], 0.1)
    window_violations = long_window | expired | too_powerful
    for i in no_role | no_person | no_mfa | weak_policy | stale_password | dormant | no_vault:
        e.mark("account", i)
    for i in too_powerful:
        accounts[i].role = e.rng.choice(e.admin_roles)
        if on_bastion(i):
            e.vendor_admins.append(i)  # and made administrator of a server (ACC-05c)
    e.admins = [
        i for i in humans if active(i) and on_bastion(i) and privileged(i) and accounts[i].person in staff
    ]
    e.former_admins = [i for i in humans if not active(i) and on_bastion(i)] or machines or [0]

    out = []
    for i, a in enumerate(accounts):
        lines = [f"system: {_ref('system', a.system)}", f"username: {a.username}", f"type: {a.type}"]
        if a.comment:
            lines.append(f"# {a.comment}")
        if a.person is not None and i not in no_person:
            lines.append(f"person: {_ref('person', a.person)}")
        if a.role is not None and i not in no_role:
            lines.append(f"role: {_ref('role', a.role)}")
        lines += [f"status: {a.status}", f"authentication: {a.auth}"]
        if a.type == "human":
            lines.append(f"mfa_enabled: {_bool(i not in no_mfa)}")
        if a.auth == "password":
            admin_policy = privileged(i) != (i in weak_policy)
            pool = (e.admin_policies if admin_policy else e.user_policies) or e.user_policies
            lines += [
                f"password_policy: {_ref('password_policy', e.rng.choice(pool))}",
                f"password_changed_on: {e.days(35, 200) if i in stale_password else e.days(0, 30)}",
            ]
        login = e.moment(95, 400) if i in dormant else e.moment(0, 60 if a.type == "human" else 1)
        lines.append(f"last_login: {_stamp(login)}")
        if a.type != "human":
            storage = e.rng.choice(["none", "other"]) if i in no_vault else "vault"
            lines.append(f"credential_storage: {storage}")
        if a.third_party:
            lines.append("third_party: true")
        if third_party(i) and active(i):
            # Third parties get an access window for each intervention (ACC-05a/b):
            # mostly a few hours ahead, sometimes days long, sometimes long over.
            if i in expired:
                start = e.moment(10, 60)
                hours = e.rng.randint(2, 8)
            elif i in long_window:
                start = T0 - dt.timedelta(hours=e.rng.randint(1, 20))
                hours = 24 * e.rng.randint(3, 30)
            else:
                start = T0 + dt.timedelta(hours=e.rng.randint(-3, 60), minutes=30 * e.rng.randint(0, 1))
                hours = e.rng.randint(4, 8)
            end = start + dt.timedelta(hours=hours)
            lines += [f"access_starts_at: {_stamp(start)}", f"access_expires_at: {_stamp(end)}"]
            if i in window_violations:
                e.mark("account", i)
        out.append(lines)
    e.lines["account"] = out


# ---- applications, environments, releases: the plan -------------------------------------------

# Applications by category, in a cycle of twenty (half SaaS products, a quarter internal
# tools, management, accounting and other software), ordered so that a small estate's
# first ten already hold one of each backed-up kind.
CATEGORIES = [
    "saas_product",
    "saas_product",
    "management",
    "saas_product",
    "internal",
    "saas_product",
    "accounting",
    "saas_product",
    "internal",
    "saas_product",
    "saas_product",
    "other",
    "saas_product",
    "internal",
    "management",
    "saas_product",
    "internal",
    "other",
    "saas_product",
    "internal",
]


def plan_applications(e: Estate) -> None:
    products = 0
    for a in range(e.counts["application"]):
        category = CATEGORIES[a % len(CATEGORIES)]
        e.categories.append(category)
        if category == "saas_product":
            # One product in five is also sold on-premise: those get on-premise releases.
            e.licenses.append("on_premise" if products % 5 == 4 else "saas")
            products += 1
        else:
            e.licenses.append("internal")


def build_environments(e: Estate) -> None:
    n, apps = e.counts["environment"], e.counts["application"]
    products = [a for a in range(apps) if e.categories[a] == "saas_product"] or list(range(apps))
    kinds = ["staging", "test", "development"]
    plan: list[tuple[str, int]] = []
    for j in range(n):
        if j < apps:
            plan.append(("production", j))
        else:
            lap, k = divmod(j - apps, len(products))
            plan.append((kinds[lap % 3], products[k]))
    non_production = [j for j, (kind, _) in enumerate(plan) if kind != "production"]
    leaked = e.some(non_production, 0.06)
    out = []
    for j, (kind, app) in enumerate(plan):
        if kind == "production":
            e.production_env[app] = j
        elif kind == "staging":
            e.staging_env.setdefault(app, j)
        if kind == "production":
            data = "real"
        elif j in leaked:
            data = e.rng.choice(["real", "pseudonymised"])
            e.mark("environment", j)
        else:
            data = "fictitious"
        lines = [f"type: {kind}", f"application: {_ref('application', app)}", f"data: {data}"]
        if j in leaked:
            lines.insert(0, "# Loaded from a production dump to reproduce a client's bug.")
        out.append(lines)
    e.lines["environment"] = out


def plan_releases(e: Estate) -> None:
    """SaaS products release to staging, then to production a few days later, every two
    to four weeks; on-premise products are installed at clients' sites."""
    n = e.counts["release"]
    saas = [a for a in range(e.counts["application"]) if e.licenses[a] == "saas"]
    on_premise = [a for a in range(e.counts["application"]) if e.licenses[a] == "on_premise"]
    if not saas and not on_premise:
        on_premise = [0]
    stalled = e.some(saas, 0.05)  # REL-01: no production release for over a month
    latest: dict[int, tuple[int, int]] = {}
    for a in saas + on_premise:
        days = e.rng.randint(40, 100) if a in stalled else e.rng.randint(1, 28)
        latest[a] = (days, e.rng.randint(14, 30))
        if a in stalled:
            e.mark("application", a)
    lap = 0
    while len(e.releases) < n:
        for a in saas + on_premise:
            if len(e.releases) >= n:
                break
            days, every = latest[a]
            day = D0 - dt.timedelta(days=days + lap * every)
            when = dt.datetime(day.year, day.month, day.day, e.rng.randint(19, 21), 0, tzinfo=dt.UTC)
            version = f"{day.year}.{day.month}.{day.day}"
            if a in on_premise:
                e.releases.append(Release(a, when + dt.timedelta(hours=-10), "on_premise", None, version))
                continue
            e.releases.append(Release(a, when, "saas", e.production_env.get(a), version))
            if a in e.staging_env and len(e.releases) < n:
                before = when - dt.timedelta(days=e.rng.randint(2, 6), hours=e.rng.randint(4, 8))
                e.releases.append(Release(a, before, "saas", e.staging_env[a], f"{version}-rc.1"))
        lap += 1


def _production(e: Estate, r: Release) -> bool:
    return r.deployment == "saas" and (r.env is None or r.env == e.production_env.get(r.app))


# ---- servers and backups --------------------------------------------------------------------


def plan_servers(e: Estate) -> None:
    """Hosting servers are as many as the backup history can back properly: each needs
    two schedules (incremental daily, full twice a week) and seven runs (six full runs
    in 30 days, the night's incremental); the other schedules are extra jobs on them
    (database dumps, archives, system images, logs), one run each."""
    servers, schedules, runs = e.counts["server"], e.counts["backup_schedule"], e.counts["backup_run"]
    apps = sum(1 for c in e.categories if c in ("accounting", "management"))
    sites = e.counts["website"]
    websites = min(sites - 1, max(2, round(sites * 0.04))) if sites >= 3 else 0
    production = sum(1 for r in e.releases if _production(e, r))
    backups = max(1, round(servers * 0.06)) if servers >= 4 else 0
    hosting = min(
        (runs - schedules - production - runs // 50) // 5,
        (schedules - apps - websites) // 2,
        e.counts["restore_test"] - apps - websites - 1,
        servers - backups - 1,
    )
    hosting = max(1, hosting) if servers else 0
    rest = servers - hosting - backups
    database, archive = round(rest * 0.1), round(rest * 0.03)
    roles = ["hosting"] * hosting + ["backup"] * backups + ["database"] * database + ["archive"] * archive
    roles += ["other"] * (servers - len(roles))
    e.rng.shuffle(roles)
    e.server_roles = roles
    e.hosting = [s for s, r in enumerate(roles) if r == "hosting"]
    e.backup_servers = [s for s, r in enumerate(roles) if r == "backup"]
    e.backed_websites = sorted(e.rng.sample(range(sites), websites))
    # Applications: a SaaS product's first host is its primary one, whose full backup
    # job also runs before each release. Primary hosts are two thirds of the hosting
    # servers at most: the others may be the deliberately short ones (BAK-01/02/04),
    # whose runs the release runs would otherwise blur.
    hosts = e.hosting or list(range(servers))
    primaries = hosts[: max(1, 2 * len(hosts) // 3)]
    saas = 0
    for a, category in enumerate(e.categories):
        if category != "saas_product":
            e.hosted_on[a] = [e.rng.choice(hosts)]
            continue
        first = primaries[saas % len(primaries)] if e.licenses[a] == "saas" else e.rng.choice(hosts)
        others = [h for h in e.rng.sample(hosts, min(len(hosts), 2)) if h != first]
        e.hosted_on[a] = [first, *others[: e.rng.randint(0, 2)]]
        if e.licenses[a] == "saas":
            e.primary[a] = first
            saas += 1


def build_backups(e: Estate) -> None:
    """Schedules, then runs by construction, so that what BAK-01/02/04/12 count is what
    was meant: most hosting servers back up properly, a few are deliberately short."""
    n_sched, n_runs = e.counts["backup_schedule"], e.counts["backup_run"]
    targets = e.backup_servers or list(range(e.counts["server"]))
    hosting = e.hosting
    primaries = set(e.primary.values())
    candidates = [s for s in hosting if s not in primaries]
    disabled, monthly, short = (
        {candidates[k] for k in ks} for ks in e.split(len(candidates), 0.03, 0.03, 0.05)
    )
    wanted: list[Schedule] = []
    minute = [0, 15, 30, 45]
    for j, s in enumerate(hosting):
        target = targets[j % len(targets)]
        daily = Cron(e.rng.choice(minute), (e.rng.randint(0, 3),))
        wanted.append(
            Schedule(_ref("server", s), target, "incremental", daily, "incremental", s, retention=35)
        )
        if s in disabled:
            wanted[-1].enabled = False
            wanted[-1].comment = "disabled during the storage migration, never enabled again"
        first = e.rng.randint(0, 3)
        hour = e.rng.randint(2, 5)
        if s in monthly:
            cron = Cron(e.rng.choice(minute), (hour,), dom=1)
        elif s in short and e.rng.random() < 0.5:
            cron = Cron(e.rng.choice(minute), (hour,), dows=(first,))
        else:
            cron = Cron(e.rng.choice(minute), (hour,), dows=(first, first + 3))
        wanted.append(Schedule(_ref("server", s), target, "full", cron, "full", s, retention=90))
    apps = [a for a, c in enumerate(e.categories) if c in ("accounting", "management")]
    quarterly, failing = ({apps[k] for k in ks} for ks in e.split(len(apps), 0.15, 0.15))
    for a in apps:
        cron = Cron(0, (4,), dom=1, months=(1, 4, 7, 10) if a in quarterly else None)
        target = e.rng.choice(targets)
        wanted.append(Schedule(_ref("application", a), target, "full", cron, "app", retention=730))
        if a in quarterly:
            wanted[-1].comment = "the export is quarterly: III-G§4 asks for every two months"
        wanted[-1].late = a in failing
        if a in quarterly | failing:
            e.mark("application", a)
        if a in failing:
            e.mark("backup_schedule", len(wanted) - 1)
    for w in e.backed_websites:
        cron = Cron(30, (1,))
        wanted.append(
            Schedule(_ref("website", w), e.rng.choice(targets), "incremental", cron, "web", retention=30)
        )
    # Extra jobs on the hosting servers, round robin, up to the planned number.
    # A server meant to lack a daily incremental (BAK-01) or a weekly full job (BAK-02)
    # gets no extra job of that kind either.
    extras = ["dump", "archive", "image", "logs"]
    k = 0
    while len(wanted) < n_sched and hosting:
        s = hosting[k % len(hosting)]
        kinds = (
            ["archive", "image"] if s in disabled else ["dump", "archive", "logs"] if s in monthly else extras
        )
        job = kinds[(k // len(hosting) + k % len(hosting)) % len(kinds)]
        m = e.rng.choice(minute)
        cron = {
            "dump": Cron(m, (0, 6, 12, 18)),
            "archive": Cron(m, (e.rng.randint(0, 3),), dom=1),
            "image": Cron(m, (e.rng.randint(0, 5),), dows=(e.rng.randint(0, 6),)),
            "logs": Cron(m, (e.rng.randint(4, 5),)),
        }[job]
        kind = "full" if job in ("archive", "image") else "incremental"
        wanted.append(Schedule(_ref("server", s), e.rng.choice(targets), kind, cron, job, s, retention=365))
        k += 1
    while len(wanted) < n_sched:  # no hosting server at all: a tiny estate
        wanted.append(Schedule(_ref("server", 0), 0, "full", Cron(0, (3,)), "image"))
    e.schedules = schedules = wanted[:n_sched]
    for i, sc in enumerate(schedules):
        if sc.job == "full" and sc.server is not None:
            e.full_schedule[sc.server] = i
    # Violations of the schedules themselves, and jobs whose last run failed.
    wrong_target, plain = (set(s) for s in e.split(len(schedules), 0.06, 0.06))
    for i in wrong_target:
        sc = schedules[i]
        sc.target = sc.server if sc.server is not None else e.rng.choice(hosting or [0])
        sc.comment = "kept on the machine itself until the new backup server arrives"
        e.mark("backup_schedule", i)
    for i in plain:
        schedules[i].encrypted = False
        e.mark("backup_schedule", i)
    single = [
        i for i, sc in enumerate(schedules) if sc.job in ("incremental", "dump", "logs", "web") and sc.enabled
    ]
    for jobs, rate in ((single, 0.07), ([i for i, sc in enumerate(schedules) if sc.job == "image"], 0.08)):
        for i in e.some(jobs, rate):
            schedules[i].late = True
            e.mark("backup_schedule", i)
    for i in e.some([i for i, sc in enumerate(schedules) if sc.job == "archive"], 0.08):
        schedules[i].late = True
        e.mark("backup_schedule", i)

    runs: list[Run] = []
    # Full runs in the last 30 days from the jobs other than the main full job, which a
    # short server's main job must leave room for.
    counted: dict[int, int] = {}
    for sc in schedules:
        if sc.type == "full" and sc.job != "full" and sc.server is not None and not sc.late:
            counted[sc.server] = counted.get(sc.server, 0) + 1

    def run(i: int, start: dt.datetime, ok: bool = True) -> None:
        sc = schedules[i]
        minutes = e.rng.randint(40, 110) if sc.type == "full" else e.rng.randint(5, 30)
        runs.append(Run(i, sc.type, start, minutes, "success" if ok else e.rng.choice(["failed", "partial"])))

    for i, sc in enumerate(schedules):
        if sc.job == "full" and sc.server in short:
            # Too few successful full runs in 30 days (BAK-04): a weekly job, or a
            # twice-weekly one that failed for a while.
            goal = max(0, e.rng.randint(3, 5) - counted.get(sc.server, 0))
            if sc.cron.dows is not None and len(sc.cron.dows) == 1:
                for t in sc.cron.last(max(goal, 1)):
                    run(i, t, goal > 0)
            else:
                for rank, t in enumerate(sc.cron.last(6)):
                    run(i, t, rank < goal)
            e.mark("server", sc.server)
        elif sc.job == "full":
            fires = sc.cron.last(2 if sc.server in monthly else 6)
            for t in fires:
                run(i, t)
            if sc.server in monthly:
                e.mark("server", sc.server)
        elif not sc.enabled:
            run(i, sc.cron.last(e.rng.randint(40, 80))[-1])
            if sc.server is not None:
                e.mark("server", sc.server)
        elif sc.job == "app":
            for t in sc.cron.last(2):
                run(i, t, not sc.late)
        else:
            run(i, sc.cron.last(1)[0], not sc.late)
    # The runs taken before each production release, on the primary host's full job.
    for r in e.releases:
        host = e.primary.get(r.app)
        if not _production(e, r) or host is None or host not in e.full_schedule:
            continue
        r.run = len(runs)
        run(e.full_schedule[host], r.when - dt.timedelta(hours=e.rng.randint(2, 5)))
    # More history, up to the planned number: older incremental runs of the servers
    # that back up properly (one in twenty failed).
    sound = [i for i, sc in enumerate(schedules) if sc.job == "incremental" and sc.enabled and not sc.late]
    k = 0
    while len(runs) < n_runs:
        i = sound[k % len(sound)] if sound else k % len(schedules)
        fires = schedules[i].cron.last(2 + k // max(1, len(sound)))
        run(i, fires[-1], e.rng.random() > 0.05)
        k += 1
    e.runs = runs[:n_runs]
    for r in e.releases:
        if r.run is not None and r.run >= n_runs:
            r.run = None

    out = []
    for sc in schedules:
        lines = [
            f"source: {sc.source}",
            f"target: {_ref('server', sc.target)}",
            f"type: {sc.type}",
            f"schedule: {e.cron(sc.cron)}",
            f"encrypted: {_bool(sc.encrypted)}",
        ]
        if sc.job == "full":
            lines.append("on_release: true")
        lines += [f"enabled: {_bool(sc.enabled)}", f"retention_days: {sc.retention}"]
        if sc.comment:
            lines.insert(0, f"# {sc.comment.capitalize()}.")
        out.append(lines)
    e.lines["backup_schedule"] = out


def build_releases(e: Estate) -> None:
    """Releases, with the run taken before each production one; a few go live without
    a usable backup (BAK-03), with skipped tests (DEV-01) or without the client's
    written authorisation (REL-02)."""
    releases = e.releases
    production = [i for i, r in enumerate(releases) if _production(e, r) and r.run is not None]
    failed_backup, late_backup = ({production[k] for k in ks} for ks in e.split(len(production), 0.02, 0.02))
    for i in failed_backup | late_backup:
        run = e.runs[releases[i].run or 0]
        if i in failed_backup:
            run.status = "failed"
        else:
            run.start = releases[i].when + dt.timedelta(minutes=e.rng.randint(5, 40))
        e.mark("release", i)
    untested = e.some([i for i, r in enumerate(releases) if _production(e, r) or r.env is None], 0.04)
    on_premise = [i for i, r in enumerate(releases) if r.deployment == "on_premise"]
    unauthorised, backdated = ({on_premise[k] for k in ks} for ks in e.split(len(on_premise), 0.04, 0.03))
    faulty = untested | unauthorised | backdated
    out = []
    for i, r in enumerate(releases):
        tests = e.rng.choice(["skipped", "failed"]) if i in untested else "passed"
        if r.env is not None and not _production(e, r) and e.rng.random() < 0.1:
            tests = "failed"  # on staging, that is what staging is for
        lines = [
            f"application: {_ref('application', r.app)}",
            f'version: "{r.version}"',
            f"deployment: {r.deployment}",
        ]
        if r.env is not None:
            lines.append(f"environment: {_ref('environment', r.env)}")
        lines += [f"released_at: {_stamp(r.when)}", f"tests: {tests}"]
        if r.run is not None:
            lines.append(f"pre_release_backup: {_ref('backup_run', r.run)}")
        if r.deployment == "on_premise" and i not in unauthorised:
            if i in backdated:  # signed after the installation
                granted = min(D0, r.when.date() + dt.timedelta(days=3))
            else:
                granted = r.when.date() - dt.timedelta(days=e.rng.randint(2, 30))
            lines += [
                "client_authorisation:",
                f"  reference: PO-{i:06d}",
                f"  granted_on: {granted.isoformat()}",
            ]
        if i in faulty:
            e.mark("release", i)
        out.append(lines)
    e.lines["release"] = out


def build_runs(e: Estate) -> None:
    out = []
    for run in e.runs:
        end = run.start + dt.timedelta(minutes=run.minutes)
        lines = [
            f"schedule: {_ref('backup_schedule', run.schedule)}",
            f"type: {run.type}",
            f"started_at: {_stamp(run.start)}",
            f"ended_at: {_stamp(end)}",
            f"status: {run.status}",
        ]
        if run.status == "success":
            size = (
                e.rng.randrange(10**10, 3 * 10**11) if run.type == "full" else e.rng.randrange(10**8, 10**10)
            )
            lines.append(f"size_bytes: {size}")
        out.append(lines)
    e.lines["backup_run"] = out


def build_restore_tests(e: Estate) -> None:
    """A quarterly restore test per backed-up source, from one of its recent runs; a few
    sources have none recent or a failed one (BAK-07a/b/c), older tests fill the rest."""
    n = e.counts["restore_test"]
    runs_of: dict[str, list[int]] = {}  # successful runs of the last 45 days, by source
    for i, run in enumerate(e.runs):
        if run.status == "success" and run.start > T0 - dt.timedelta(days=45):
            runs_of.setdefault(e.schedules[run.schedule].source, []).append(i)
    sources = list(dict.fromkeys(sc.source for sc in e.schedules))[:n]
    stale: set[str] = set()
    for kind, rate in (("server", 0.05), ("application", 0.15), ("website", 0.15)):
        stale |= e.some([s for s in sources if s.startswith(kind + ".")], rate)
    plan: list[tuple[str, int | None, str, str]] = []
    for source in sources:
        recent = runs_of.get(source, [])
        if source in stale:
            if e.rng.random() < 0.5:
                plan.append((source, None, e.days(100, 250), "success"))
            else:
                plan.append((source, recent[-1] if recent else None, e.days(5, 40), "failed"))
            continue
        if not recent:
            plan.append((source, None, e.days(1, 80), "success"))
            continue
        i = e.rng.choice(recent)
        day = min(D0 - dt.timedelta(days=1), e.runs[i].start.date() + dt.timedelta(days=e.rng.randint(1, 3)))
        plan.append((source, i, day.isoformat(), "success"))
    sound = [s for s in sources if s not in stale] or sources or [_ref("server", 0)]
    k = 0
    while len(plan) < n:
        plan.append((sound[k % len(sound)], None, e.days(120, 400), "success"))
        k += 1
    out = []
    for j, (source, used, tested, result) in enumerate(plan):
        lines = [f"source: {source}", f"tested_on: {tested}", f"result: {result}"]
        if used is not None:
            lines.append(f"backup_run: {_ref('backup_run', used)}")
        if result == "failed":
            lines.append("notes: Checksum mismatch on one archive volume; to be run again.")
        elif j % 3 == 0:
            lines += [
                "notes: >",
                "  Restored the latest full backup on a scratch server and",
                "  compared row counts with production.",
            ]
        out.append(lines)
    e.lines["restore_test"] = out
    for source in stale:
        kind, name = source.split(".", 1)
        e.mark(kind, int(name.rsplit("-", 1)[1]))


def build_applications(e: Estate) -> None:
    apps = range(e.counts["application"])
    hashed = [a for a in apps if e.categories[a] == "saas_product" or a % 2 == 0]
    products = [a for a in apps if e.categories[a] == "saas_product"]
    weak = e.weak(len(apps))
    weak_hash = e.some(hashed, 0.06, weak)
    partial_log, short_log, shared = (e.some(products, rate, weak) for rate in (0.05, 0.05, 0.05))
    faulty = weak_hash | partial_log | short_log | shared
    out = []
    for a in apps:
        lines = [f"category: {e.categories[a]}", f"license: {e.licenses[a]}", "hosted_on:"]
        lines += [f"  - {_ref('server', s)}" for s in e.hosted_on[a]]
        if a in hashed:
            if a in weak_hash:
                algo, salted, iterations = e.rng.choice(
                    [("sha1", "true", None), ("bcrypt", "false", None), ("pbkdf2_sha256", "true", 100000)]
                )
            else:
                algo, salted = e.rng.choice(["argon2id", "bcrypt", "pbkdf2_sha256"]), "true"
                iterations = 600000 if algo == "pbkdf2_sha256" else None
            lines += ["password_hashing:", f"  algorithm: {algo}", f"  salted: {salted}"]
            if iterations:
                lines.append(f"  iterations: {iterations}")
        flags = {"accesses": "true", "actions": "true", "operations": "true", "timestamps": "true"}
        if a in partial_log:
            flags[e.rng.choice(list(flags))] = "false"
        retention = 90 if a in short_log else e.rng.choice([365, 365, 400])
        if a % 3:
            lines.append(
                "logging: {"
                + ", ".join(f"{k}: {v}" for k, v in flags.items())
                + f", retention_days: {retention}}}"
            )
        else:
            lines += [
                "logging:",
                *[f"  {k}: {v}" for k, v in flags.items()],
                f"  retention_days: {retention}",
            ]
        if e.categories[a] == "saas_product":
            isolation = (
                "none"
                if a in shared
                else e.rng.choice(["per_tenant_database", "per_tenant_schema", "row_level"])
            )
            lines.append(f"tenant_isolation: {isolation}")
        if a in faulty:
            e.mark("application", a)
        out.append(lines)
    e.lines["application"] = out


def build_servers(e: Estate) -> None:
    n = e.counts["server"]
    roles = e.server_roles
    hosting = e.hosting
    in_scope = [s for s in range(n) if roles[s] in ("hosting", "backup", "database", "archive")]
    archived = [s for s in range(n) if roles[s] in ("hosting", "backup", "archive")]
    weak = e.weak(n)
    abroad, transferred = ({in_scope[k] for k in ks} for ks in e.split(len(in_scope), 0.05, 0.02))
    away = abroad | transferred
    health = set(e.rng.sample(hosting, min(len(hosting), max(2, round(len(hosting) * 0.04)))))
    uncertified = e.some(sorted(health), 0.1)
    other_archive, clear_archive = ({archived[k] for k in ks} for ks in e.split(len(archived), 0.06, 0.06))
    every = list(range(n))
    no_updates, unpatched, wrong_admin = (e.some(every, rate, weak) for rate in (0.06, 0.12, 0.08))
    clear_disk = e.some(e.backup_servers, 0.05) | e.some(
        [s for s in every if roles[s] != "backup"], 0.06, weak
    )
    faulty = (
        abroad
        | uncertified
        | other_archive
        | clear_archive
        | no_updates
        | unpatched
        | clear_disk
        | wrong_admin
    )
    env_of: dict[int, int] = {}
    for a, hosts in e.hosted_on.items():
        for s in hosts:
            if a in e.production_env:
                env_of.setdefault(s, e.production_env[a])
    transfers = [_ref("attestation", 7)] if e.counts["attestation"] > 7 else []
    transfers += [_ref("document", 8)] if e.counts["document"] > 8 else []
    vendor_admins = list(e.vendor_admins)
    out = []
    for s in range(n):
        role = roles[s]
        if role == "hosting":
            names = e.rng.choice([["hosting"], ["hosting"], ["hosting", "database"]])
        elif role == "backup":
            names = e.rng.choice([["backup"], ["backup"], ["backup", "archive"]])
        elif role in ("database", "archive"):
            names = [role]
        else:
            names = e.rng.choice([["monitoring"], ["build"], ["admin"], ["build", "monitoring"]])
        elsewhere = s in other_archive
        provider = (
            e.rng.choice(["scaleway", "in-house"])
            if elsewhere
            else "ovh"
            if role != "other"
            else e.rng.choice(["ovh", "ovh", "scaleway", "in-house"])
        )
        country = "US" if s in away else e.rng.choice(EU) if provider == "ovh" else "FR"
        lines = [
            f"provider: {provider}",
            f"datacenter: {e.rng.choice(DATACENTRES[provider][country])}",
            f"country: {country}",
            f"roles: [{', '.join(names)}]",
            f"hosts_client_data: {_bool(role == 'hosting')}",
        ]
        if s in health:
            lines.append("data_categories: [identification, health, social_security_number]")
            if s not in uncertified:
                lines.append("hds_certified: true")
            else:
                lines.append("# HDS certification requested, not obtained yet.")
        elif role == "hosting":
            lines.append("data_categories: [identification, professional_life, connection]")
        lines += [
            f"disk_encryption: {_bool(s not in clear_disk)}",
            f"automatic_updates: {'none' if s in no_updates else e.rng.choice(['security', 'security', 'all'])}",
            f"last_patched_on: {e.days(45, 200) if s in unpatched else e.days(0, 25)}",
        ]
        pool = e.admins or e.former_admins
        admins = sorted({e.rng.choice(pool) for _ in range(e.rng.randint(1, 3))})
        if s in wrong_admin:
            admins.append(e.rng.choice(e.former_admins))
        if vendor_admins and role == "hosting" and s not in wrong_admin:
            admins.append(vendor_admins.pop())
        lines += ["admins:", *[f"  - {_ref('account', a)}" for a in dict.fromkeys(admins)]]
        if s in env_of:
            lines.append(f"environment: {_ref('environment', env_of[s])}")
        if s in archived:
            method = e.rng.choice(["object_storage", "tape"]) if elsewhere else "ovh_snapshot"
            lines.append(f"archive: {{method: {method}, encrypted: {_bool(s not in clear_archive)}}}")
        if s in transferred and transfers:
            lines.append(f"transfer: {e.rng.choice(transfers)}")
        if s in faulty:
            e.mark("server", s)
        out.append(lines)
    e.lines["server"] = out


def build_websites(e: Estate) -> None:
    n = e.counts["website"]
    weak, every = e.weak(n), list(range(n))
    insecure, old_tls, expiring, unsaved = (e.some(every, rate, weak) for rate in (0.08, 0.08, 0.06, 0.12))
    faulty = insecure | old_tls | expiring | unsaved
    hosts = e.hosting or [0]
    out = []
    for w in range(n):
        changed = e.moment(0, 90)
        scheme = "http" if w in insecure and w % 2 else "https"
        lines = [
            f"url: {scheme}://site-{w}.example.com",
            f"https_only: {_bool(w not in insecure)}",
            "http_redirect: true",
            f'min_tls_version: "{e.rng.choice(["1.0", "1.1"]) if w in old_tls else e.rng.choice(["1.2", "1.2", "1.3"])}"',
            f"certificate_expires_on: {e.days(-13, 20) if w in expiring else e.days(-300, -20)}",
            f"last_changed_at: {_stamp(changed)}",
        ]
        if w in unsaved:
            if w % 2:
                backup = changed - dt.timedelta(days=e.rng.randint(3, 60))
                lines.append(f"last_backup_at: {_stamp(backup)}")
        else:
            lines.append(f"last_backup_at: {_stamp(changed - dt.timedelta(minutes=e.rng.randint(5, 300)))}")
        lines.append(f"hosted_on: {_ref('server', e.rng.choice(hosts))}")
        if w in faulty:
            e.mark("website", w)
        out.append(lines)
    e.lines["website"] = out


# ---- devices --------------------------------------------------------------------------------


def build_workstations(e: Estate) -> None:
    n = e.counts["workstation"]
    laptops = [i for i in range(n) if i % 3]
    weak, every = e.weak(n), list(range(n))
    lock, firewall, antivirus, updates, unsaved, allowlist, local_admin = (
        e.some(every, rate, weak) for rate in (0.1, 0.08, 0.11, 0.08, 0.08, 0.15, 0.1)
    )
    clear, orphan = e.some(laptops, 0.07, weak), e.some(laptops, 0.06, weak)
    faulty = lock | firewall | antivirus | updates | unsaved | allowlist | local_admin | clear | orphan
    users = e.active_people or [0]
    out = []
    for i in range(n):
        owner = e.rng.choice(e.left_people) if i in orphan and e.left_people else e.rng.choice(users)
        lines = [
            f"type: {'laptop' if i % 3 else 'desktop'}",
            f"assigned_to: {_ref('person', owner)}",
            f"os: {e.rng.choice(['Windows 11 23H2', 'macOS 14.5', 'Ubuntu 24.04'])}",
            "individual_login: true",
            f"screen_lock_minutes: {e.rng.choice([30, 60]) if i in lock else e.rng.choice([5, 10, 15])}",
            f"firewall_enabled: {_bool(i not in firewall)}",
            "antivirus_enabled: true",
            f"antivirus_updated_on: {e.days(10, 90) if i in antivirus else e.days(0, 3)}",
            f"automatic_updates: {_bool(i not in updates)}",
            f"data_backed_up: {_bool(i not in unsaved)}",
            f"application_allowlisting: {_bool(i not in allowlist)}",
            f"user_is_local_admin: {_bool(i in local_admin)}",
            f"disk_encryption: {_bool(i not in clear)}",
        ]
        if i in orphan:
            lines.insert(2, "# Not returned yet.")
        if i in faulty:
            e.mark("workstation", i)
        out.append(lines)
    e.lines["workstation"] = out


def build_mobile_devices(e: Estate) -> None:
    n = e.counts["mobile_device"]
    phones = [i for i in range(n) if i % 2 == 0]
    weak = e.weak(n)
    clear = e.some(list(range(n)), 0.1, weak)
    unlocked = e.some(phones, 0.1, weak)
    faulty = clear | unlocked
    users = e.active_people or [0]
    out = []
    for i in range(n):
        lock = "none" if i in unlocked else e.rng.choice(["pin", "biometric", "password"])
        out.append(
            [
                f"type: {'smartphone' if i % 2 == 0 else 'tablet'}",
                f"assigned_to: {_ref('person', e.rng.choice(users))}",
                f"encrypted: {_bool(i not in clear)}",
                f"lock: {lock}",
            ]
        )
        if i in faulty:
            e.mark("mobile_device", i)
    e.lines["mobile_device"] = out


# ---- incidents, maintenance, governance -----------------------------------------------------


def build_incidents(e: Estate) -> None:
    n = e.counts["incident"]
    # One in twelve is still open or being investigated: a recent one.
    e.incidents = [e.moment(1, 20) if i % 12 == 0 else e.moment(1, 300) for i in range(n)]
    closed = [i for i, t in enumerate(e.incidents) if t < T0 - dt.timedelta(days=3) and i % 12]
    unexplained = e.some(closed, 0.05)
    done = set(closed)
    out = []
    for i, detected in enumerate(e.incidents):
        lines = [
            f"identifier: INC-{i}",
            f'title: "Incident #{i}: unexpected outage"',
            f"detected_at: {_stamp(detected)}",
            f"status: {'closed' if i in done else e.rng.choice(['open', 'investigating'])}",
            f"severity: {e.rng.choice(['low', 'medium', 'high'])}",
        ]
        if i in done:
            lines.append(f"closed_at: {_stamp(detected + dt.timedelta(hours=e.rng.randint(1, 72)))}")
            if i in unexplained:
                e.mark("incident", i)
            else:
                lines.append("root_cause: Misconfigured firewall rule")
        out.append(lines)
    e.lines["incident"] = out


def build_breaches(e: Estate) -> None:
    n = e.counts["breach"]
    late = e.some(list(range(n)), 0.12)
    # Breaches of incidents old enough for the notification to be due (or overdue).
    old = [i for i, t in enumerate(e.incidents) if t < T0 - dt.timedelta(days=12)] or list(
        range(len(e.incidents))
    )
    out = []
    for i in range(n):
        incident = e.rng.choice(old)
        found = e.incidents[incident] + dt.timedelta(hours=e.rng.randint(0, 6))
        lines = [
            f"incident: {_ref('incident', incident)}",
            "personal_data: true",
            f"discovered_at: {_stamp(found)}",
        ]
        if i in late:
            if i % 2:
                lines.append(f"client_notified_at: {_stamp(found + dt.timedelta(days=e.rng.randint(4, 9)))}")
            e.mark("breach", i)
        else:
            lines.append(f"client_notified_at: {_stamp(found + dt.timedelta(hours=e.rng.randint(2, 70)))}")
        lines += [
            "description: >-",
            "  Exposure of a support export, sent to the wrong",
            "  client by mistake.",
        ]
        out.append(lines)
    e.lines["breach"] = out


def build_maintenance(e: Estate) -> None:
    n = e.counts["maintenance"]
    outside = [i for i in range(n) if i % 10 < 3]  # done by a subprocessor's technician
    on_client = [i for i in range(n) if i % 10 == 5]
    remote = [i for i in range(n) if i % 5]
    blank = e.some(remote, 0.01)
    unauthorised = e.some(on_client, 0.1)
    unsupervised = e.some(outside, 0.08)
    overrun = e.some(list(range(n)), 0.06)
    faulty = blank | unauthorised | unsupervised | overrun
    staff = e.active_people or [0]
    technicians = e.vendor_people or staff
    leads = e.leads or staff
    lead = set(leads)
    others = [p for p in staff if p not in lead] or staff
    third_parties = set(outside)
    out = []
    for i in range(n):
        third = i in third_parties
        start = e.moment(0, 200)
        if i in overrun:
            end = start + dt.timedelta(hours=e.rng.randint(26, 72))
        else:
            end = start + dt.timedelta(minutes=e.rng.randint(20, 360))
        nature = '" "  # left blank in the register' if i in blank else e.rng.choice(NATURES)
        lines = [
            f"nature: {nature}",
            f"performed_by: {_ref('person', e.rng.choice(technicians if third else staff))}",
            f"third_party: {_bool(third)}",
            f"remote: {_bool(i % 5 != 0)}",
            f"client_system: {_bool(i % 10 == 5)}",
        ]
        if i % 10 == 5 and i not in unauthorised:
            lines.append(f"client_authorisation: Client {i}, change request CHG-{i} approved")
        if third and i not in unsupervised:
            lines.append(f"supervised_by: {_ref('person', e.rng.choice(leads))}")
        elif third and i % 2:
            lines.append(f"supervised_by: {_ref('person', e.rng.choice(others))}  # not the technology lead")
        lines += [f"started_at: {_stamp(start)}", f"ended_at: {_stamp(end)}"]
        target = (
            _ref("server", e.rng.choice(e.hosting or [0]))
            if i % 4
            else _ref("application", i % e.counts["application"])
        )
        lines.append(f"target: {target}")
        if i in faulty:
            e.mark("maintenance", i)
        out.append(lines)
    e.lines["maintenance"] = out


def build_subprocessors(e: Estate) -> None:
    n = e.counts["subprocessor"]
    contact: dict[int, int] = {}
    for p, s in e.vendor_of.items():
        contact.setdefault(s, p)
    abroad, transferred, no_clauses, unlisted, short_notice = (
        set(s) for s in e.split(n, 0.04, 0.04, 0.04, 0.04, 0.04)
    )
    away, faulty = abroad | transferred, abroad | no_clauses | unlisted | short_notice
    transfers = [_ref("attestation", 7)] if e.counts["attestation"] > 7 else []
    transfers += [_ref("document", 8)] if e.counts["document"] > 8 else []
    staff = e.active_people or [0]
    out = []
    for i in range(n):
        start = e.rng.randint(100, 900)
        lines = [
            f"legal_name: Subprocessor {i} SAS",
            f"country: {'US' if i in away else e.rng.choice(EU)}",
            "service: Hosting",
            f"contact: {_ref('person', contact.get(i, e.rng.choice(staff)))}",
            f"gdpr_clauses: {_bool(i not in no_clauses)}",
            f"on_client_list: {_bool(i not in unlisted)}",
        ]
        if i in short_notice:
            lines.append(f"announced_on: {_day(start + e.rng.randint(1, 20))}")
        elif i not in unlisted and i % 4:
            lines.append(f"announced_on: {_day(start + e.rng.randint(31, 120))}")
        lines.append(f"started_on: {_day(start)}")
        if i in transferred and transfers:
            lines.append(f"transfer: {e.rng.choice(transfers)}")
        if i in faulty:
            e.mark("subprocessor", i)
        out.append(lines)
    e.lines["subprocessor"] = out


def build_attestations(e: Estate) -> None:
    """The first nine are the current statements (one per topic, the transfer
    instruction, one other); the rest are earlier, expired ones and other statements."""
    n = e.counts["attestation"]
    topics = [*TOPICS, "transfer_instruction", "other"]
    staff = e.active_people or [0]
    out = []
    for i in range(n):
        topic = topics[i % len(topics)]
        current = i < len(topics) or topic == "other"
        signed = e.rng.randint(10, 300) if current else e.rng.randint(400, 800)
        until = signed - 365 if not current else -e.rng.randint(30, 300)
        out.append(
            [
                f"topic: {topic}",
                "statement: |",
                f"  Statement on {topic.replace('_', ' ')}, signed by its owner;",
                "  evidence is kept by the compliance team.",
                f"attested_by: {_ref('person', e.rng.choice(staff))}",
                f"attested_on: {_day(signed)}",
                f"valid_until: {_day(until)}",
            ]
        )
    e.lines["attestation"] = out


def build_documents(e: Estate) -> None:
    """The first nine are the current version of each document type; the rest are
    superseded versions, reviewed and tested long ago, and other documents."""
    n = e.counts["document"]
    kinds = [*DOCUMENTS, "other"]
    staff = e.active_people or [0]
    out = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        current = i < len(DOCUMENTS) or kind == "other"
        lines = [
            f"type: {kind}",
            f"title: {TITLES[kind]}{'' if i < len(DOCUMENTS) else f' ({i})'}",
            f"owner: {_ref('person', e.rng.choice(staff))}",
            f'version: "{i % 7}.{i % 3}"',
            f"approved_on: {e.days(30, 300) if current else e.days(500, 1200)}",
            f"reviewed_on: {e.days(0, 200) if current else e.days(400, 800)}",
        ]
        if kind in TESTED_DOCUMENTS:
            lines.append(f"tested_on: {e.days(10, 300) if current else e.days(400, 700)}")
        out.append(lines)
    e.lines["document"] = out


def build_access_reviews(e: Estate) -> None:
    """Quarterly reviews per system, the newest first; a few systems' reviews stopped
    over a year ago (ACC-03)."""
    n, systems = e.counts["access_review"], e.counts["system"]
    lapsed = e.some(list(range(systems)), 0.05)
    staff = e.active_people or [0]
    offset = {s: e.rng.randint(380, 500) if s in lapsed else e.rng.randint(5, 80) for s in range(systems)}
    out = []
    for j in range(n):
        s, k = j % systems, j // systems
        lines = [f"system: {_ref('system', s)}"]
        if s not in lapsed and k == 0 and j % 7 == 3:
            lines.append("status: in_progress")  # this quarter's, under way
        else:
            lines += ["status: completed", f"completed_on: {_day(offset[s] + k * 91)}"]
        lines.append(f"reviewer: {_ref('person', e.rng.choice(staff))}")
        out.append(lines)
    for s in lapsed:
        e.mark("system", s)
    if n < systems:  # a tiny estate: some systems have no review at all
        for s in range(n, systems):
            e.mark("system", s)
    e.lines["access_review"] = out


def build_erasure_requests(e: Estate) -> None:
    """Requests done within the month, a few open ones, a few rejected; some were done
    late or left open too long (GDPR-03a), some left the replicas (GDPR-03b)."""
    n = e.counts["erasure_request"]
    slow, replicas = (set(s) for s in e.split(n, 0.04, 0.04))
    out = []
    for i in range(n):
        done: int | None  # days before as_of
        if i in slow and i % 2:
            status, received, done = "open", e.rng.randint(45, 200), None
        elif i in slow:
            received = e.rng.randint(100, 300)
            status, done = "completed", received - e.rng.randint(40, 90)
        elif i % 15 == 7 and i not in replicas:
            status, received, done = "rejected", e.rng.randint(20, 300), None
        elif i % 15 == 3 and i not in replicas:
            status, received, done = "open", e.rng.randint(0, 25), None
        else:
            received = e.rng.randint(20, 300)
            status, done = "completed", max(0, received - e.rng.randint(0, 25))
        lines = [f"received_on: {_day(received)}"]
        if done is not None:
            lines += [f"completed_on: {_day(done)}", f"replicas_erased: {_bool(i not in replicas)}"]
        lines.append(f"status: {status}")
        if i in slow or i in replicas:
            e.mark("erasure_request", i)
        out.append(lines)
    e.lines["erasure_request"] = out


def build_penetration_tests(e: Estate) -> None:
    """This year's black-box tests, internal and external, first; then grey- and
    white-box tests of single applications, and earlier years' tests."""
    n = e.counts["penetration_test"]
    out = []
    for i in range(n):
        current = i < 2
        method = "black_box" if current or i % 4 == 0 else e.rng.choice(["grey_box", "white_box"])
        out.append(
            [
                f"scope: {'internal' if i % 2 == 0 else 'external'}",
                f"method: {method}",
                f"performed_on: {e.days(20, 300) if current else e.days(60, 900)}",
                "provider: Pentest & Co (fictitious)",
                f"report: reports/pentest-{i}.pdf",
            ]
        )
    e.lines["penetration_test"] = out


def build_slas(e: Estate) -> None:
    n = e.counts["sla"]
    slow = e.some(list(range(n)), 0.05)
    out = []
    for i in range(n):
        hours = e.rng.choice([72, 96]) if i in slow else e.rng.choice([4, 24, 48])
        out.append([f"client: Client {i}", f"pra_activation_hours: {hours}", f"signed_on: {e.days(0, 700)}"])
        if i in slow:
            e.mark("sla", i)
    e.lines["sla"] = out


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
