"""Applications, their environments and their releases: planned before the servers
and backups (which host and back them up), built once the backup runs exist."""

from __future__ import annotations

import datetime as dt

from .base import D0, Estate, Release, _ref, _stamp

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


# ---- releases and applications, once the servers and backups are planned ---------------------


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
