"""Incidents, breaches, maintenance, subprocessors, attestations, documents, access
reviews, erasure requests, penetration tests and SLAs."""

from __future__ import annotations

import datetime as dt

from .base import (
    DOCUMENTS,
    EU,
    NATURES,
    T0,
    TESTED_DOCUMENTS,
    TITLES,
    TOPICS,
    Estate,
    _bool,
    _day,
    _ref,
    _stamp,
)

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
