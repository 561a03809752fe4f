"""Findings as plain values, to come back from a forked evaluator (`zenpolicy.parallel`).

The bytes are marshal's: built-in types only, so reading them back runs no code. The
child and the parent hold the same inventory (the child is a fork), so a finding is
sent as little as possible, and what it shares with others is sent once:

* its rule and severity as the rule's index; its subject as its address (the parent
  takes the location from its own `Resource` of that address);
* its location only when it is not the resource's own (an attribute, for a failure);
* its message only when it is not the rule's title (a failure's or an error's);
* its evidence as indexes into a table of the distinct checks, made once each.
"""

from __future__ import annotations

import marshal
from collections.abc import Sequence
from typing import Any

from zenpolicy.engines.native import new_check, new_finding
from zenpolicy.inventory.model import Inventory
from zenpolicy.model import Check, Finding, Location, Status, Tally
from zenpolicy.rules.model import INVENTORY, INVENTORY_ADDRESS, Rule

_STATUS_CODES = {status: code for code, status in enumerate(Status)}
_STATUSES = tuple(Status)


def dumps(
    findings: Sequence[Finding],
    done: Sequence[int],
    tally: Tally | None,
    rules: Sequence[Rule],
    inventory: Inventory,
) -> bytes:
    """`findings` of `rules` on `inventory`, with the indexes of the rules evaluated
    (`done`) and the tally of all their findings when only some are sent, as bytes;
    ValueError when an evidence value is not of a built-in type marshal writes."""
    rule_index = {rule.id: i for i, rule in enumerate(rules)}
    rule_kind = {rule.id: rule.resource for rule in rules}
    titles = {rule.id: rule.title for rule in rules}
    resources = inventory.by_address
    check_ids: dict[int, int] = {}
    checks: list[tuple[Any, ...]] = []
    plain: list[tuple[Any, ...]] = []
    for f in findings:
        subject: str | None = None  # the inventory as a whole
        own: Location | None = None
        if f.address != INVENTORY_ADDRESS and rule_kind[f.rule_id] != INVENTORY:
            subject, own = f.address, resources[f.address].location
        ids = []
        for check in f.evidence:
            index = check_ids.get(id(check))
            if index is None:
                index = check_ids[id(check)] = len(checks)
                checks.append((check.test, check.actual, check.expected, check.result))
            ids.append(index)
        location = f.location
        plain.append(
            (
                rule_index[f.rule_id],
                subject,
                _STATUS_CODES[f.status],
                None if location is own else (location.path, location.line, location.column),
                None if f.message == titles[f.rule_id] else f.message,
                tuple(ids),
            )
        )
    return marshal.dumps((checks, plain, list(done), None if tally is None else tally.to_plain()))


def loads(
    data: bytes | memoryview, rules: Sequence[Rule], inventory: Inventory
) -> tuple[list[Finding], list[int], Tally | None]:
    """The findings `dumps` wrote, equal field by field to the originals, the indexes
    of the rules evaluated, and the tally."""
    # Our own child's bytes, from a file with no name that only this process tree holds.
    table, plain, done, tally = marshal.loads(data)  # noqa: S302
    checks: list[Check] = [new_check(*fields) for fields in table]
    evidences: dict[tuple[int, ...], tuple[Check, ...]] = {}
    statuses = _STATUSES
    resources = inventory.by_address
    root = inventory.root
    out: list[Finding] = []
    append = out.append
    for rule_index, subject, status, where, message, ids in plain:
        rule = rules[rule_index]
        if subject is None:
            address, location = INVENTORY_ADDRESS, root
        else:
            res = resources[subject]
            address, location = res.address, res.location
        if where is not None:
            path, line, column = where
            location = Location(path=path, line=line, column=column)
        evidence = evidences.get(ids)
        if evidence is None:
            evidence = evidences[ids] = tuple(checks[i] for i in ids)
        append(
            new_finding(
                rule.id,
                address,
                statuses[status],
                rule.severity,
                location,
                rule.title if message is None else message,
                evidence,
            )
        )
    return out, list(done), None if tally is None else Tally.from_plain(tally)
