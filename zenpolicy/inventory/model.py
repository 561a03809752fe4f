"""The indexed inventory that engines evaluate: resources by kind, by address, and by
who references them, so that no rule ever scans the whole inventory per resource."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zenpolicy.inventory.yaml12 import SourceMap
from zenpolicy.model import Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    """One declared resource: `kind.name` and its attributes, as written."""

    kind: str
    """The resource kind (`server`)."""
    name: str
    """The resource name, unique within its kind (`web-01`)."""
    attrs: Mapping[str, Any]
    """The attributes, plain JSON-like values (dates are still strings)."""
    location: Location
    """Where the resource's name is written."""
    file: str = ""
    """The file that declares it (relative path), for attribute look-ups."""
    source_map: SourceMap | None = field(default=None, compare=False, repr=False)
    """Positions of keys in that file, by path from the document root."""
    address: str = field(init=False, compare=False, repr=False)
    """`kind.name`, derived from the two: built once here, because the engines read it
    millions of times per run (an f-string property cost 3.6% of evaluation)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", f"{self.kind}.{self.name}")

    def attribute_location(self, path: tuple[str | int, ...]) -> Location:
        """The position of the key at `path` (attribute names and list indexes), or of
        the closest enclosing key that has one, or the resource's own position."""
        if self.source_map is not None:
            full: tuple[str | int, ...] = (self.kind, self.name, *path)
            while len(full) > 2:
                pos = self.source_map.get(full)
                if pos is not None:
                    return _location(self.file, pos[0], pos[1])
                full = full[:-1]
        return self.location


_set_path, _set_line, _set_column = (Location.__dict__[name].__set__ for name in ("path", "line", "column"))


def _location(path: str, line: int, column: int) -> Location:
    """`Location(path=path, line=line, column=column)`, without the frozen dataclass's
    per-field object.__setattr__ (a failing finding's location: 46k at 100k; every
    resource's own location)."""
    location: Location = object.__new__(Location)
    _set_path(location, path)
    _set_line(location, line)
    _set_column(location, column)
    return location


fast_location = _location

_resource_setters = tuple(
    Resource.__dict__[name].__set__
    for name in ("kind", "name", "attrs", "location", "file", "source_map", "address")
)


def new_resource(
    kind: str,
    name: str,
    attrs: Mapping[str, Any],
    location: Location,
    file: str,
    source_map: SourceMap | None,
    address: str,
) -> Resource:
    """`Resource(kind=kind, name=name, ...)`, every field given (`address` is
    `kind.name`), without the frozen dataclass's per-field object.__setattr__ (2 us a
    resource: 0.2 s at 100k)."""
    resource: Resource = object.__new__(Resource)
    set_kind, set_name, set_attrs, set_location, set_file, set_map, set_address = _resource_setters
    set_kind(resource, kind)
    set_name(resource, name)
    set_attrs(resource, attrs)
    set_location(resource, location)
    set_file(resource, file)
    set_map(resource, source_map)
    set_address(resource, address)
    return resource


@dataclass(slots=True)
class Inventory:
    """Resources indexed for the engines. Built once by `build_inventory`."""

    root: Location
    """Where organisation-wide findings are anchored: the config file, or the directory."""
    by_address: dict[str, Resource] = field(default_factory=dict)
    by_kind: dict[str, list[Resource]] = field(default_factory=dict)
    # (source kind, attribute path) -> target address -> referring resources. Derived
    # from the resources (and made when first asked for), so not compared.
    _reverse: dict[tuple[str, str], dict[str, list[Resource]]] = field(default_factory=dict, compare=False)
    _deferred: dict[tuple[str, str], Callable[[], dict[str, list[Resource]]]] = field(
        default_factory=dict, compare=False, repr=False
    )
    """Reverse indexes not made yet, each with what makes it (`defer_index`)."""

    def kind(self, kind: str) -> list[Resource]:
        """Resources of `kind`, sorted by name (empty when there are none)."""
        return self.by_kind.get(kind, [])

    def get(self, address: str) -> Resource | None:
        return self.by_address.get(address)

    def referrers(self, target: str, kind: str, via: str) -> list[Resource]:
        """Resources of `kind` whose attribute `via` (a dotted path, lists allowed)
        references the resource at address `target`."""
        index = self._reverse.get((kind, via))
        if index is None:
            index = self._made(kind, via)
        return index.get(target, [])

    def add_reference(self, source: Resource, via: str, target: str) -> None:
        add_referrer(self.reverse_index(source.kind, via), source, target)

    def reverse_index(self, kind: str, via: str) -> dict[str, list[Resource]]:
        """Target address -> resources of `kind` referencing it through `via` (for
        building: `add_referrer` adds to it)."""
        index = self._reverse.get((kind, via))
        return self._made(kind, via) if index is None else index

    def defer_index(self, kind: str, via: str, make: Callable[[], dict[str, list[Resource]]]) -> None:
        """Have the reverse index of `kind` through `via` made by `make` when first
        asked for: the built-in rules read 8 of the 32, and each process evaluating
        rules makes those it reads, in the parallel stage, where `link` made them all
        before it."""
        self._deferred[(kind, via)] = make

    def _made(self, kind: str, via: str) -> dict[str, list[Resource]]:
        make = self._deferred.pop((kind, via), None)
        index = self._reverse[(kind, via)] = {} if make is None else make()
        return index

    def __len__(self) -> int:
        return len(self.by_address)

    def resources(self) -> Iterable[Resource]:
        for kind in sorted(self.by_kind):
            yield from self.by_kind[kind]


def add_referrer(index: dict[str, list[Resource]], source: Resource, target: str) -> None:
    """Record in a `reverse_index` that `source` references `target` (once per source,
    however many times it lists the target)."""
    referring = index.get(target)
    if referring is None:
        index[target] = [source]
    elif referring[-1] is not source:
        referring.append(source)
