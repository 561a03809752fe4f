"""People, roles, password policies, systems, and the accounts people hold on those systems."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

from .base import FIRST, JOBS, LAST, T0, Account, Estate, _bool, _ref, _stamp

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
