"""A fast path for parsing inventory files, identical to `yaml12.parse_yaml` or absent.

`yaml12` composes nodes with libyaml and builds values in Python: exact, but about 70 s
per GB (7 s at 100k resources). yaml-rs parses in Rust ten times faster, but with its
own YAML 1.2 resolver, and without positions. This module uses it only where its
result is provably the reference parser's, and says "no" (returns None) otherwise, so
the caller falls back to `yaml12` for that file, which also produces the exact error:

1. **Text pre-check** (one regex, C speed): characters libyaml refuses or counts as
   line breaks, directives and document markers, anchors, aliases and tags, and plain
   scalars that yaml-rs types but YAML 1.2 core (our `yaml12`) leaves as strings:
   `True`/`FALSE`, `0X1F`, `0b101`, `1_000`, `+0x1`, `.NaN` spelt otherwise.
   Over-matching only costs speed (a fallback); a test checks every shape that differs.
2. **Parse** with `yaml_rs.loads(parse_datetime=False)`: dates stay strings. Any error
   (duplicate key, syntax, a construct saphyr is stricter on) means fallback.
3. **Keys and depth**: one walk checks that every mapping key is a string (yaml-rs
   turns `1:` into an int key where `yaml12` keeps the text `'1'`) and that nesting stays
   within `yaml12.MAX_DEPTH`.
4. **Positions**: one regex scan finds the lines of kind keys (column 1) and resource
   names (the next indentation). The scan must account for every line at those
   indentations, and its keys must equal the parsed keys, in order: then each scanned
   line is a real key, and its line and column are exactly libyaml's. Deeper positions
   are computed only when asked (`LazySourceMap`), per resource: a scan of the
   attribute lines verified the same way, or `yaml12` on that resource's lines alone,
   checked to give the same value.

`ZENPOLICY_FAST_YAML=0` turns the fast path off (the reference path is then used
throughout); the equivalence tests compare both on every file they can find.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import jsonschema_rs

from zenpolicy.inventory.yaml12 import MAX_DEPTH, SourceMap, YamlError, block_nesting_is_shallow, parse_yaml

# The reference typing of plain scalars, to compare a suspicious token exactly.
from zenpolicy.inventory.yaml12 import _plain_scalar as plain_scalar

try:  # yaml-rs is an optional accelerator: without it every file takes the reference path.
    import yaml_rs

    _yaml_rs_loads: Any = yaml_rs.loads
except ImportError:  # pragma: no cover - depends on the installation
    _yaml_rs_loads = None

Path = tuple[str | int, ...]

# The text pre-check works on the UTF-8 bytes with C-speed primitives (translate,
# find, regexes with a literal first character): a general regex over 25 MB costs
# 0.3 s per pattern, these cost 0.1 s together at 100k resources.
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\n" + bytes(range(0x80, 0x100))
"""Deleting these leaves the control characters: tab, CR, DEL, NUL... (libyaml
refuses most of them, and tabs and CR change indentation and line counting)."""
_BAD_UTF8 = re.compile(
    # C1 controls (NEL is a line break for libyaml, not for YAML 1.2), LS, PS, a BOM
    # inside the text, and the non-characters U+FFFE and U+FFFF.
    rb"\xc2[\x80-\x9f]|\xe2\x80[\xa8\xa9]|\xef\xbb\xbf|\xef\xbf[\xbe\xbf]"
)
_MARKER = re.compile(rb"\n(?:%|---|\.\.\.)")
"""Directives and document markers: several documents, `%YAML 1.1`..."""
_NODE_START = frozenset(b"[{,:?-\n")
"""After these (and spaces), `&`, `*` and `!` start an anchor, an alias or a tag, and
`?` an explicit key."""
_CANDIDATES = tuple(
    re.compile(pattern)
    for pattern in (
        rb"T(?:rue|RUE)",
        rb"F(?:alse|ALSE)",
        # `_` beside a digit, dot, sign or token edge: yaml-rs reads 1_000 as a number.
        rb"_(?:(?<=[-+0-9._ \n\[{,]_)|(?=[0-9._ \n\]},:]|\Z))",
        rb"0[xXoObB]",  # 0X1F, 0b101, +0x1: numbers for yaml-rs only
        rb"\.(?:[iI][nN][fF]|[nN][aA][nN])",  # .Inf spelt .iNf, .NaN spelt .Nan
    )
)
"""Places where a plain scalar may be typed by yaml-rs but not by YAML 1.2 core; each
hit's token is then compared exactly (`_token_differs`). One pattern each: every one
starts with a literal, which `re` searches at memchr speed (an alternation of them
scans five times slower)."""
_DELIMITERS = frozenset(b" \n[]{},:")


# A key line: indentation, a plain key in the characters names and kinds use, `:`,
# then the end of the line or a space and the rest. Anything else at a scanned
# indentation (quoted keys, flow style, `? `) makes the scan give up.
_KEY_LINE = re.compile(r"( *)([A-Za-z0-9_][A-Za-z0-9_.@/-]*) *:(?: +(.*))?\Z")
_BLANK_OR_COMMENT = re.compile(r" *(?:#.*)?\Z")
_FIRST_NAME = re.compile(r"^[^ \n#][^\n]*\n(?:[ ]*(?:#[^\n]*)?\n)*( +)[^ \n]", re.MULTILINE)


def enabled() -> bool:
    """Whether the fast path may be used (yaml-rs importable, not turned off)."""
    return _yaml_rs_loads is not None and os.environ.get("ZENPOLICY_FAST_YAML", "1") != "0"


def same_value(a: Any, b: Any) -> bool:
    """Strict equality of parsed values: same types (1, 1.0 and True differ), same key
    order, NaN equal to NaN. Python's `==` would say `{"a": 1} == {"a": True}`."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_value(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def _depth_schema(limit: int) -> dict[str, Any]:
    """A schema that any JSON value nested at most `limit` levels satisfies."""
    defs: dict[str, Any] = {f"d{limit}": {"type": ["string", "number", "boolean", "null"]}}
    for i in range(limit):
        below = {"$ref": f"#/$defs/d{i + 1}"}
        defs[f"d{i}"] = {"additionalProperties": below, "items": below}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


_shape_validator: Any = None


def _plain_shape(value: Any) -> bool:
    """Every mapping key is a string and nothing is nested deeper than yaml12 allows.

    jsonschema-rs walks the value in Rust (40 ms at 100k resources, where a Python walk
    takes 150 ms) and refuses a non-string key with ValueError.
    """
    global _shape_validator
    if _shape_validator is None:
        _shape_validator = jsonschema_rs.validator_for(_depth_schema(MAX_DEPTH))
    try:
        return bool(_shape_validator.is_valid(value))
    except (ValueError, OverflowError):
        return False


def _flow_colon(data: bytes, start: int) -> bool:
    """Whether a `:` may stand where libyaml refuses it in a flow collection and saphyr
    reads it: just before `,`, `]` or `}` (`{a:}`, `[b:]`: "found unexpected ':'"), or
    first in a node after `[`, `{` or `,` and blanks (`{:1}`, `[a,\\n :b]`: "did not
    find expected node content"). Found by the property tests. The flow indicators are
    few (36k in 25 MB, against a million colons): each is looked at, not each colon. A
    colon in quotes, a comment or block context that looks so only costs a fallback."""
    end = len(data)
    for closer in b",]}":
        index = data.find(closer, start)
        while index >= 0:
            if index > start and data[index - 1] == 0x3A:  # `:`
                return True
            index = data.find(closer, index + 1)
    for opener in b"[{,":
        index = data.find(opener, start)
        while index >= 0:
            after = index + 1
            while after < end:  # blanks, line breaks and comments, to the next node
                if data[after] in b" \n":
                    after += 1
                elif data[after] == 0x23 and data[after - 1] in b" \n":  # a comment
                    line_end = data.find(b"\n", after)
                    after = end if line_end < 0 else line_end
                else:
                    break
            # `:` first in the node; `#` right after the indicator is no comment.
            if after < end and data[after] in b":#":
                return True
            index = data.find(opener, index + 1)
    return False


def _token_differs(token: bytes) -> bool:
    """Whether yaml-rs reads this plain scalar otherwise than YAML 1.2 core does."""
    if b"`" in token:
        # No typed scalar of either reading (number, boolean, null) holds a backtick:
        # the scalar around it is a string for both, or, where a backtick starts it,
        # an error for both (yaml-rs then fails the whole file, which falls back).
        # Markdown in rule descriptions (`pbkdf2_min_iterations`) sent whole files
        # to yaml12 and PyYAML's import for nothing.
        return False
    text = token.decode("utf-8", "replace")
    try:
        parsed = _yaml_rs_loads(f"- {text}\n", parse_datetime=False)
    except Exception:  # not a plain scalar on its own: assume the worst
        return True
    if type(parsed) is not list or len(parsed) != 1:
        return True
    return not same_value(parsed[0], plain_scalar(text))


def _token_at(data: bytes, index: int) -> bytes:
    """The run of non-delimiter bytes around `index`."""
    start = index
    while start > 0 and data[start - 1] not in _DELIMITERS:
        start -= 1
    end = index
    while end < len(data) and data[end] not in _DELIMITERS:
        end += 1
    return data[start:end]


def unsafe(text: str, start: int = 0) -> bool:
    """Whether the text holds anything the fast path cannot vouch for (see above)."""
    data = text.encode("utf-8")
    if data.translate(None, _PRINTABLE):
        return True
    if not text.isascii() and _BAD_UTF8.search(data):
        return True
    if data.startswith((b"%", b"...")) or (data.startswith(b"---") and start == 0):
        return True
    if _MARKER.search(data, start):
        return True
    # yaml-rs reads an empty block scalar at the very end (`note: |` then only blank
    # lines) as "\n" where libyaml reads "": refuse a last line holding | or >.
    tail = data.rstrip(b" \n")
    last = tail[tail.rfind(b"\n") + 1 :]
    if b"|" in last or b">" in last:
        return True
    if _flow_colon(data, start):
        return True
    # `?` too: saphyr reads `{?}` and `{?a}` otherwise than libyaml (an explicit key).
    for char in b"&*!?":
        index = data.find(char, start)
        while index >= 0:
            before = index - 1
            while before >= 0 and data[before] == 0x20:
                before -= 1
            if before < 0 or data[before] in _NODE_START:
                return True
            index = data.find(char, index + 1)
    return any(
        _token_differs(_token_at(data, hit.start()))
        for pattern in _CANDIDATES
        for hit in pattern.finditer(data, start)
    )


_FIRST_SIGNIFICANT = re.compile(r"\n( *)(?=[^ \n#])")
"""The first line that is not blank or a comment, after a newline."""
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_.@/-]*"
"""A plain key in the characters names and attributes use (others: the slow path)."""
_FLOW_SCALAR = r"[A-Za-z0-9_.+-](?:[A-Za-z0-9_.+/ -]*[A-Za-z0-9_.+/-])?"
_FLOW_MAPPING = re.compile(
    rf" +\{{ *(?:{_KEY} *: +{_FLOW_SCALAR} *(?:, *{_KEY} *: +{_FLOW_SCALAR} *)*)?\}}(?: +#[^\n]*)? *"
)
"""The rest of a key line holding a one-line flow mapping of plain keys and plain
scalars (`logging: {accesses: true, retention_days: 90}`), then maybe a comment: no
quote, colon, `#` or nested collection inside, so that each `key:` in it is one of
its keys."""
_FLOW_KEY = re.compile(rf"[{{,] *({_KEY}) *:")


class _Shapes:
    """Regexes over the lines of a block mapping indented `n` (n >= 1), each starting
    with a literal newline so that the regex engine skips between lines at memchr
    speed."""

    def __init__(self, n: int) -> None:
        self.lines = re.compile(
            # Possessive (`+`): fewer spaces would only be followed by a space.
            rf"\n(?: {{0,{n - 1}}}+(?=[^ \n#])"
            rf"| {{{n}}}(?:({_KEY})(?= *:(?: |\n|\Z))|(?!-(?: |\n|\Z)|[ \n#]|\Z)))"
        )
        """One match per key line (group 1: its key) and per stray line (group 1
        empty): a line that is not blank or a comment and is indented less than `n`,
        or indented `n` and neither a key line nor a `- ` sequence entry. Lines
        indented more, blank lines, comments and entries do not match. One pass over
        the lines where a search for stray lines and a list of the keys took two."""
        self.key_line = re.compile(rf"\n {{{n}}}[A-Za-z0-9_]")
        """The start of a key line (once no line is stray)."""


_SHAPES: dict[int, _Shapes] = {}


def _shapes(n: int) -> _Shapes:
    shapes = _SHAPES.get(n)
    if shapes is None:
        shapes = _SHAPES[n] = _Shapes(n)
    return shapes


class _Block:
    """A verified block mapping: the lines after the newline at `begin` up to `end`,
    its keys at indentation `indent`, under a header (a name, or a key) on `line`."""

    __slots__ = ("begin", "end", "indent", "line")

    def __init__(self, begin: int, end: int, indent: int, line: int) -> None:
        self.begin, self.end, self.indent, self.line = begin, end, indent, line


class LazySourceMap(SourceMap):
    """A `SourceMap` whose positions below resource names are computed on demand.

    Kinds and names (depth 1 and 2) are known from the start. A deeper position is
    found in the block mapping that holds it, verified first by regexes over its lines:
    no line is indented less than its first key, every line at that indentation is a
    key line or a `- ` entry of the previous key's value, and the keys are the parsed
    keys, in order. Then each key line is a real key, and its line and column are
    exactly libyaml's. A resource's attributes are verified so, then a nested mapping
    within the lines of the attribute that holds it; a position is worked out when it
    is asked for. A one-line flow mapping of plain keys and simple scalars has its
    keys read from its line, once they are the parsed keys in order. Anything else
    (other flow style, list items, quoted keys) reads the resource's lines with
    `yaml12`, checked to give its value.
    """

    __slots__ = ("_blocks", "_spans", "_text", "_value", "_whole")

    def __init__(
        self,
        positions: dict[Path, tuple[int, int]],
        text: str,
        value: dict[str, Any],
        spans: dict[tuple[str, str], tuple[int, int, int]],
    ) -> None:
        super().__init__(positions)
        self._text = text
        self._value = value
        # (kind, name) -> (start offset, end offset, line of the name) of its lines.
        self._spans = spans
        self._blocks: dict[Path, _Block | None] = {}
        """Mappings looked at, by path: verified, or None (absent, or not vouched for)."""
        self._whole: set[tuple[str, str]] = set()
        """Resources whose every position is known (read with `yaml12`)."""

    def state(self) -> tuple[dict[Path, tuple[int, int]], str, dict[tuple[str, str], tuple[int, int, int]]]:
        """What `LazySourceMap(*state, value)` needs to answer as this one does (plain
        values, for another process): the positions known, the text, the spans."""
        return self.positions, self._text, self._spans

    @classmethod
    def from_state(
        cls,
        state: tuple[dict[Path, tuple[int, int]], str, dict[tuple[str, str], tuple[int, int, int]]],
        value: dict[str, Any],
    ) -> LazySourceMap:
        positions, text, spans = state
        return cls(positions, text, value, spans)

    def get(self, path: Path) -> tuple[int, int] | None:
        found = self.positions.get(path)  # every position known is exact
        if found is not None or len(path) <= 2:
            return found
        head = path[:2]
        if head not in self._spans or head in self._whole:
            return None  # no such resource, or every position of it is known
        block = self._block(path[:-1])
        key = path[-1]
        if block is None or not isinstance(key, str):
            # Read whole by now, or there is no such mapping, or a key is not text.
            return self.positions.get(path)
        at = self._key_line(block, key)
        if at is None:
            return None  # not one of the verified keys
        found = (block.line + self._text.count("\n", block.begin, at + 1), block.indent + 1)
        self.positions[path] = found
        return found

    def _key_line(self, block: _Block, key: str) -> int | None:
        """The offset of the newline before `key`'s line in a verified block."""
        text, prefix = self._text, "\n" + " " * block.indent + key
        at = text.find(prefix, block.begin, block.end)
        while at >= 0:
            # Every line at this indentation that starts like a key is a verified key
            # line: this is `key`'s if the key does not go on (keys hold no space or `:`).
            if text[at + len(prefix) : at + len(prefix) + 1] in (" ", ":"):
                return at
            at = text.find(prefix, at + 1, block.end)
        return None

    def _block(self, mapping: Path) -> _Block | None:
        """The verified block mapping at `mapping` (a resource, or a path of keys into
        it); None if there is none, or if it had to be read whole."""
        if mapping in self._blocks:
            return self._blocks[mapping]
        head = (str(mapping[0]), str(mapping[1]))
        block: _Block | None = None
        text = self._text
        if len(mapping) == 2:
            start, end, line = self._spans[head]
            begin = text.find("\n", start, end)
            value = self._value[head[0]][head[1]]
            if begin >= 0 and type(value) is dict:
                block = self._verify(value, begin, end, line, 0)
        else:
            parent, key = self._block(mapping[:-1]), mapping[-1]
            if parent is None or not isinstance(key, str):
                return None  # the resource is read whole, or there is no such mapping
            value = self._value[head[0]][head[1]]
            for part in mapping[2:]:
                value = value.get(part) if type(value) is dict else None
            at = self._key_line(parent, key)
            if at is None:
                self._blocks[mapping] = None
                return None  # no such key
            begin = text.find("\n", at + 1, parent.end)
            colon = text.find(":", at + 1 + parent.indent + len(key))
            line = parent.line + text.count("\n", parent.begin, at + 1)
            # Only `key:` alone on its line heads a block (not flow style, nor `|`).
            if begin >= 0 and type(value) is dict and not text[colon + 1 : begin].strip(" "):
                following = _shapes(parent.indent).key_line.search(text, begin, parent.end)
                end = following.start() + 1 if following else parent.end
                block = self._verify(value, begin, end, line, parent.indent + 1)
            elif type(value) is dict and self._flow_mapping(
                mapping, value, colon + 1, begin if begin >= 0 else parent.end, at + 1, line
            ):
                self._blocks[mapping] = None
                return None  # its keys' positions are known now
        if block is None:
            self._whole_resource(head)
        self._blocks[mapping] = block
        return block

    def _flow_mapping(
        self, mapping: Path, value: dict[str, Any], start: int, end: int, line_start: int, line: int
    ) -> bool:
        """Whether `text[start:end]`, the rest of a key line, is a one-line flow mapping
        of plain keys and scalars whose keys are `value`'s, in order; if so, each key's
        position is recorded (the keys of a nested mapping are otherwise read with
        `yaml12`, with the whole resource)."""
        text = self._text
        if _FLOW_MAPPING.fullmatch(text, start, end) is None:
            return False
        keys = list(_FLOW_KEY.finditer(text, start, end))
        if [k.group(1) for k in keys] != list(value):
            return False
        for k in keys:
            self.positions[(*mapping, k.group(1))] = (line, k.start(1) - line_start + 1)
        return True

    def _verify(self, value: dict[str, Any], begin: int, end: int, line: int, least: int) -> _Block | None:
        """The lines after the newline at `begin` up to `end` as the block mapping
        `value`, indented at least `least`; None if that cannot be vouched for."""
        text = self._text
        first = _FIRST_SIGNIFICANT.search(text, begin, end)
        if first is None:
            return _Block(begin, end, least, line) if not value else None
        n = len(first.group(1))
        if n < max(least, 1):
            return None
        found = _shapes(n).lines.findall(text, begin, end)
        # Keys are never empty in `found` (`_KEY`): an empty one is a stray line.
        if found != list(value) or "" in found:
            return None
        return _Block(begin, end, n, line)

    def _whole_resource(self, head: tuple[str, str]) -> None:
        """Every position in the resource, from `yaml12` on its lines alone."""
        start, end, line = self._spans[head]
        kind, name = head
        try:
            value, source_map = parse_yaml(self._text[start:end])
            exact = isinstance(value, dict) and same_value(value, {name: self._value[kind][name]})
        except YamlError:
            exact = False
        if not exact:
            # Cannot happen for the files the fast path accepts (the resource's lines
            # are a self-contained block); if it does, the whole file decides.
            value, source_map = parse_yaml(self._text)
            if not same_value(value, self._value):
                raise AssertionError(f"fast YAML path disagrees with yaml12 on {kind}.{name}")
            for path, pos in source_map.positions.items():
                if len(path) > 2 and path[:2] == head:
                    self.positions[path] = pos
        else:
            offset = line - 1
            for path, (at_line, column) in source_map.positions.items():
                self.positions[(kind, *path)] = (at_line + offset, column)
        self._whole.add(head)


def fast_value(text: str) -> dict[str, Any] | None:
    """`parse_yaml(text)`'s value when it is a mapping, by yaml-rs, or None when only
    `yaml12` can say (or the fast path is turned off). No positions: see `parse_fast`
    (inventories), `parse_value` and rules/fastparse.py (rule files) for those."""
    if not enabled():
        return None
    start = 4 if text.startswith("---\n") else 0  # an opening marker changes nothing
    if unsafe(text, start) or not block_nesting_is_shallow(text):
        # yaml-rs limits flow nesting but recurses without limit on block nesting
        # (`- - - ...`), which would overflow the C stack: yaml12 checks depth first.
        return None
    try:
        value = _yaml_rs_loads(text, parse_datetime=False)
    except BaseException as exc:  # a refusal, or a Rust panic (a BaseException): ask yaml12
        if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return None
    # Lists (several documents, or a list at the top) and empty files are rare and
    # cheap: the reference parser gives them their exact value or error.
    if type(value) is not dict or not _plain_shape(value):
        return None
    return value


class OnDemandSourceMap(SourceMap):
    """Positions known beforehand (`known`, exactly yaml12's), and any other from yaml12,
    which parses the text on the first such demand: exact, whatever is asked, and free
    for a file whose positions nobody asks (a valid configuration, a valid rule)."""

    def __init__(self, text: str, known: dict[tuple[str | int, ...], tuple[int, int]]) -> None:
        super().__init__(positions=known)
        self._text = text
        self._full: SourceMap | None = None

    def get(self, path: tuple[str | int, ...]) -> tuple[int, int] | None:
        found = self.positions.get(path)
        if found is not None:
            return found
        if self._full is None:
            try:
                self._full = parse_yaml(self._text)[1]
            except YamlError:  # yaml-rs read it, so yaml12 does: never seen
                self._full = SourceMap()
        return self._full.get(path)


def parse_value(text: str) -> tuple[dict[str, Any], OnDemandSourceMap] | None:
    """`parse_yaml(text)`'s value, positions on demand; None when only yaml12 can say.
    For small files whose positions matter only when something is wrong in them."""
    value = fast_value(text)
    return None if value is None else (value, OnDemandSourceMap(text, {}))


def parse_fast(text: str) -> tuple[dict[str, Any], LazySourceMap] | None:
    """`parse_yaml(text)`'s value and positions, or None when only `yaml12` can say."""
    value = fast_value(text)
    if value is None:
        return None
    start = 4 if text.startswith("---\n") else 0
    scanned = _scan_names(text, start)
    if scanned is None:
        return None
    positions, spans, order = scanned
    if order != [(kind, list(named) if type(named) is dict else None) for kind, named in value.items()]:
        return None
    return value, LazySourceMap(positions, text, value, spans)


def _scan_names(
    text: str, start: int
) -> tuple[dict[Path, tuple[int, int]], dict[tuple[str, str], tuple[int, int, int]], list[Any]] | None:
    """Positions of kinds (column 1) and resource names, and each resource's span.

    Returns None unless every line indented less than the names, or as much, is a
    blank line, a comment, a kind or a name.
    """
    # The names' indentation: that of the first line after the first kind.
    first = _FIRST_NAME.search(text, start)
    if first is None:
        return None
    width = len(first.group(1))
    # One match per line indented `width` or less that is not blank or a comment;
    # group 2 is its key when it is a key line. The pattern starts with a literal
    # newline so that the regex engine skips between lines at memchr speed.
    lines = re.compile(
        rf"\n( {{0,{width}}})(?=[^ \n#])(?:([A-Za-z0-9_][A-Za-z0-9_.@/-]*) *:(?: +([^\n]*))?(?=\n|\Z)|[^\n]*)"
    )
    work = "\n" + text  # offsets in `work` are one more than in `text`
    positions: dict[Path, tuple[int, int]] = {}
    spans: dict[tuple[str, str], tuple[int, int, int]] = {}
    order: list[Any] = []
    names: list[str] | None = None
    kind = ""
    line = text.count("\n", 0, start)
    last = start
    open_name: tuple[str, int, int] | None = None
    for match in lines.finditer(work, start):
        indent, key, rest = match.group(1, 2, 3)
        at = match.start()  # the newline before the line, i.e. the line's offset in `text`
        line += work.count("\n", last, at + 1)
        last = at + 1
        if key is None:
            return None
        if open_name is not None:
            spans[(kind, open_name[0])] = (open_name[1], at, open_name[2])
            open_name = None
        if not indent:
            if rest and not rest.startswith("#"):
                return None  # `server: {...}`: names are not on lines of their own
            kind = key
            names = []
            order.append((kind, names))
            positions[(kind,)] = (line, 1)
        elif len(indent) == width and names is not None:
            names.append(key)
            positions[(kind, key)] = (line, width + 1)
            open_name = (key, at, line)
        else:
            return None
    if open_name is not None:
        spans[(kind, open_name[0])] = (open_name[1], len(text), open_name[2])
    return positions, spans, order
