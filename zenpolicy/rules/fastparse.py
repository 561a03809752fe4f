"""Rule files read by yaml-rs where it reads them as yaml12 does, with the positions a
valid rule needs.

Loading the catalogue from its files (no stored catalogue: a CI job in a fresh
container, `--no-cache`) took 74 ms with yaml12 on its hundred small files, 47 ms this
way (one process, medians of 7 fresh runs). yaml-rs gives the same values under the inventory's guards
(`fastload.fast_value`, docs/performance.md). What it does not give is positions, and
a valid rule needs one kind only: where each example is written
(`examples.<expect>[i]`, for `zenpolicy test`). `example_positions` reads those from
the lines, verified against the parsed value; any other position (a problem to report
in an invalid rule) comes from yaml12, which then parses the file after all.
"""

from __future__ import annotations

import re
from typing import Any

from zenpolicy.inventory import fastload

Path_ = tuple[str | int, ...]

_EXAMPLES_KEY = re.compile(r"examples: *(?:#.*)?\Z")
_EXPECT_KEY = re.compile(r"( +)(pass|fail|not_applicable): *(?:#.*)?\Z")
_ITEM = re.compile(r"( *)- +([^ #])")


def parse_rule_file(text: str) -> tuple[dict[str, Any], fastload.OnDemandSourceMap] | None:
    """`parse_yaml(text)`'s value, and a source map giving its positions, or None when
    only yaml12 can say."""
    value = fastload.fast_value(text)
    if value is None:
        return None
    known = example_positions(text, value)
    if known is None:
        return None
    return value, fastload.OnDemandSourceMap(text, known)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _shallow(
    lines: list[str], rows: list[int], pattern: re.Pattern[str]
) -> list[tuple[int, re.Match[str]]] | None:
    """The rows indented as the first one or less, each matched by `pattern` (group 1:
    its indentation) at exactly that indentation; None if one is not."""
    depth = _indent(lines[rows[0]])
    found = []
    for row in rows:
        if _indent(lines[row]) > depth:
            continue
        match = pattern.match(lines[row])
        if match is None or len(match.group(1)) != depth:
            return None
        found.append((row, match))
    return found


def example_positions(text: str, value: dict[str, Any]) -> dict[Path_, tuple[int, int]] | None:
    """yaml12's position of every example (the start of the list item's node), or
    None unless the lines say it beyond doubt.

    Block structure is indentation: every line at column 1 must be a top-level key (the
    parsed keys, in order), every line of the `examples` block at or left of an
    indentation the scan works at must be one it expects (an `expect:` key, a `- `
    item, a blank or a comment), and the items found must be as many as the parsed
    lists hold, in each list. Flow style, items written on the line after their dash,
    comments right after a dash, keys in quotes: the scan gives up, and yaml12 reads
    the file."""
    examples = value.get("examples")
    if examples is None:
        return {} if "examples" not in value else None
    if type(examples) is not dict:
        return None
    lines = text.split("\n")
    # Every line at column 1 is a top-level key, and they are the parsed keys in
    # order: no line of a multi-line string is taken for a key (it would add one).
    top = [i for i, line in enumerate(lines) if line[:1] not in ("", " ", "#")]
    if top and lines[top[0]] == "---":
        top = top[1:]
    keys_at: list[str] = []
    for i in top:
        match = fastload._KEY_LINE.match(lines[i])  # a plain key; no indentation here
        if match is None:
            return None
        keys_at.append(match.group(2))
    if keys_at != list(value):
        return None
    at = keys_at.index("examples")
    head = top[at]
    if not _EXAMPLES_KEY.match(lines[head]):
        return None  # a value on the key's line (flow style)
    end = top[at + 1] if at + 1 < len(top) else len(lines)  # the next line at column 1
    body = [i for i in range(head + 1, end) if not fastload._BLANK_OR_COMMENT.match(lines[i])]
    keys = _shallow(lines, body, _EXPECT_KEY) if body else None
    if keys is None or [key.group(2) for _, key in keys] != list(examples):
        return None
    found: dict[Path_, tuple[int, int]] = {}
    for n, (row, key) in enumerate(keys):
        expect = key.group(2)
        stop = keys[n + 1][0] if n + 1 < len(keys) else end
        items = examples[expect]
        inside = [j for j in body if row < j < stop]
        entries = _shallow(lines, inside, _ITEM) if inside and type(items) is list else None
        if entries is None or len(entries) != len(items):
            return None
        for index, (j, item) in enumerate(entries):
            found[("examples", expect, index)] = (j + 1, item.start(2) + 1)
    return found
