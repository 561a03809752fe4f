"""Documents -> validated, indexed `Inventory`.

Checks in the order a user can act on them: the shape of each file (kinds, names),
duplicate addresses across files, each resource against its kind's schema, then
references and cron expressions. Every problem is collected; any problem means no
inventory is built, so rules never run on input that is not understood.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from cronsim import CronSim, CronSimError

from zenpolicy.inventory.loader import Document
from zenpolicy.inventory.model import Inventory, Resource, add_referrer, fast_location, new_resource
from zenpolicy.inventory.schema import cron_paths, kind_schemas, reference_paths, validators
from zenpolicy.model import Location, Problem

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")
CRON_EPOCH = __import__("datetime").datetime(2026, 1, 1)


def _loc(doc: Document, path: tuple[str | int, ...]) -> Location:
    while path:
        pos = doc.source_map.get(path)
        if pos is not None:
            return Location(path=doc.path, line=pos[0], column=pos[1])
        path = path[:-1]
    return Location(path=doc.path, line=1, column=1)


def collect_resources(documents: Iterable[Document]) -> tuple[list[Resource], list[Problem]]:
    """Check each file's shape and gather its resources, rejecting duplicate addresses."""
    known = kind_schemas()
    resources: list[Resource] = []
    problems: list[Problem] = []
    seen: dict[str, Location] = {}
    for doc in documents:
        value, source_map = doc.value, doc.source_map
        if value is None:
            problems.append(
                Problem(
                    location=Location(path=doc.path, line=1, column=1),
                    message="file is empty: an inventory file maps resource kinds to resources",
                    code="empty-file",
                )
            )
            continue
        if not isinstance(value, dict):
            problems.append(
                Problem(
                    location=Location(path=doc.path, line=1, column=1),
                    message="expected a mapping of resource kinds (server:, account:, ...) at the top of the file",
                    code="bad-structure",
                )
            )
            continue
        for kind, named in value.items():
            if kind not in known:
                hint = difflib.get_close_matches(kind, list(known), n=1)
                suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
                problems.append(
                    Problem(
                        location=_loc(doc, (kind,)),
                        message=f"unknown resource kind {kind!r}{suggestion}",
                        code="unknown-kind",
                    )
                )
                continue
            if not isinstance(named, dict):
                problems.append(
                    Problem(
                        location=_loc(doc, (kind,)),
                        message=f"{kind}: expected a mapping of resource names to attributes",
                        code="bad-structure",
                    )
                )
                continue
            for name, attrs in named.items():
                pos = source_map.get((kind, name))
                location = _loc(doc, (kind, name)) if pos is None else fast_location(doc.path, pos[0], pos[1])
                address = f"{kind}.{name}"
                if not NAME_RE.match(name):
                    problems.append(
                        Problem(
                            location=location,
                            message=f"invalid resource name {name!r}: use letters, digits, '_', '-', '.', '@', starting with a letter or digit",
                            code="bad-name",
                        )
                    )
                    continue
                if address in seen:
                    problems.append(
                        Problem(
                            location=location,
                            message=f"duplicate address {address} (first declared at {seen[address]})",
                            code="duplicate-address",
                        )
                    )
                    continue
                seen[address] = location
                if attrs is None:
                    attrs = {}
                if not isinstance(attrs, dict):
                    problems.append(
                        Problem(
                            location=location,
                            message=f"{address}: expected a mapping of attributes",
                            code="bad-structure",
                        )
                    )
                    continue
                resources.append(new_resource(kind, name, attrs, location, doc.path, source_map))
    return resources, problems


def schema_problems(resources: Iterable[Resource]) -> list[Problem]:
    kinds = validators()
    problems: list[Problem] = []
    for res in resources:
        validator = kinds[res.kind]
        if validator.is_valid(res.attrs):
            continue
        for sp in validator.problems(res.attrs):
            problems.append(
                Problem(
                    location=res.attribute_location(sp.path),
                    message=f"{res.address}: {sp.message}",
                    code=sp.code,
                )
            )
    return problems


def _values_at(attrs: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(attrs, dict) or part not in attrs:
            return None
        attrs = attrs[part]
    return attrs


def link(resources: list[Resource], root: Location) -> tuple[Inventory, list[Problem]]:
    """Index resources and check every reference and cron expression."""
    inv = Inventory(root=root)
    for res in sorted(resources, key=lambda r: (r.kind, r.name)):
        inv.by_address[res.address] = res
        inv.by_kind.setdefault(res.kind, []).append(res)
    problems: list[Problem] = []
    schemas = kind_schemas()
    ref_specs = {
        kind: [(path, allowed, is_list, ".".join(path)) for path, allowed, is_list in reference_paths(schema)]
        for kind, schema in schemas.items()
    }
    cron_specs = {kind: cron_paths(schema) for kind, schema in schemas.items()}
    cron_ok: dict[str, str | None] = {}
    by_address = inv.by_address
    # Each reference attribute's reverse index, looked up once per kind, not per value.
    reverse = {
        kind: [inv.reverse_index(kind, spec[3]) for spec in specs]
        for kind, specs in ref_specs.items()
        if kind in inv.by_kind
    }
    for res in by_address.values():
        attrs = res.attrs
        for (path, allowed, is_list, via), reverse_index in zip(
            ref_specs[res.kind], reverse[res.kind], strict=True
        ):
            # Most references are top-level attributes: one dict look-up.
            value = attrs.get(path[0]) if len(path) == 1 else _values_at(attrs, path)
            if value is None:
                continue
            for index, target in enumerate(value if is_list else (value,)):
                if type(target) is not str:
                    continue  # the schema has already said it must be a string
                found = by_address.get(target)
                if found is not None and found.kind in allowed:
                    # The common case, decided at once (add_referrer, inlined: 200k calls).
                    referring = reverse_index.get(target)
                    if referring is None:
                        reverse_index[target] = [res]
                    elif referring[-1] is not res:
                        referring.append(res)
                    continue
                problem, code = _check_reference(inv, res, via, target, allowed)
                if problem is not None:
                    at: tuple[str | int, ...] = (*path, index) if is_list else path
                    problems.append(Problem(location=res.attribute_location(at), message=problem, code=code))
                else:
                    add_referrer(reverse_index, res, target)
        for path in cron_specs[res.kind]:
            expr = _values_at(res.attrs, path)
            if not isinstance(expr, str):
                continue
            if expr not in cron_ok:
                cron_ok[expr] = cron_error(expr)
            if cron_ok[expr] is not None:
                problems.append(
                    Problem(
                        location=res.attribute_location(path),
                        message=f"{res.address}: {'.'.join(path)} {expr!r} is not a valid cron expression: {cron_ok[expr]}",
                        code="bad-cron",
                    )
                )
    return inv, problems


def cron_error(expr: str) -> str | None:
    if len(expr.split()) != 5:
        return "expected five fields (minute hour day-of-month month day-of-week)"
    try:
        CronSim(expr, CRON_EPOCH)
    except CronSimError as exc:
        return str(exc) or "invalid"
    return None


def _check_reference(
    inv: Inventory, res: Resource, via: str, target: str, allowed: tuple[str, ...]
) -> tuple[str | None, str]:
    expected = " or ".join(allowed)
    expected_a = _a(expected)
    if "." not in target:
        return (
            f"{res.address}: {via} must be a reference kind.name to {expected_a}; got {target!r}",
            "bad-reference",
        )
    kind, _, name = target.partition(".")
    found = inv.get(target)
    if kind not in allowed:
        what = _a(kind) if found is not None or kind in inv.by_kind else f"{kind!r}, not a kind it accepts"
        return f"{res.address}: {via} must reference {expected_a}; {target} is {what}", "wrong-kind-reference"
    if found is None:
        names = [r.name for r in inv.kind(kind)]
        hint = difflib.get_close_matches(name, names, n=1)
        suggestion = f" (did you mean {kind}.{hint[0]}?)" if hint else ""
        return (
            f"{res.address}: {via} references {target}, which is not declared{suggestion}",
            "dangling-reference",
        )
    return None, ""


def _a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun
