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

_TOP_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_.@/-]*) *:(?: .*)?")
_EXAMPLES_KEY = re.compile(r"examples: *(?:#.*)?")
_EXPECT_KEY = re.compile(r"( +)(pass|fail|not_applicable): *(?:#.*)?")
_ITEM = re.compile(r"( *)- +([^ #])")
_BLANK_OR_COMMENT = re.compile(r" *(?:#.*)?")


def parse_rule_file(text: str) -> tuple[dict[str, Any], fastload.OnDemandSourceMap] | None:
    """`parse_yaml(text)`'s value, and a source map giving its positions, or None when
    only yaml12 can say."""
    if not fastload.enabled():
        return None
    value = fastload.fast_value(text)
    if value is None:
        return None
    known = example_positions(text, value)
    if known is None:
        return None
    return value, fastload.OnDemandSourceMap(text, known)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


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
        match = _TOP_KEY.fullmatch(lines[i])
        if match is None:
            return None
        keys_at.append(match.group(1))
    if keys_at != list(value):
        return None
    head = top[keys_at.index("examples")]
    if not _EXAMPLES_KEY.fullmatch(lines[head]):
        return None  # a value on the key's line (flow style)
    end = next((i for i in range(head + 1, len(lines)) if lines[i][:1] not in ("", " ", "#")), len(lines))
    body = [i for i in range(head + 1, end) if not _BLANK_OR_COMMENT.fullmatch(lines[i])]
    if not body:
        return None
    indent = _indent(lines[body[0]])
    keys: list[tuple[int, str]] = []
    for i in body:
        if _indent(lines[i]) > indent:
            continue
        match = _EXPECT_KEY.fullmatch(lines[i])
        if match is None or len(match.group(1)) != indent:
            return None
        keys.append((i, match.group(2)))
    if [name for _, name in keys] != list(examples):
        return None
    found: dict[Path_, tuple[int, int]] = {}
    for n, (i, expect) in enumerate(keys):
        stop = keys[n + 1][0] if n + 1 < len(keys) else end
        items = examples[expect]
        inside = [j for j in body if i < j < stop]
        if type(items) is not list or not inside:
            return None
        depth = _indent(lines[inside[0]])
        count = 0
        for j in inside:
            if _indent(lines[j]) > depth:
                continue
            match = _ITEM.match(lines[j])
            if match is None or len(match.group(1)) != depth:
                return None
            found[("examples", expect, count)] = (j + 1, match.start(2) + 1)
            count += 1
        if count != len(items):
            return None
    return found
