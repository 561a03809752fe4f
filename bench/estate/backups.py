"""Servers, backup schedules and their runs, restore tests, websites: built together,
so that the runs the backup rules count are the runs of each server's own schedules."""

from __future__ import annotations

import datetime as dt

from .applications import _production
from .base import D0, DATACENTRES, EU, T0, Cron, Estate, Run, Schedule, _bool, _ref, _stamp

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
