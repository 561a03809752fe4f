"""The estate's model: constants, name helpers, cron expressions with their firings,
the records planned for several kinds at once (Schedule, Run, Release, Account), and
the Estate every builder fills in, with the random draws they share."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import TypeVar

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
