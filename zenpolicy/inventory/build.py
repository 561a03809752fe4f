"""Documents -> validated, indexed `Inventory`.

Checks in the order a user can act on them: the shape of each file (kinds, names),
duplicate addresses across files, each resource against its kind's schema, then
references and cron expressions. Every problem is collected; any problem means no
inventory is built, so rules never run on input that is not understood.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from functools import partial
from itertools import compress, groupby, repeat
from operator import attrgetter, is_not
from typing import Any

from cronsim import CronSim, CronSimError

from zenpolicy.inventory.loader import Document
from zenpolicy.inventory.model import Inventory, Resource, add_referrer, fast_location, new_resource
from zenpolicy.inventory.schema import KindValidator, cron_paths, kind_schemas, reference_paths, validators
from zenpolicy.model import Location, Problem

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]*\Z")
_NAMES_RE = re.compile(r"(?:[A-Za-z0-9][A-Za-z0-9_.@-]*\n)*\Z")
_ADDRESS = attrgetter("address")
"""Resources sorted by address are sorted by (kind, name): a kind is lowercase letters
and `_`, all above the `.` that ends it, so a kind that begins another sorts first,
as in the pair (3.5x faster than building a pair per resource: 0.03 s at 100k)."""
_KIND = attrgetter("kind")
_ATTRS = attrgetter("attrs")
CRON_EPOCH = __import__("datetime").datetime(2026, 1, 1)


def _loc(doc: Document, path: tuple[str | int, ...]) -> Location:
    while path:
        pos = doc.source_map.get(path)
        if pos is not None:
            return Location(path=doc.path, line=pos[0], column=pos[1])
        path = path[:-1]
    return Location(path=doc.path, line=1, column=1)


def _names_valid(names: Collection[str]) -> bool:
    """Whether every name matches NAME_RE, in one regex pass over them all (a name
    holding a newline makes the count of lines differ; then each is matched alone)."""
    joined = "\n".join(names) + "\n"
    return joined.count("\n") == len(names) and _NAMES_RE.match(joined) is not None


class Collected:
    """One file's resources, each checked alone (shape, name, attributes against the
    schema): what `merge_collected` needs to compare addresses across files. Made as
    each file arrives from the processes that parse (`loader.load_each`)."""

    __slots__ = ("addresses", "entries", "locations", "problems", "resources", "schema")

    def __init__(self) -> None:
        self.addresses: list[str] = []
        """Every resource whose name is valid, in order."""
        self.locations: list[Location] = []
        self.entries: list[Resource | Problem] = []
        """For each of those, its resource, or why it has none (no mapping of attributes)."""
        self.resources: list[Resource] = []
        """The resources among `entries`."""
        self.problems: list[tuple[int, Problem]] = []
        """Problems of the file itself, each with the number of addresses before it."""
        self.schema: dict[int, list[Problem]] = {}
        """Schema problems, by index in `entries` (with `schemas`)."""

    def problem(self, location: Location, message: str, code: str) -> None:
        """A problem of the file itself, after the addresses gathered so far."""
        self.problems.append((len(self.addresses), Problem(location=location, message=message, code=code)))


def collect_document(doc: Document, *, schemas: bool = True) -> Collected:
    """Check one file's shape and gather its resources; with `schemas`, check each
    resource against its kind's schema too."""
    known = kind_schemas()
    kinds = validators() if schemas else {}
    out = Collected()
    value, source_map, shown = doc.value, doc.source_map, doc.path
    positions = source_map.positions
    addresses, locations, entries, resources = out.addresses, out.locations, out.entries, out.resources
    top = Location(path=doc.path, line=1, column=1)
    if value is None:
        out.problem(top, "file is empty: an inventory file maps resource kinds to resources", "empty-file")
        return out
    if not isinstance(value, dict):
        message = "expected a mapping of resource kinds (server:, account:, ...) at the top of the file"
        out.problem(top, message, "bad-structure")
        return out
    for kind, named in value.items():
        if kind not in known:
            hint = difflib.get_close_matches(kind, list(known), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            out.problem(_loc(doc, (kind,)), f"unknown resource kind {kind!r}{suggestion}", "unknown-kind")
            continue
        if not isinstance(named, dict):
            message = f"{kind}: expected a mapping of resource names to attributes"
            out.problem(_loc(doc, (kind,)), message, "bad-structure")
            continue
        names_valid = _names_valid(named)
        validator = kinds.get(kind)
        for name, attrs in named.items():
            # A name's position is known from the start, also to a lazy source map.
            pos = positions.get((kind, name))
            location = _loc(doc, (kind, name)) if pos is None else fast_location(shown, pos[0], pos[1])
            address = f"{kind}.{name}"
            if not names_valid and not NAME_RE.match(name):
                message = f"invalid resource name {name!r}: use letters, digits, '_', '-', '.', '@', starting with a letter or digit"
                out.problem(location, message, "bad-name")
                continue
            addresses.append(address)
            locations.append(location)
            if attrs is None:
                attrs = {}
            if not isinstance(attrs, dict):
                entries.append(
                    Problem(
                        location=location,
                        message=f"{address}: expected a mapping of attributes",
                        code="bad-structure",
                    )
                )
                continue
            res = new_resource(kind, name, attrs, location, shown, source_map, address)
            entries.append(res)
            resources.append(res)
            if validator is not None and not validator.is_valid(attrs):
                out.schema[len(entries) - 1] = _schema_problems(res, validator)
    return out


def merge_collected(collected: Iterable[Collected]) -> tuple[list[Resource], list[Problem]]:
    """The files' resources and problems, in file order, a resource declared again in a
    later file left out (a duplicate address, its own problems unreported). The
    problems are those of `collect_resources` then `schema_problems`, in that order."""
    resources: list[Resource] = []
    problems: list[Problem] = []
    later: list[Problem] = []
    seen: dict[str, Location] = {}
    for c in collected:
        addresses = c.addresses
        if not c.problems and len(c.resources) == len(addresses) and seen.keys().isdisjoint(addresses):
            # The usual file: every resource new, nothing to say but its schema problems.
            seen.update(zip(addresses, c.locations, strict=True))
            resources += c.resources
            for found in c.schema.values():
                later += found
            continue
        pending = iter(c.problems)
        following = next(pending, None)
        for i, address in enumerate(addresses):
            while following is not None and following[0] <= i:
                problems.append(following[1])
                following = next(pending, None)
            location = c.locations[i]
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
            entry = c.entries[i]
            if isinstance(entry, Problem):
                problems.append(entry)
                continue
            resources.append(entry)
            later += c.schema.get(i, ())
        while following is not None:
            problems.append(following[1])
            following = next(pending, None)
    return resources, problems + later


def collect_resources(documents: Iterable[Document]) -> tuple[list[Resource], list[Problem]]:
    """Check each file's shape and gather its resources, rejecting duplicate addresses."""
    return merge_collected(collect_document(doc, schemas=False) for doc in documents)


def schema_problems(resources: Iterable[Resource]) -> list[Problem]:
    kinds = validators()
    problems: list[Problem] = []
    for res in resources:
        validator = kinds[res.kind]
        if not validator.is_valid(res.attrs):
            problems += _schema_problems(res, validator)
    return problems


def _schema_problems(res: Resource, validator: KindValidator) -> list[Problem]:
    return [
        Problem(
            location=res.attribute_location(sp.path), message=f"{res.address}: {sp.message}", code=sp.code
        )
        for sp in validator.problems(res.attrs)
    ]


def _values_at(attrs: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(attrs, dict) or part not in attrs:
            return None
        attrs = attrs[part]
    return attrs


def link(resources: list[Resource], root: Location) -> tuple[Inventory, list[Problem]]:
    """Index resources and check every reference and cron expression."""
    inv = Inventory(root=root)
    ordered = sorted(resources, key=_ADDRESS)
    by_address = inv.by_address
    by_address.update(zip(map(_ADDRESS, ordered), ordered, strict=True))
    for kind, run in groupby(ordered, key=_KIND):
        inv.by_kind[kind] = list(run)
    problems: list[Problem] = []
    schemas = kind_schemas()
    cron_ok: dict[str, str | None] = {}
    # One reference attribute of one kind at a time, its resources in order: each
    # reverse index lists its referrers as a resource-by-resource pass would. A value
    # of the wrong type (a number, or a text where a list is due) holds no reference:
    # the schema's problem says what is wrong with it.
    for kind, members in inv.by_kind.items():
        if references := reference_paths(schemas[kind]):
            problems += _link_references(inv, kind, members, references)
        for path in cron_paths(schemas[kind]):
            for res in members:
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


def _link_references(
    inv: Inventory,
    kind: str,
    members: list[Resource],
    references: list[tuple[tuple[str, ...], tuple[str, ...], bool]],
) -> list[Problem]:
    """Check the references of `kind`'s resources (`members`, in address order), one
    attribute at a time, and leave each one's reverse index for when it is asked for;
    the problems, in order."""
    problems: list[Problem] = []
    columns = _Columns(members)
    for path, allowed, is_list in references:
        holders, values = columns.present(path)
        via = ".".join(path)
        valid = _valid_references(holders, values, is_list, inv.by_address, allowed)
        if valid is not None:
            inv.defer_index(kind, via, partial(_reverse_index, *valid))
        else:
            index = inv.reverse_index(kind, via)
            problems += _check_references(inv, index, holders, values, path, allowed, is_list)
    return problems


class _Columns:
    """The values of one kind's resources at attribute paths, read a column at a time
    by `map` (in C), where a comprehension looked up the attributes and `get` of each
    resource again for each path. With the references of a column checked at once
    (`_valid_references`) and the reverse indexes made on demand, `link` at 100k
    resources: 0.147 -> 0.104 s (docs/performance.md, "The twenty-first session")."""

    __slots__ = ("attrs", "members", "plain")

    def __init__(self, members: list[Resource]) -> None:
        self.members = members
        self.attrs = list(map(_ATTRS, members))
        self.plain = set(map(type, self.attrs)) <= {dict}
        """Whether every resource's attributes are a dict (as parsed), so that
        `dict.get` reads them."""

    def present(self, path: tuple[str, ...]) -> tuple[list[Resource], list[Any]]:
        """The resources that have a value (not null) at `path`, and those values."""
        if len(path) == 1 and self.plain:
            values = list(map(dict.get, self.attrs, repeat(path[0])))
        else:
            values = [_values_at(attrs, path) for attrs in self.attrs]
        keep = list(map(is_not, values, repeat(None)))
        return list(compress(self.members, keep)), list(compress(values, keep))


def _valid_references(
    holders: list[Resource],
    values: list[Any],
    is_list: bool,
    by_address: dict[str, Resource],
    allowed: tuple[str, ...],
) -> tuple[list[Resource], list[str]] | None:
    """The references of one attribute (the resource holding each, and its target),
    when every one of them is valid (a text naming a declared resource of an allowed
    kind), checked over the whole column at once: then no resource needs looking at
    alone. None when any is not: `_check_references` then goes through them one by
    one, for the problems in order."""
    targets: list[Any]
    if is_list:
        if not set(map(type, values)) <= {list}:
            return None
        sources = [res for res, value in zip(holders, values, strict=True) for _ in value]
        targets = [target for value in values for target in value]
    else:
        sources, targets = holders, values
    if not (set(map(type, targets)) <= {str} and all(map(by_address.__contains__, targets))):
        return None
    # A declared address starts with its kind and a dot (a kind holds none): the
    # resources themselves need not be looked at.
    if not all(map(str.startswith, targets, repeat(tuple(f"{kind}." for kind in allowed)))):
        return None
    return sources, targets


def _reverse_index(sources: list[Resource], targets: list[str]) -> dict[str, list[Resource]]:
    """Target -> the resources referencing it, each once and in order, from valid
    references in the order of their resources."""
    index: dict[str, list[Resource]] = {}
    get = index.get
    for res, target in zip(sources, targets, strict=True):
        referring = get(target)  # add_referrer, inlined
        if referring is None:
            index[target] = [res]
        elif referring[-1] is not res:  # a list naming one target twice
            referring.append(res)
    return index


def _check_references(
    inv: Inventory,
    reverse_index: dict[str, list[Resource]],
    holders: list[Resource],
    values: list[Any],
    path: tuple[str, ...],
    allowed: tuple[str, ...],
    is_list: bool,
) -> list[Problem]:
    """Index one reference attribute's valid references in `reverse_index`, resource
    by resource, and say what is wrong with the others."""
    problems: list[Problem] = []
    via = ".".join(path)
    by_address = inv.by_address
    refs: Iterable[tuple[Resource, Any, int | None]]
    if is_list:
        refs = [
            (res, t, i)
            for res, value in zip(holders, values, strict=True)
            if type(value) is list
            for i, t in enumerate(value)
        ]
    else:
        refs = zip(holders, values, repeat(None), strict=False)  # holders and values pair up
    for res, target, index in refs:
        if type(target) is not str:
            continue  # the schema has already said it must be a string
        found = by_address.get(target)
        if found is not None and found.kind in allowed:
            add_referrer(reverse_index, res, target)
            continue
        problem, code = _check_reference(inv, res, via, target, allowed)
        if problem is not None:
            at: tuple[str | int, ...] = path if index is None else (*path, index)
            problems.append(Problem(location=res.attribute_location(at), message=problem, code=code))
        else:
            add_referrer(reverse_index, res, target)
    return problems


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
