"""Workstations and mobile devices."""

from __future__ import annotations

from .base import Estate, _bool, _ref

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
