"""Rule files read by yaml-rs give yaml12's values and positions exactly, or step aside.

The property, for any text: `parse_rule_file` returns None (the loader then uses
yaml12), or yaml12's value (same types, same key order) and a source map whose every
position is yaml12's, whether read from the lines (the examples) or asked of yaml12 on
demand (anything else). Checked on every built-in rule file, on a table of shapes the
scan must refuse, on generated rule files, and through `load_catalogue` itself.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from zenpolicy.errors import RuleError
from zenpolicy.inventory import fastload
from zenpolicy.inventory.fastload import same_value
from zenpolicy.inventory.yaml12 import YamlError, parse_yaml
from zenpolicy.resources import policies_dir
from zenpolicy.rules import loader
from zenpolicy.rules.fastparse import example_positions, parse_rule_file

pytestmark = pytest.mark.skipif(not fastload.enabled(), reason="yaml-rs is not installed")

RULE_FILES = sorted(p for p in policies_dir().rglob("*.yaml") if p.name not in loader.NOT_RULES)


def check_same(text: str) -> bool:
    """Assert the fast path agrees with yaml12 on `text`; return whether it was taken."""
    fast = parse_rule_file(text)
    if fast is None:
        return False
    value, source_map = fast
    reference, ref_map = parse_yaml(text)  # yaml-rs read it: yaml12 reads it too
    assert same_value(value, reference)
    for path, position in source_map.positions.items():
        assert ref_map.get(path) == position, path
    for path, position in ref_map.positions.items():
        assert source_map.get(path) == position, path
    return True


def test_every_builtin_rule_file_reads_as_yaml12() -> None:
    taken = [path.name for path in RULE_FILES if check_same(path.read_text(encoding="utf-8"))]
    # Every built-in file, AUTH-07 included (`pbkdf2_min_iterations`, quoted as code in
    # its description, once sent it to yaml12).
    assert taken == [path.name for path in RULE_FILES]


def test_examples_positions_are_read_from_the_lines() -> None:
    text = (policies_dir() / "authentication" / "AUTH-03a.yaml").read_text(encoding="utf-8")
    fast = parse_rule_file(text)
    assert fast is not None
    lines = text.split("\n")
    head = lines.index("examples:")
    first_pass = next(i for i in range(head, len(lines)) if lines[i].startswith("    - "))
    assert fast[1].positions[("examples", "pass", 0)] == (first_pass + 1, 7)
    assert set(fast[1].positions) == {
        ("examples", expect, i) for expect, items in fast[0]["examples"].items() for i in range(len(items))
    }


BASE = """\
id: X-01
title: t
examples:
{examples}
message: m
"""


@pytest.mark.parametrize(
    "examples",
    [
        "  pass:\n  - a: 1",  # items at the key's own indentation
        "  pass:\n    -\n      a: 1",  # an item on the line after its dash
        "  pass:\n    - # note\n      a: 1",  # a comment right after the dash
        "  pass: [{a: 1}]",  # flow style
        '  "pass":\n    - a: 1',  # a quoted key
        "  pass:\n    - a: 1\n   - b: 2",  # an item left of the first one
        "  pass:\n    - a: 1\n  extra: 1",  # a key the schema would refuse
        "  pass:\n    - a: 1\n  pass:\n    - b: 1",  # a duplicate key (yaml-rs refuses it)
        "  pass:",  # no items
    ],
)
def test_shapes_the_scan_refuses(examples: str) -> None:
    text = BASE.format(examples=examples)
    if _parses(text):
        assert not check_same(text)
    else:
        assert parse_rule_file(text) is None


def _parses(text: str) -> bool:
    try:
        parse_yaml(text)
    except YamlError:
        return False
    return True


@pytest.mark.parametrize(
    "examples",
    [
        "  pass:\n    - a: 1\n\n    # a comment\n    - b: [1, 2]\n  fail:\n    - - nested\n    -   'quoted'",
        "  fail:\n      - a: |\n          - not an item\n        b: 2\n  pass:\n      - {a: 1}",
        "  not_applicable:  # none\n    - a: 1\n# at column 1\n    - b: 2",
    ],
)
def test_shapes_the_scan_reads(examples: str) -> None:
    assert check_same(BASE.format(examples=examples))


@pytest.mark.parametrize(
    "text",
    [
        # The lines of a quoted string look like an examples block (a key at column 1).
        'id: X\ntitle: "a\nexamples:\n  pass:\n    - a: 1\nzz: y"\nexamples:\n  pass:\n    - b: 2\n',
        # A quoted string's second line looks like an item.
        'examples:\n  pass:\n    - "x\n    - y"\n    - z\n',
    ],
)
def test_lines_inside_strings_are_never_taken_for_keys_or_items(text: str) -> None:
    """yaml12 reads these; yaml-rs refuses them (so the loader never scans them), but
    the scan must not depend on it: given yaml12's value, it finds the lines do not
    match it."""
    value, _ = parse_yaml(text)
    assert parse_rule_file(text) is None
    assert example_positions(text, value) is None


_KEY = st.sampled_from(["a", "b", "path", "eq", "satisfy"])
_SCALAR = st.sampled_from(
    ["1", "x", "'q'", '"d"', "[1, 2]", "{k: v}", "true", "null", "2026-01-01", "|\n  text"]
)


@st.composite
def _item(draw: st.DrawFn, depth: int) -> str:
    pad = " " * depth
    style = draw(st.sampled_from(["map", "scalar", "nested", "dash-alone", "comment"]))
    if style == "scalar":
        return f"{pad}- {draw(_SCALAR)}"
    if style == "nested":
        return f"{pad}- - {draw(_SCALAR)}"
    keys = draw(st.lists(_KEY, min_size=1, max_size=3, unique=True))
    body = [f"{k}: {draw(_SCALAR)}" for k in keys]
    inner = " " * (depth + 2)
    lines = [f"{pad}- {body[0]}", *(f"{inner}{b}" for b in body[1:])]
    if style == "dash-alone":
        lines = [f"{pad}-", *(f"{inner}{b}" for b in body)]
    if style == "comment":
        lines.insert(1, draw(st.sampled_from(["", "# c", f"{inner}# c", "   "])))
    return "\n".join(lines)


@st.composite
def _rule_text(draw: st.DrawFn) -> str:
    indent = draw(st.sampled_from([1, 2, 4]))
    depth = indent + draw(st.sampled_from([0, 1, 2, 4]))
    expects = draw(st.lists(st.sampled_from(["pass", "fail", "not_applicable"]), unique=True, max_size=3))
    blocks = []
    for expect in expects:
        items = draw(st.lists(_item(depth), max_size=3))
        blocks.append("\n".join([" " * indent + f"{expect}:", *items]))
    examples = "\n".join(blocks)
    head = draw(st.sampled_from(["", "---\n", "# header\n"]))
    tail = draw(st.sampled_from(["message: m\n", "", "message: >-\n  a\n  b\n", "x: 1\n"]))
    return f"{head}id: X-01\ntitle: t\nexamples:\n{examples}\n{tail}"


@settings(max_examples=examples(300), deadline=None)
@given(_rule_text())
def test_generated_rule_files_read_as_yaml12(text: str) -> None:
    if not _parses(text):
        assert parse_rule_file(text) is None  # what yaml12 refuses, the fast path refuses
        return
    check_same(text)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(alphabet="exampls:pfi-# \n'\"{}[]ab1", max_size=120))
def test_any_text_reads_as_yaml12_or_steps_aside(text: str) -> None:
    fast = parse_rule_file(text)
    if fast is not None:
        check_same(text)


def test_the_catalogue_is_the_same_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = loader.load_catalogue((), reuse=False)
    monkeypatch.setenv("ZENPOLICY_FAST_YAML", "0")
    slow = loader.load_catalogue((), reuse=False)
    assert fast == slow
    assert [r.examples for r in fast.rules] == [r.examples for r in slow.rules]
    assert all(ex.location is not None for r in fast.rules for ex in r.examples)


def _bad_rules(tmp_path: Path) -> Path:
    directory = tmp_path / "rules"
    directory.mkdir()
    good = (policies_dir() / "authentication" / "AUTH-03a.yaml").read_text(encoding="utf-8")
    (directory / "CUSTOM-01.yaml").write_text(
        good.replace("id: AUTH-03a", "id: CUSTOM-01").replace("severity: high", "severity: urgent"),
        encoding="utf-8",
    )
    (directory / "CUSTOM-02.yaml").write_text(
        textwrap.dedent(good.replace("id: AUTH-03a", "id: CUSTOM-02")).replace(
            "resource: account", "resource: spaceship"
        ),
        encoding="utf-8",
    )
    return directory


def test_problems_in_rules_have_yaml12s_positions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An invalid rule's problems point where yaml12 says, read on demand."""
    directory = _bad_rules(tmp_path)
    problems: list[Any] = []
    for fast in ("1", "0"):
        monkeypatch.setenv("ZENPOLICY_FAST_YAML", fast)
        with pytest.raises(RuleError) as caught:
            loader.load_catalogue((directory,), reuse=False)
        problems.append([(str(p.location), p.message, p.code) for p in caught.value.problems])
    assert problems[0] == problems[1]
    assert len(problems[0]) == 2
    assert all(location.count(":") == 2 for location, _, _ in problems[0])


def test_example_positions_without_examples() -> None:
    assert example_positions("id: x\n", {"id": "x"}) == {}
    assert example_positions("id: x\nexamples:\n", {"id": "x", "examples": None}) is None
