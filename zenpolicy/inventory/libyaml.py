"""The part of yaml12 that needs PyYAML: libyaml composes the node graph, `_Builder`
turns it into plain values with YAML 1.2 core scalars (`yaml12._plain_scalar`) and a
source map. Imported by `yaml12.parse_yaml` and `yaml12.check_nesting` on first use.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from zenpolicy.inventory.yaml12 import MAX_DEPTH, SourceMap, YamlError, _plain_scalar

try:  # libyaml's C parser is ~4x faster; the pure-Python one is the fallback.
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader

_PLAIN = "!zenpolicy/plain"
_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """Composes nodes without YAML 1.1 implicit typing: we type plain scalars ourselves."""

    def resolve(self, kind: type, value: Any, implicit: Any) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


class _PyLoader(yaml.SafeLoader):
    """The pure-Python parser, for `check_nesting` only: libyaml (0.2.6, in PyYAML
    6.0.4) refuses flow nesting past 1,000 levels while it scans ahead, before its
    events reach our limit, so it cannot say where the 65th level starts."""


class _Builder:
    """Turns a node graph into plain Python values, recording key positions."""

    def __init__(self, budget: int, record_depth: int) -> None:
        self.budget = budget
        self.record_depth = record_depth
        self.source_map = SourceMap()

    def build(self, node: Node, path: tuple[str | int, ...]) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise YamlError(
                'too many nodes after alias expansion (a "billion laughs" document?)',
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                code="yaml-too-large",
            )
        if len(path) > MAX_DEPTH:
            raise YamlError(
                f"nesting deeper than {MAX_DEPTH} levels",
                node.start_mark.line + 1,
                node.start_mark.column + 1,
                code="yaml-too-deep",
            )
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == _PLAIN:
                return _plain_scalar(node.value)
            if tag == _STR:
                return node.value
        elif isinstance(node, SequenceNode) and tag == _SEQ:
            if len(path) < self.record_depth:
                # List items get positions too: a dangling reference in `admins`
                # points at the item, not at the key.
                positions = self.source_map.positions
                for i, item in enumerate(node.value):
                    positions[(*path, i)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        elif isinstance(node, MappingNode) and tag == _MAP:
            return self._mapping(node, path)
        raise YamlError(
            f"YAML tag {tag!r} is not allowed: inventory files hold plain data only",
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            code="yaml-tag",
        )

    def _mapping(self, node: MappingNode, path: tuple[str | int, ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        first_seen: dict[str, tuple[int, int]] = {}
        record = len(path) < self.record_depth
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise YamlError(
                    "mapping keys must be plain strings, not collections",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    code="yaml-key",
                )
            if len(path) >= MAX_DEPTH:
                # A key is inside its mapping: one level deeper than the mapping's path
                # says (the same count as check_nesting's, so both report one place).
                raise YamlError(
                    f"nesting deeper than {MAX_DEPTH} levels",
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                    code="yaml-too-deep",
                )
            key = self.build(key_node, path)
            if not isinstance(key, str):
                # Keys are attribute and resource names: always strings. `1: x` or
                # `true: x` is almost certainly a mistake, so say so precisely.
                key = key_node.value if key_node.tag == _PLAIN else str(key)
            pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            if key in first_seen:
                line, col = first_seen[key]
                raise YamlError(
                    f"duplicate key {key!r} (first defined at line {line}, column {col})",
                    pos[0],
                    pos[1],
                    code="duplicate-key",
                )
            first_seen[key] = pos
            if record:
                self.source_map.positions[(*path, key)] = pos
            out[key] = self.build(value_node, (*path, key))
        return out


_OPEN_EVENTS = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE_EVENTS = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def scan_depth(text: str) -> None:
    """`yaml12.check_nesting`'s exact check: libyaml's event stream, which is iterative
    and stops at the first node too deep (or, where libyaml gives up first on its own
    limit, the pure-Python parser's)."""
    try:
        _scan_depth(_Loader(text))
    except _ParserLimit:
        _scan_depth(_PyLoader(text))


class _ParserLimit(Exception):
    """libyaml stopped on its own nesting limit before ours."""


def _scan_depth(loader: Any) -> None:
    depth = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, _CLOSE_EVENTS):
                depth -= 1
                continue
            if depth > MAX_DEPTH and isinstance(event, (*_OPEN_EVENTS, yaml.ScalarEvent, yaml.AliasEvent)):
                mark = event.start_mark
                line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
                raise YamlError(f"nesting deeper than {MAX_DEPTH} levels", line, column, code="yaml-too-deep")
            if isinstance(event, _OPEN_EVENTS):
                depth += 1
    except yaml.YAMLError as exc:
        if "maximum nesting depth" in str(getattr(exc, "problem", "") or exc):
            raise _ParserLimit from None
        return  # a syntax error: the composer reports it precisely
    finally:
        loader.dispose()


def parse(text: str, *, record_depth: int = MAX_DEPTH) -> tuple[Any, SourceMap]:
    """`yaml12.parse_yaml` after its nesting check."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if exc.context and "expected a single document" in exc.context:
            problem = "several YAML documents in one file; put one document per file"
        raise YamlError(problem, (mark.line + 1) if mark else 0, (mark.column + 1) if mark else 0) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc)) from None
    finally:
        loader.dispose()
    if node is None:
        return None, SourceMap()
    # Bound alias expansion by the input's size: a legitimate file cannot hold more
    # nodes than it has characters, plus slack for modest anchor reuse.
    builder = _Builder(budget=len(text) + 10_000, record_depth=record_depth)
    return builder.build(node, ()), builder.source_map
