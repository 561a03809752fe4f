"""Safe YAML parsing with YAML 1.2 scalars, source positions and hostile-input guards.

PyYAML composes the node graph (in C when libyaml is present; `libyaml.py`, imported on
first use); we construct the Python values ourselves, so that one piece of code decides
the scalar semantics on every path:

* only `true` and `false` are booleans; `yes`, `on`, `NO` stay strings (YAML 1.1's
  surprises, such as Norway's country code becoming False, cannot happen);
* integers are decimal, `0o` octal or `0x` hex; `010` is 10 and `1:20` is a string
  (no legacy octal, no sexagesimal);
* dates and times stay strings: the schema checks their format, then rules parse them;
* no tags: any explicit tag other than the three core ones (`!!str`, `!!seq`, `!!map`)
  is refused, so input can never construct an object;
* `<<` is an ordinary key (YAML 1.2 has no merge keys), which the schema rejects.

Every mapping key's position is recorded, 1-based, in a `SourceMap`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

_INT_RE = re.compile(r"[-+]?[0-9]+\Z")
_OCT_RE = re.compile(r"0o[0-7]+\Z")
_HEX_RE = re.compile(r"0x[0-9a-fA-F]+\Z")
_FLOAT_RE = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_INF_RE = re.compile(r"[-+]?\.(inf|Inf|INF)\Z")
_NAN_RE = re.compile(r"\.(nan|NaN|NAN)\Z")
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})

MAX_DEPTH = 64
"""Deeper nesting than this is refused: no inventory needs it, and it bounds recursion."""


class YamlError(Exception):
    """A problem in one YAML file, with its 1-based position."""

    def __init__(self, message: str, line: int = 0, column: int = 0, code: str = "yaml-syntax") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code


@dataclass(slots=True)
class SourceMap:
    """1-based (line, column) of every mapping key, by path of keys and list indexes."""

    positions: dict[tuple[str | int, ...], tuple[int, int]] = field(default_factory=dict)

    def get(self, path: tuple[str | int, ...]) -> tuple[int, int] | None:
        return self.positions.get(path)


def _plain_scalar(text: str) -> Any:
    if text in _NULLS:
        return None
    if text == "true":
        return True
    if text == "false":
        return False
    if _INT_RE.match(text):
        return int(text)
    if _OCT_RE.match(text):
        return int(text[2:], 8)
    if _HEX_RE.match(text):
        return int(text[2:], 16)
    if _FLOAT_RE.match(text):
        return float(text)
    if _INF_RE.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN_RE.match(text):
        return math.nan
    return text


# Nesting that could be deep enough to matter: many flow openers, or a line whose
# indentation and block indicators (`- `, `? `) run long. Below both, the depth is at
# most a few hundred, which the parsers handle; the exact limit is then the builder's.
_SAFE_OPENERS = 200
_DEEP_PREFIX = re.compile(rf"^[ \t?-]{{{_SAFE_OPENERS},}}", re.MULTILINE)


_PREFIX_TABLE = bytes(0x20 if byte in b" \t?-" else 0x78 for byte in range(256))
_PREFIX_RUN = b" " * _SAFE_OPENERS


def block_nesting_is_shallow(text: str) -> bool:
    """True when no line's indentation and block indicators are long enough for deep
    block nesting (block depth is at most that prefix's length plus one)."""
    # A first, C-speed test for the regex's superset, a long enough run of those
    # characters anywhere: the regex alone tries every line (0.15 s at 100k resources).
    runs = text.encode("utf-8", "surrogatepass").translate(_PREFIX_TABLE)
    return _PREFIX_RUN not in runs or _DEEP_PREFIX.search(text) is None


def check_nesting(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH *before* anything recursive sees it.

    libyaml's composer (and yaml-rs) recurse in native code: 30,000 nested `[` or
    `- ` (a 60 KB file) overflow the C stack and kill the process, which no `except`
    can catch. A cheap text test clears ordinary files; the others get an exact check
    on libyaml's event stream (`libyaml.scan_depth`).
    """
    if (text.count("[") + text.count("{") <= _SAFE_OPENERS) and block_nesting_is_shallow(text):
        return
    from zenpolicy.inventory import libyaml

    libyaml.scan_depth(text)


def parse_yaml(text: str, *, record_depth: int = MAX_DEPTH) -> tuple[Any, SourceMap]:
    """Parse one YAML document; return its value and the positions of its keys.

    Raises `YamlError` for syntax errors, several documents in one file, tags,
    duplicate keys, excessive depth or alias expansion. PyYAML (`libyaml.py`) is
    imported here, on first use: a run whose files all take the fast path (and whose
    rules come from the stored catalogue) never needs it.
    """
    check_nesting(text)
    from zenpolicy.inventory import libyaml

    return libyaml.parse(text, record_depth=record_depth)
