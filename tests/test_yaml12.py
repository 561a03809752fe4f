"""YAML 1.2 scalar semantics and hostile-input guards, through the parser and through
`zenpolicy validate` (where the schema's message shows the value the parser built)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from conftest import AssertInvalid, AssertValid, CliLines, MakeInventory, RunValidate
from hypothesis import given
from hypothesis import strategies as st

from zenpolicy.errors import InputError
from zenpolicy.inventory import load_inventory
from zenpolicy.inventory.yaml12 import (
    _DEEP_PREFIX,
    MAX_DEPTH,
    YamlError,
    block_nesting_is_shallow,
    parse_yaml,
)

SERVER = "server:\n  web:\n    provider: OVH\n    country: FR\n    roles: [hosting]\n"
BOOL_ATTR = "server.web: 'hds_certified' must be a boolean (true or false), not "

# (plain scalar as written, the value it must be, how the schema's message describes it;
# None = a boolean, which `hds_certified: <scalar>` accepts).
SCALARS: list[tuple[str, object, str | None]] = [
    ("true", True, None),
    ("false", False, None),
    ("yes", "yes", "string 'yes'"),
    ("no", "no", "string 'no'"),
    ("on", "on", "string 'on'"),
    ("off", "off", "string 'off'"),
    ("y", "y", "string 'y'"),
    ("NO", "NO", "string 'NO'"),
    ("True", "True", "string 'True'"),
    ("FALSE", "FALSE", "string 'FALSE'"),
    ("010", 10, "number 10"),
    ("0o17", 15, "number 15"),
    ("0x1F", 31, "number 31"),
    ("-7", -7, "number -7"),
    ("1_000", "1_000", "string '1_000'"),
    ("1:20", "1:20", "string '1:20'"),
    ("1.5", 1.5, "number 1.5"),
    ("1e3", 1000.0, "number 1000.0"),
    ("2026-01-01", "2026-01-01", "string '2026-01-01'"),
    ("2026-01-01T03:00:00Z", "2026-01-01T03:00:00Z", "string '2026-01-01T03:00:00Z'"),
    ("~", None, "null"),
    ("null", None, "null"),
    ("Null", None, "null"),
    ('"true"', "true", "string 'true'"),
    ("'010'", "010", "string '010'"),
    ("!!str 010", "010", "string '010'"),
]


@pytest.mark.parametrize(("text", "value", "described"), SCALARS, ids=[s[0] for s in SCALARS])
def test_scalar_semantics(
    inventory_dir: MakeInventory,
    assert_invalid_inventory: AssertInvalid,
    assert_valid_inventory: AssertValid,
    text: str,
    value: Any,
    described: str | None,
) -> None:
    parsed, _ = parse_yaml(f"v: {text}\n")
    assert parsed["v"] == value
    assert type(parsed["v"]) is type(value)
    root = inventory_dir({"s.yaml": f"{SERVER}    hds_certified: {text}\n"})
    if described is None:
        assert assert_valid_inventory(root) == ["server.web"]
        assert load_inventory(root).inventory.by_address["server.web"].attrs["hds_certified"] is value
    else:
        assert_invalid_inventory(root, [("inv/s.yaml", 6, 5, BOOL_ATTR + described, "wrong-type")])


@pytest.mark.parametrize(
    ("text", "check"), [(".inf", math.isinf), ("-.inf", math.isinf), (".nan", math.isnan)]
)
def test_special_floats(text: str, check: Callable[[float], bool]) -> None:
    parsed, _ = parse_yaml(f"v: {text}\n")
    assert isinstance(parsed["v"], float)
    assert check(parsed["v"])


def test_norway_is_a_country_code(inventory_dir: MakeInventory, assert_valid_inventory: AssertValid) -> None:
    root = inventory_dir({"s.yaml": SERVER.replace("country: FR", "country: NO")})
    assert assert_valid_inventory(root) == ["server.web"]
    assert load_inventory(root).inventory.by_address["server.web"].attrs["country"] == "NO"


def test_dates_stay_strings_in_the_inventory(inventory_dir: MakeInventory) -> None:
    root = inventory_dir({"s.yaml": f"{SERVER}    last_patched_on: 2026-11-20\n"})
    assert load_inventory(root).inventory.by_address["server.web"].attrs["last_patched_on"] == "2026-11-20"


def test_merge_key_is_a_plain_key(
    inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid
) -> None:
    text = (
        "server:\n"
        "  web-01: &base\n"
        "    provider: OVH\n"
        "    country: FR\n"
        "    roles: [hosting]\n"
        "  web-02:\n"
        "    <<: *base\n"
    )
    parsed, _ = parse_yaml(text)
    assert parsed["server"]["web-02"] == {"<<": {"provider": "OVH", "country": "FR", "roles": ["hosting"]}}
    missing = "server.web-02: missing required attribute {!r} for server"
    assert_invalid_inventory(
        inventory_dir({"s.yaml": text}),
        [
            ("inv/s.yaml", 6, 3, missing.format("country"), "missing-attribute"),
            ("inv/s.yaml", 6, 3, missing.format("provider"), "missing-attribute"),
            ("inv/s.yaml", 6, 3, missing.format("roles"), "missing-attribute"),
            ("inv/s.yaml", 7, 5, "server.web-02: unknown attribute '<<' for server", "unknown-attribute"),
        ],
    )


def test_aliases_within_the_budget_are_expanded(
    inventory_dir: MakeInventory, assert_valid_inventory: AssertValid
) -> None:
    text = (
        SERVER
        + "  web-02:\n    provider: OVH\n    country: FR\n    roles: &roles [hosting]\n"
        + "  web-03:\n    provider: OVH\n    country: FR\n    roles: *roles\n"
    )
    root = inventory_dir({"s.yaml": text})
    assert assert_valid_inventory(root) == ["server.web", "server.web-02", "server.web-03"]
    assert load_inventory(root).inventory.by_address["server.web-03"].attrs["roles"] == ["hosting"]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("[a, b]", "mapping keys must be plain strings, not collections"),
        ("{a: 1}", "mapping keys must be plain strings, not collections"),
    ],
)
def test_collection_keys_are_refused(key: str, message: str) -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(f"server:\n  ? {key}\n  : 1\n")
    assert (caught.value.line, caught.value.column, caught.value.message, caught.value.code) == (
        2,
        5,
        message,
        "yaml-key",
    )


@pytest.mark.parametrize(("key", "name"), [("1", "1"), ("true", "true"), ("010", "010"), ("~", "~")])
def test_scalar_keys_stay_as_written(key: str, name: str) -> None:
    parsed, source_map = parse_yaml(f"role:\n  {key}: {{can_administer: false}}\n")
    assert list(parsed["role"]) == [name]
    assert source_map.get(("role", name)) == (2, 3)


def test_source_map_positions_are_one_based() -> None:
    _, source_map = parse_yaml("server:\n  web:\n    roles: [a, b]\n")
    assert source_map.get(("server",)) == (1, 1)
    assert source_map.get(("server", "web")) == (2, 3)
    assert source_map.get(("server", "web", "roles")) == (3, 5)
    assert source_map.get(("server", "web", "roles", 1)) == (3, 16)


# --------------------------------------------------------------------------- hostile input


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    """Each level is `width` aliases of the previous one: width**levels strings in all
    (387 million here) from a file of under 2 kB."""
    lines = ["a0: &a0 [" + ", ".join(['"lol"'] * width) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused(
    inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid
) -> None:
    text = billion_laughs()
    assert len(text) < 2000
    message = 'too many nodes after alias expansion (a "billion laughs" document?)'
    with pytest.raises(YamlError) as caught:
        parse_yaml(text)
    assert (caught.value.message, caught.value.code) == (message, "yaml-too-large")
    # The budget runs out while expanding, through the aliases, the innermost list
    # `a0` (anchored at line 1, column 5).
    assert_invalid_inventory(
        inventory_dir({"s.yaml": text}), [("inv/s.yaml", 1, 5, message, "yaml-too-large")]
    )


def nested_keys(keys: int) -> str:
    """`keys` nested block mappings k0, k1, ... then `x: 1`: x's value is at depth keys + 1."""
    return "".join("  " * i + f"k{i}:\n" for i in range(keys)) + "  " * keys + "x: 1\n"


def test_nesting_depth_200_is_refused(
    inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid
) -> None:
    depth = 200
    text = "server:\n  web:\n    provider: " + "[" * depth + "]" * depth + "\n"
    # `server`, `web` and `provider` are three levels; the 63rd list is the 65th level,
    # whose opening bracket is at column 15 + 62.
    assert MAX_DEPTH == 64
    assert_invalid_inventory(
        inventory_dir({"s.yaml": text}),
        [("inv/s.yaml", 3, 77, "nesting deeper than 64 levels", "yaml-too-deep")],
    )


def test_nesting_of_block_mappings_is_refused(
    inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid
) -> None:
    text = nested_keys(200)
    # A key lies inside its mapping: k64 is the first node inside 65 collections
    # (line 65, column 129), the same place whichever check (text or builder) sees it.
    assert_invalid_inventory(
        inventory_dir({"s.yaml": text}),
        [("inv/s.yaml", 65, 129, "nesting deeper than 64 levels", "yaml-too-deep")],
    )


def test_nesting_at_the_limit_is_accepted() -> None:
    parsed, _ = parse_yaml(nested_keys(MAX_DEPTH - 1))
    for i in range(MAX_DEPTH - 1):
        parsed = parsed[f"k{i}"]
    assert parsed == {"x": 1}


def test_nesting_one_past_the_limit_is_refused() -> None:
    with pytest.raises(YamlError) as caught:
        parse_yaml(nested_keys(MAX_DEPTH))
    # The key x is the first node inside 65 collections: line 65, column 129.
    assert (caught.value.line, caught.value.column, caught.value.code) == (
        65,
        2 * MAX_DEPTH + 1,
        "yaml-too-deep",
    )


@pytest.mark.parametrize(
    ("body", "line", "column"),
    [
        # 100,000 levels overflowed libyaml's recursive composer (and yaml-rs): SIGSEGV.
        ("server:\n  web:\n    provider: " + "[" * 100_000 + "]" * 100_000 + "\n", 3, 77),
        ("server:\n  web:\n    admins:\n      " + "- " * 100_000 + "x\n", 4, 131),
    ],
    ids=["flow", "block"],
)
def test_very_deep_nesting_is_refused_without_crashing(
    inventory_dir: MakeInventory,
    validate_cli: RunValidate,
    expected_cli_lines: CliLines,
    body: str,
    line: int,
    column: int,
) -> None:
    # Run in a subprocess only: in-process, a crash would take pytest down with it.
    root = inventory_dir({"s.yaml": body})
    result = validate_cli(root)
    assert result.returncode == 2
    assert result.lines == expected_cli_lines(
        [("inv/s.yaml", line, column, "nesting deeper than 64 levels", "yaml-too-deep")]
    )


def test_refusals_raise_input_error_not_crashes(inventory_dir: MakeInventory) -> None:
    root = inventory_dir({"a.yaml": billion_laughs(), "b.yaml": "x: !!python/name:os.system ''\n"})
    with pytest.raises(InputError) as caught:
        load_inventory(root)
    assert [(p.location.path, p.code) for p in caught.value.problems] == [
        ("inv/a.yaml", "yaml-too-large"),
        ("inv/b.yaml", "yaml-tag"),
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "a: ", "x", "é", "- ", "? "]), st.text(" \t?-", min_size=0, max_size=260)
        ),
        max_size=4,
    )
)
def test_nesting_prefilter_agrees_with_the_line_regex(lines: list[tuple[str, str]]) -> None:
    text = "\n".join(head + run for head, run in lines)
    assert block_nesting_is_shallow(text) is (_DEEP_PREFIX.search(text) is None)
