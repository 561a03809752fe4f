"""Findings as plain values, to come back from a forked evaluator (`zenpolicy.parallel`).

The bytes are marshal's: built-in types only, so reading them back runs no code. The
child and the parent hold the same inventory (the child is a fork), so a finding is
sent as little as possible, and what it shares with others is sent once:

* its rule, severity and subject as positions: the rule's index, the resource's index
  among the resources of the rule's kind (the parent takes the address and location
  from its own `Resource`);
* its location only when it is not the resource's own (an attribute, for a failure);
* its message only when it is not the rule's title (a failure's or an error's);
* its evidence as indexes into a table of the distinct checks, made once each.
"""

from __future__ import annotations

import marshal
from collections.abc import Sequence
from typing import Any

from zenpolicy.engines.native import INVENTORY_ADDRESS, new_check, new_finding
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.model import Check, Finding, Location, Status, Tally
from zenpolicy.rules.model import INVENTORY, Rule

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
    positions: dict[str, dict[str, int]] = {}
    resources: dict[str, Sequence[Resource]] = {}
    check_ids: dict[int, int] = {}
    checks: list[tuple[Any, ...]] = []
    plain: list[tuple[Any, ...]] = []
    for f in findings:
        kind = rule_kind[f.rule_id]
        position = -1  # the inventory as a whole
        own: Location | None = None
        if f.address != INVENTORY_ADDRESS and kind != INVENTORY:
            at = positions.get(kind)
            if at is None:
                resources[kind] = inventory.kind(kind)
                at = positions[kind] = {res.address: i for i, res in enumerate(resources[kind])}
            position = at[f.address]
            own = resources[kind][position].location
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
                position,
                _STATUS_CODES[f.status],
                None if location is own else (location.path, location.line, location.column),
                None if f.message == titles[f.rule_id] else f.message,
                tuple(ids),
            )
        )
    return marshal.dumps((checks, plain, list(done), None if tally is None else tally.to_plain()))


def loads(
    data: bytes, rules: Sequence[Rule], inventory: Inventory
) -> tuple[list[Finding], list[int], Tally | None]:
    """The findings `dumps` wrote, equal field by field to the originals, the indexes
    of the rules evaluated, and the tally."""
    # Our own child's bytes, from a file with no name that only this process tree holds.
    table, plain, done, tally = marshal.loads(data)  # noqa: S302
    checks: list[Check] = [new_check(*fields) for fields in table]
    evidences: dict[tuple[int, ...], tuple[Check, ...]] = {}
    statuses = _STATUSES
    kinds = [() if rule.resource == INVENTORY else inventory.kind(rule.resource) for rule in rules]
    root = inventory.root
    out: list[Finding] = []
    append = out.append
    for rule_index, position, status, where, message, ids in plain:
        rule = rules[rule_index]
        if position < 0:
            address, location = INVENTORY_ADDRESS, root
        else:
            res = kinds[rule_index][position]
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
