"""zenpolicy's single-resource built-in rules, written again as Checkov custom checks.

Used by bench/run.py --checkov only: `checkov -d ESTATE --framework yaml
--external-checks-dir bench/checkov --check CKV_ZP_...`. Each check states the same
`where` (applicability: UNKNOWN when it does not apply) and `require` as the rule named
in its ID, with the default parameters and the bench estate's as_of, so that both tools
do the same work: parse every file, visit every resource of the kind, test attributes.
A Checkov check sees one resource at a time, so rules that follow references are left
out of the comparison on both sides.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.yaml_doc.base_yaml_check import BaseYamlCheck
from checkov.yaml_doc.enums import BlockType

AS_OF = dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
DAY = 86400


def age(value: Any) -> float | None:
    """Seconds from a date (whole days) or date-time to AS_OF; None if neither."""
    if isinstance(value, dt.datetime):
        when = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return (AS_OF - when).total_seconds()
    if isinstance(value, dt.date):
        return (AS_OF.date() - value).days * DAY
    if isinstance(value, str):
        try:
            if len(value) == 10:
                return (AS_OF.date() - dt.date.fromisoformat(value)).days * DAY
            return (AS_OF - dt.datetime.fromisoformat(value.replace("Z", "+00:00"))).total_seconds()
        except ValueError:
            return None
    return None


def is_(value: Any, expected: Any) -> bool:
    return value is not None and type(value) is type(expected) and value == expected


Rule = Callable[[dict[str, Any]], bool]


class ZenRule(BaseYamlCheck):
    def __init__(self, rule_id: str, kind: str, where: Rule | None, require: Rule) -> None:
        super().__init__(
            name=f"zenpolicy {rule_id}",
            id=f"CKV_ZP_{rule_id.replace('-', '_')}",
            categories=[CheckCategories.GENERAL_SECURITY],
            supported_entities=[kind],
            block_type=BlockType.ARRAY,
        )
        self.where = where
        self.require = require

    def scan_entity_conf(self, conf: dict[str, Any], entity_type: str) -> CheckResult:  # type: ignore[override]
        if not isinstance(conf, dict):
            return CheckResult.UNKNOWN
        if self.where is not None and not self.where(conf):
            return CheckResult.UNKNOWN
        return CheckResult.PASSED if self.require(conf) else CheckResult.FAILED


def le_age(key: str, days: int) -> Rule:
    def test(c: dict[str, Any]) -> bool:
        seconds = age(c.get(key))
        return seconds is not None and seconds <= days * DAY

    return test


def eq(key: str, expected: Any) -> Rule:
    return lambda c: is_(c.get(key), expected)


def one_of(key: str, options: tuple[str, ...]) -> Rule:
    return lambda c: c.get(key) in options


def both(*tests: Rule) -> Rule:
    return lambda c: all(t(c) for t in tests)


RULES: list[tuple[str, str, Rule | None, Rule]] = [
    ("AUTH-03a", "account", both(eq("status", "active"), eq("authentication", "password")),
     le_age("password_changed_on", 31)),
    ("AUTH-06", "account", both(eq("status", "active"), one_of("type", ("service", "shared"))),
     eq("credential_storage", "vault")),
    ("ACC-02b", "account", both(eq("status", "active"), eq("type", "human")), le_age("last_login", 90)),
    ("SRV-01a", "server", None, one_of("automatic_updates", ("security", "all"))),
    ("SRV-01b", "server", None, le_age("last_patched_on", 30)),
    ("SRV-02", "server", None, eq("disk_encryption", True)),
    ("SRV-04", "server", lambda c: "health" in (c.get("data_categories") or []), eq("hds_certified", True)),
    ("BAK-06a", "backup_schedule", None, eq("encrypted", True)),
    ("BAK-09", "sla", None,
     lambda c: isinstance(c.get("pra_activation_hours"), int | float) and c["pra_activation_hours"] <= 48),
    ("WEB-01a", "website", None,
     both(lambda c: isinstance(c.get("url"), str) and re.search("^https://", c["url"]) is not None,
          eq("https_only", True), eq("http_redirect", True))),
    ("MOB-01a", "mobile_device", None, eq("encrypted", True)),
    ("MOB-01b", "workstation", eq("type", "laptop"), eq("disk_encryption", True)),
    ("MOB-02", "mobile_device", eq("type", "smartphone"),
     one_of("lock", ("pin", "password", "pattern", "biometric"))),
    ("WKS-01", "workstation", None,
     lambda c: isinstance(c.get("screen_lock_minutes"), int) and 1 <= c["screen_lock_minutes"] <= 15),
    ("WKS-02", "workstation", None, eq("firewall_enabled", True)),
    ("WKS-03", "workstation", None, both(eq("antivirus_enabled", True), le_age("antivirus_updated_on", 7))),
    ("WKS-04", "workstation", None, eq("automatic_updates", True)),
    ("WKS-05", "workstation", None, eq("data_backed_up", True)),
    ("WKS-06a", "workstation", None, eq("application_allowlisting", True)),
    ("WKS-06b", "workstation", None, eq("user_is_local_admin", False)),
    ("SUB-01", "subprocessor", None, eq("gdpr_clauses", True)),
    ("SUB-02", "subprocessor", None, eq("on_client_list", True)),
    ("DEV-02", "environment", lambda c: c.get("type") is not None and c.get("type") != "production",
     eq("data", "fictitious")),
    ("GDPR-03b", "erasure_request", eq("status", "completed"), eq("replicas_erased", True)),
]  # fmt: skip

CHECKS = [ZenRule(*rule) for rule in RULES]
