"""`zenpolicy validate` and `load_inventory`: every kind of invalid input gives one exact
`file:line:col: message` problem and exit code 2; valid inventories give one summary line
and exit code 0; the schemas and the example estate keep their promises."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import (
    AssertInvalid,
    AssertValid,
    CliLines,
    InventoryProblem,
    LibraryProblems,
    MakeInventory,
    RunValidate,
)
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from zenpolicy.errors import InputError
from zenpolicy.inventory import load_inventory
from zenpolicy.inventory.build import (
    collect_document,
    collect_resources,
    link,
    merge_collected,
    schema_problems,
)
from zenpolicy.inventory.loader import Document
from zenpolicy.inventory.yaml12 import parse_yaml
from zenpolicy.model import Location

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "schemas"
EXAMPLE = REPO / "inventory"
NOT_KIND_SCHEMAS = {"config", "inventory", "params", "report", "rule"}
KINDS = sorted(
    p.name.removesuffix(".schema.json")
    for p in SCHEMAS.glob("*.schema.json")
    if p.name.removesuffix(".schema.json") not in NOT_KIND_SCHEMAS
)

WEB = "server:\n  web:\n    provider: OVH\n    country: FR\n    roles: [hosting]\n"
"""A valid server: `server.web` declared at line 2, column 3."""


# --------------------------------------------------------------------------- invalid input

INVALID_CASES: list[tuple[str, dict[str, str | bytes], list[tuple[str, int, int, str, str]]]] = [
    (
        "non-utf8",
        {"s.yaml": b"server:\n  w\xe9b: {}\n"},
        [("inv/s.yaml", 2, 4, "file is not valid UTF-8 (byte 0xe9); save it as UTF-8", "encoding")],
    ),
    (
        "yaml-syntax-indentation",
        {"s.yaml": "server:\n  web:\n    provider: OVH\n   country: FR\n"},
        [("inv/s.yaml", 4, 4, "did not find expected key", "yaml-syntax")],
    ),
    (
        "yaml-syntax-unclosed-flow",
        {"s.yaml": "server:\n  web: [\n"},
        [("inv/s.yaml", 3, 1, "did not find expected node content", "yaml-syntax")],
    ),
    (
        "duplicate-key",
        {"s.yaml": "server:\n  web:\n    provider: OVH\n    provider: OVHcloud\n"},
        [
            (
                "inv/s.yaml",
                4,
                5,
                "duplicate key 'provider' (first defined at line 3, column 5)",
                "duplicate-key",
            )
        ],
    ),
    (
        "duplicate-address-across-files",
        {"a.yaml": WEB, "b.yaml": WEB},
        [
            (
                "inv/b.yaml",
                2,
                3,
                "duplicate address server.web (first declared at inv/a.yaml:2:3)",
                "duplicate-address",
            )
        ],
    ),
    (
        # A resource declared again is reported as such, whatever else is wrong with
        # it: its own problems belong to a declaration that is not kept.
        "duplicate-address-of-a-broken-resource",
        {
            "a.yaml": WEB,
            "b.yaml": "server:\n  web: 3\n",
            "c.yaml": WEB + "    hds_certifed: true\n",
        },
        [
            (
                "inv/b.yaml",
                2,
                3,
                "duplicate address server.web (first declared at inv/a.yaml:2:3)",
                "duplicate-address",
            ),
            (
                "inv/c.yaml",
                2,
                3,
                "duplicate address server.web (first declared at inv/a.yaml:2:3)",
                "duplicate-address",
            ),
        ],
    ),
    (
        "unknown-kind",
        {"s.yaml": "servers:\n  web: {}\n"},
        [("inv/s.yaml", 1, 1, "unknown resource kind 'servers' (did you mean 'server'?)", "unknown-kind")],
    ),
    (
        "unknown-attribute",
        {"s.yaml": WEB + "    hds_certifed: true\n"},
        [
            (
                "inv/s.yaml",
                6,
                5,
                "server.web: unknown attribute 'hds_certifed' for server (did you mean 'hds_certified'?)",
                "unknown-attribute",
            )
        ],
    ),
    (
        "unknown-nested-attribute",
        {"s.yaml": WEB + "    archive: {method: ovh_snapshot, encrypt: true}\n"},
        [
            (
                "inv/s.yaml",
                6,
                37,
                "server.web: unknown attribute 'encrypt' for server attribute 'archive'"
                " (did you mean 'encrypted'?)",
                "unknown-attribute",
            )
        ],
    ),
    (
        "wrong-type",
        {"s.yaml": WEB + "    hds_certified: yes\n"},
        [
            (
                "inv/s.yaml",
                6,
                5,
                "server.web: 'hds_certified' must be a boolean (true or false), not string 'yes'",
                "wrong-type",
            )
        ],
    ),
    (
        "wrong-type-list",
        {"s.yaml": "server:\n  web:\n    provider: OVH\n    country: FR\n    roles: hosting\n"},
        [("inv/s.yaml", 5, 5, "server.web: 'roles' must be a list, not string 'hosting'", "wrong-type")],
    ),
    (
        "missing-required",
        {"s.yaml": "server:\n  web:\n    provider: OVH\n    roles: [hosting]\n"},
        [
            (
                "inv/s.yaml",
                2,
                3,
                "server.web: missing required attribute 'country' for server",
                "missing-attribute",
            )
        ],
    ),
    (
        "not-in-enum",
        {"s.yaml": WEB + "    automatic_updates: weekly\n"},
        [
            (
                "inv/s.yaml",
                6,
                5,
                'server.web: \'automatic_updates\' must be one of "all", "security", "none";'
                " got string 'weekly'",
                "not-in-enum",
            )
        ],
    ),
    (
        "bad-date",
        {"s.yaml": WEB + "    last_patched_on: 2026-02-30\n"},
        [
            (
                "inv/s.yaml",
                6,
                5,
                "server.web: 'last_patched_on' must be a date YYYY-MM-DD that exists; got string '2026-02-30'",
                "bad-format",
            )
        ],
    ),
    (
        "bad-datetime-without-offset",
        {
            "s.yaml": "incident:\n  i1:\n    identifier: INC-1\n    status: open\n    detected_at: 2026-11-02 03:00\n"
        },
        [
            (
                "inv/s.yaml",
                5,
                5,
                "incident.i1: 'detected_at' must be an RFC 3339 date-time with an offset"
                " (2026-11-02T03:00:00Z) that exists; got string '2026-11-02 03:00'",
                "bad-format",
            )
        ],
    ),
    (
        "bad-pattern",
        {"s.yaml": "server:\n  web:\n    provider: OVH\n    country: fr\n    roles: [hosting]\n"},
        [
            (
                "inv/s.yaml",
                4,
                5,
                "server.web: 'country' must be an ISO 3166-1 alpha-2 country code in upper case"
                " (FR, DE, US); got string 'fr'",
                "bad-format",
            )
        ],
    ),
    (
        "dangling-reference",
        {
            "s.yaml": "system:\n  ssh: {type: server_access}\naccount:\n  a:\n    system: system.sshh\n"
            "    type: human\n    status: active\n"
        },
        [
            (
                "inv/s.yaml",
                5,
                5,
                "account.a: system references system.sshh, which is not declared (did you mean system.ssh?)",
                "dangling-reference",
            )
        ],
    ),
    (
        "dangling-reference-in-list",
        {"s.yaml": WEB + "    admins: [account.root]\n"},
        [
            (
                "inv/s.yaml",
                6,
                14,
                "server.web: admins references account.root, which is not declared",
                "dangling-reference",
            )
        ],
    ),
    (
        # A list of references given as a number or as a text: the schema's problem
        # alone (not a crash, nor a problem per character of the text).
        "list-reference-given-a-number",
        {"s.yaml": WEB + "    admins: 5\n"},
        [("inv/s.yaml", 6, 5, "server.web: 'admins' must be a list, not number 5", "wrong-type")],
    ),
    (
        "list-reference-given-a-text",
        {"s.yaml": WEB + "    admins: account.root\n"},
        [
            (
                "inv/s.yaml",
                6,
                5,
                "server.web: 'admins' must be a list, not string 'account.root'",
                "wrong-type",
            )
        ],
    ),
    (
        "reference-to-wrong-kind",
        {
            "s.yaml": WEB + "system:\n  ssh: {type: server_access}\naccount:\n  a:\n    system: system.ssh\n"
            "    type: human\n    status: active\n    role: server.web\n"
        },
        [
            (
                "inv/s.yaml",
                13,
                5,
                "account.a: role must reference a role; server.web is a server",
                "wrong-kind-reference",
            )
        ],
    ),
    (
        "reference-not-an-address",
        {
            "s.yaml": "system:\n  ssh: {type: server_access}\naccount:\n  a:\n    system: ssh\n"
            "    type: human\n    status: active\n"
        },
        [
            (
                "inv/s.yaml",
                5,
                5,
                "account.a: system must be a reference kind.name to a system; got 'ssh'",
                "bad-reference",
            )
        ],
    ),
    (
        "empty-file",
        {"s.yaml": ""},
        [
            (
                "inv/s.yaml",
                1,
                1,
                "file is empty: an inventory file maps resource kinds to resources",
                "empty-file",
            )
        ],
    ),
    (
        "comments-only-file",
        {"s.yaml": "# nothing declared yet\n"},
        [
            (
                "inv/s.yaml",
                1,
                1,
                "file is empty: an inventory file maps resource kinds to resources",
                "empty-file",
            )
        ],
    ),
    (
        "top-level-list",
        {"s.yaml": "- server\n"},
        [
            (
                "inv/s.yaml",
                1,
                1,
                "expected a mapping of resource kinds (server:, account:, ...) at the top of the file",
                "bad-structure",
            )
        ],
    ),
    (
        "bad-resource-name",
        {"s.yaml": "server:\n  -web: {}\n"},
        [
            (
                "inv/s.yaml",
                2,
                3,
                "invalid resource name '-web': use letters, digits, '_', '-', '.', '@',"
                " starting with a letter or digit",
                "bad-name",
            )
        ],
    ),
    (
        # Names are checked all at once when they can be: a newline inside one (a
        # quoted key) must not make "web" and "01" pass as two names.
        "resource-name-holding-a-newline",
        {"s.yaml": WEB + '  "web\\n01": {}\n  ok-2: {provider: OVH, country: FR, roles: [hosting]}\n'},
        [
            (
                "inv/s.yaml",
                6,
                3,
                "invalid resource name 'web\\n01': use letters, digits, '_', '-', '.', '@',"
                " starting with a letter or digit",
                "bad-name",
            )
        ],
    ),
    (
        "invalid-cron-field",
        {
            "s.yaml": WEB + "backup_schedule:\n  s:\n    source: server.web\n    target: server.web\n"
            '    type: full\n    schedule: "0 25 * * *"\n'
        },
        [
            (
                "inv/s.yaml",
                11,
                5,
                "backup_schedule.s: schedule '0 25 * * *' is not a valid cron expression: Bad hour",
                "bad-cron",
            )
        ],
    ),
    (
        "invalid-cron-four-fields",
        {
            "s.yaml": WEB + "backup_schedule:\n  s:\n    source: server.web\n    target: server.web\n"
            '    type: full\n    schedule: "0 3 * *"\n'
        },
        [
            (
                "inv/s.yaml",
                11,
                5,
                "backup_schedule.s: schedule '0 3 * *' is not a valid cron expression:"
                " expected five fields (minute hour day-of-month month day-of-week)",
                "bad-cron",
            )
        ],
    ),
    (
        "tag-python-object",
        {"s.yaml": "server:\n  web: !!python/object:os.system\n    provider: OVH\n"},
        [
            (
                "inv/s.yaml",
                2,
                8,
                "YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed:"
                " inventory files hold plain data only",
                "yaml-tag",
            )
        ],
    ),
    (
        "tag-local",
        {"s.yaml": "server:\n  web:\n    provider: !env OVH\n"},
        [
            (
                "inv/s.yaml",
                3,
                15,
                "YAML tag '!env' is not allowed: inventory files hold plain data only",
                "yaml-tag",
            )
        ],
    ),
    (
        "several-documents",
        {"s.yaml": WEB + "---\nserver:\n  db: {}\n"},
        [
            (
                "inv/s.yaml",
                6,
                1,
                "several YAML documents in one file; put one document per file",
                "yaml-syntax",
            )
        ],
    ),
    (
        "config-file",
        {"zenpolicy.yaml": "organisation: Example\nas_of: 2026-13-01\nparam: {}\n", "s.yaml": WEB},
        [
            (
                "inv/zenpolicy.yaml",
                2,
                1,
                "'as_of' must be a date YYYY-MM-DD that exists; got string '2026-13-01'",
                "bad-format",
            ),
            (
                "inv/zenpolicy.yaml",
                3,
                1,
                "unknown attribute 'param' for configuration (did you mean 'params'?)",
                "unknown-attribute",
            ),
        ],
    ),
    (
        "problems-sorted-across-files",
        {
            "b.yaml": "servers:\n  x: {}\n",
            "a/z.yaml": "server:\n  web:\n    provider: OVH\n    provider: OVH\n",
            "a.yaml": "",
        },
        [
            (
                "inv/a.yaml",
                1,
                1,
                "file is empty: an inventory file maps resource kinds to resources",
                "empty-file",
            ),
            (
                "inv/a/z.yaml",
                4,
                5,
                "duplicate key 'provider' (first defined at line 3, column 5)",
                "duplicate-key",
            ),
            ("inv/b.yaml", 1, 1, "unknown resource kind 'servers' (did you mean 'server'?)", "unknown-kind"),
        ],
    ),
]


@pytest.mark.parametrize(
    ("files", "expected"), [c[1:] for c in INVALID_CASES], ids=[c[0] for c in INVALID_CASES]
)
def test_invalid_inventory(
    inventory_dir: MakeInventory,
    assert_invalid_inventory: AssertInvalid,
    files: dict[str, Any],
    expected: list[InventoryProblem],
) -> None:
    assert_invalid_inventory(inventory_dir(files), expected)


def test_missing_path(inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid) -> None:
    inventory_dir({"s.yaml": WEB})
    assert_invalid_inventory(Path("inv/nope"), [("inv/nope", 0, 0, "no such file or directory", "missing")])


@pytest.mark.parametrize(
    ("target", "reason"),
    [("missing.yaml", "No such file or directory"), ("bad.yaml", "Too many levels of symbolic links")],
    ids=["dangling-symlink", "symlink-loop"],
)
def test_unreadable_file(
    inventory_dir: MakeInventory, assert_invalid_inventory: AssertInvalid, target: str, reason: str
) -> None:
    # chmod 000 does not stop root (the tests and CI run as root): a symbolic link that
    # cannot be followed is an unreadable file for everyone.
    root = inventory_dir({"s.yaml": WEB})
    (root / "bad.yaml").symlink_to(target)
    assert_invalid_inventory(root, [("inv/bad.yaml", 0, 0, f"cannot read file: {reason}", "unreadable")])


def test_file_over_the_size_limit(
    inventory_dir: MakeInventory,
    library_problems: LibraryProblems,
    validate_cli: RunValidate,
    expected_cli_lines: CliLines,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = inventory_dir(
        {"big.yaml": WEB + "# padding\n" * 10, "small.yaml": "person:\n  p: {full_name: P, status: active}\n"}
    )
    size = (root / "big.yaml").stat().st_size
    assert size > 100 >= (root / "small.yaml").stat().st_size
    expected = [
        ("inv/big.yaml", 0, 0, f"file is {size} bytes, over the 100-byte limit; split it", "file-too-large")
    ]
    monkeypatch.setattr("zenpolicy.inventory.loader.MAX_FILE_BYTES", 100)
    assert library_problems(root) == expected
    result = validate_cli(root, max_file_bytes=100)
    assert "Traceback" not in result.output
    assert result.lines == expected_cli_lines(expected)
    assert result.returncode == 2


def test_size_limit_default_is_64_mib() -> None:
    from zenpolicy.inventory import loader

    assert loader.MAX_FILE_BYTES == 64 * 1024 * 1024


# --------------------------------------------------------------------------- valid input

VALID_CASES: list[tuple[str, dict[str, str | bytes], str, list[str]]] = [
    ("one-file", {"s.yaml": WEB}, "inv", ["server.web"]),
    ("file-given-directly", {"s.yaml": WEB}, "inv/s.yaml", ["server.web"]),
    ("yml-extension-and-subdirectories", {"a/b/s.yml": WEB}, "inv", ["server.web"]),
    (
        "hidden-and-other-files-skipped",
        {
            "s.yaml": WEB,
            ".draft.yaml": "not: [valid",
            ".git/x.yaml": "{",
            "notes.txt": "{",
            "s.yaml.bak": "{",
        },
        "inv",
        ["server.web"],
    ),
    # A directory whose name ends in .yaml is a directory: it is walked, not read.
    ("directory-named-like-a-file", {"x.yaml/s.yaml": WEB}, "inv", ["server.web"]),
    ("byte-order-mark", {"s.yaml": b"\xef\xbb\xbf" + WEB.encode()}, "inv", ["server.web"]),
    (
        "config-file-is-not-resources",
        {
            "zenpolicy.yaml": "organisation: Example SAS\nas_of: 2026-11-26\nparams: {password_rotation: 45d}\n",
            "s.yaml": WEB,
        },
        "inv",
        ["server.web"],
    ),
    (
        "config-file-name-below-the-root-is-resources",
        {"sub/zenpolicy.yaml": WEB},
        "inv",
        ["server.web"],
    ),
    (
        "null-resource-body-is-empty-mapping",
        {
            "s.yaml": "role:\n  viewer: {can_administer: false}\nsla:\n  gold:\n    client: Example\n    pra_activation_hours: 24\n"
        },
        "inv",
        ["role.viewer", "sla.gold"],
    ),
    (
        "resources-ordered-by-kind-then-name",
        {"b.yaml": WEB.replace("web", "zz") + "role:\n  r: {can_administer: false}\n", "a.yaml": WEB},
        "inv",
        ["role.r", "server.web", "server.zz"],
    ),
]


@pytest.mark.parametrize(
    ("files", "path", "addresses"), [c[1:] for c in VALID_CASES], ids=[c[0] for c in VALID_CASES]
)
def test_valid_inventory(
    inventory_dir: MakeInventory,
    assert_valid_inventory: AssertValid,
    files: dict[str, Any],
    path: Any,
    addresses: list[str],
) -> None:
    inventory_dir(files)
    assert assert_valid_inventory(Path(path)) == addresses


def test_config_values_are_read(inventory_dir: MakeInventory) -> None:
    root = inventory_dir({"zenpolicy.yaml": "organisation: Example SAS\nas_of: 2026-11-26\n", "s.yaml": WEB})
    config = load_inventory(root).config
    assert (config.organisation, config.as_of) == ("Example SAS", "2026-11-26")


def test_inputs_list_every_file_with_its_hash(inventory_dir: MakeInventory) -> None:
    root = inventory_dir(
        {
            "zenpolicy.yaml": "organisation: X\n",
            "b/s.yaml": WEB,
            "a.yaml": "role:\n  r: {can_administer: false}\n",
        }
    )
    inputs = load_inventory(root).inputs
    assert [i.path for i in inputs] == ["inv/a.yaml", "inv/b/s.yaml", "inv/zenpolicy.yaml"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", i.sha256) for i in inputs)


def test_reference_locations_point_at_list_items(inventory_dir: MakeInventory) -> None:
    root = inventory_dir({"s.yaml": WEB + "    admins:\n      - account.a\n      - account.b\n"})
    with pytest.raises(InputError) as caught:
        load_inventory(root)
    assert [(p.location.line, p.location.column, p.message) for p in caught.value.problems] == [
        (7, 9, "server.web: admins references account.a, which is not declared"),
        (8, 9, "server.web: admins references account.b, which is not declared"),
    ]


REFERRING = (
    "system:\n  ssh: {}\n  vault: {}\n"
    "account:\n"
    "  a: {system: system.ssh, type: human, status: active}\n"
    "  b: {system: system.vault, type: human, status: active}\n"
    "  c: {system: system.ssh, type: human, status: active}\n"
    "server:\n"
    "  web: {provider: OVH, country: FR, roles: [hosting], admins: [account.c, account.a, account.c]}\n"
    "  db: {provider: OVH, country: FR, roles: [hosting], admins: [account.a]}\n"
)


def _referrers(text: str) -> tuple[dict[str, list[str]], list[str]]:
    """Who references each account and system, and the problems of linking `text`."""
    value, smap = parse_yaml(text)
    resources, problems = collect_resources(
        [Document(path="i.yaml", value=value, source_map=smap, sha256="")]
    )
    inv, more = link(resources, Location(path="i"))
    found = {
        target: [r.address for r in inv.referrers(target, kind, via)]
        for target, kind, via in [
            ("account.a", "server", "admins"),
            ("account.c", "server", "admins"),
            ("system.ssh", "account", "system"),
            ("system.vault", "account", "system"),
        ]
    }
    return found, [p.message for p in problems + more]


def test_referrers_are_indexed_alike_whether_or_not_a_reference_is_wrong() -> None:
    # A column of valid references is indexed at once; one wrong reference sends its
    # column through one resource at a time. Both give each target its referrers once,
    # in address order, however many times a list names it.
    expected = {
        "account.a": ["server.db", "server.web"],
        "account.c": ["server.web"],
        "system.ssh": ["account.a", "account.c"],
        "system.vault": ["account.b"],
    }
    assert _referrers(REFERRING) == (expected, [])
    broken = REFERRING.replace("admins: [account.a]}", "admins: [account.a, account.zz, 7]}").replace(
        "b: {system: system.vault", "b: {system: vault"
    )
    assert _referrers(broken) == (
        expected | {"system.vault": []},
        [
            "account.b: system must be a reference kind.name to a system; got 'vault'",
            "server.db: admins references account.zz, which is not declared",
        ],
    )


# --------------------------------------------------------------------------- determinism

DETERMINISM_FILES = {
    "b.yaml": WEB.replace("web", "web-02") + "role:\n  admin: {can_administer: true}\n",
    "a/c.yaml": "system:\n  ssh: {type: server_access}\n",
    "a.yaml": WEB,
    "z.yml": "person:\n  p1: {full_name: P, status: active}\n",
}
BROKEN_FILES = {
    **DETERMINISM_FILES,
    "b.yaml": WEB.replace("web", "web-02") + "role:\n  admin: {can_administer: yes}\n",
    "a/c.yaml": "system:\n  ssh: {type: server_access}\nperson:\n  p1: {full_name: Q, status: active}\n",
    "a.yaml": WEB + "    admins: [account.nobody]\n",
}


def _walk_reversed(top: Any, *args: Any, **kwargs: Any) -> Iterator[tuple[str, list[str], list[str]]]:
    """os.walk listing every directory backwards (the loader may prune `dirnames`)."""
    for dirpath, dirnames, filenames in _REAL_WALK(top, *args, **kwargs):
        dirnames.reverse()
        yield dirpath, dirnames, filenames[::-1]


_REAL_WALK = os.walk


@pytest.mark.parametrize("files", [DETERMINISM_FILES, BROKEN_FILES], ids=["valid", "invalid"])
def test_file_creation_order_does_not_matter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, Any]
) -> None:
    outcomes = set()
    for n, order in enumerate(itertools.permutations(sorted(files))):
        root = tmp_path / f"inv{n}"
        for name in order:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_text(files[name], encoding="utf-8")
        monkeypatch.chdir(root)
        for walk in (_REAL_WALK, _walk_reversed):
            monkeypatch.setattr(os, "walk", walk)
            try:
                loaded = load_inventory(Path("."))
                outcome: tuple[Any, ...] = (
                    tuple(r.address for r in loaded.inventory.resources()),
                    tuple(r.address for kind in loaded.inventory.by_kind.values() for r in kind),
                    tuple(loaded.inventory.by_kind),
                    tuple((i.path, i.sha256) for i in loaded.inputs),
                )
            except InputError as exc:
                outcome = tuple(exc.problems)
            outcomes.add(outcome)
    assert len(outcomes) == 1
    (outcome,) = outcomes
    if files is BROKEN_FILES:
        assert [str(p) for p in outcome] == [
            "a.yaml:6:14: server.web: admins references account.nobody, which is not declared",
            "b.yaml:7:11: role.admin: 'can_administer' must be a boolean (true or false), not string 'yes'",
            "z.yml:2:3: duplicate address person.p1 (first declared at a/c.yaml:4:3)",
        ]
    else:
        assert outcome[0] == ("person.p1", "role.admin", "server.web", "server.web-02", "system.ssh")
        assert outcome[3][0][0] == "a.yaml"


# --------------------------------------------------------------------------- schemas


def _kind_schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{kind}.schema.json").read_text(encoding="utf-8"))
    return schema


def _object_levels(schema: dict[str, Any], where: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every sub-schema that describes a mapping, with a readable path."""
    found = []
    if schema.get("type") == "object" or "properties" in schema:
        found.append((where or "/", schema))
    for name, sub in schema.get("properties", {}).items():
        found += _object_levels(sub, f"{where}/{name}")
    if isinstance(schema.get("items"), dict):
        found += _object_levels(schema["items"], f"{where}[]")
    return found


def test_there_are_25_kinds() -> None:
    assert len(KINDS) == 25


def test_kind_names_sort_resources_by_address_as_by_kind_then_name() -> None:
    # The inventory is ordered by address (build.link), which is the order of (kind,
    # name) only while kinds are made of lowercase letters and `_`.
    assert all(re.fullmatch(r"[a-z_]+", kind) for kind in KINDS)
    kinds = [*KINDS, "backup", "backup_x", "a", "ab"]  # one kind beginning another
    names = ["a", "A", "a.b", "a-b", "a@b", "a_b", "0", "z9", "a.b.c"]
    pairs = [(kind, name) for kind in kinds for name in names]
    assert sorted(pairs, key=lambda p: f"{p[0]}.{p[1]}") == sorted(pairs)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_schema_is_strict_and_documented(kind: str) -> None:
    schema = _kind_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema.get("description")
    for where, level in _object_levels(schema):
        assert level.get("additionalProperties") is False, f"{kind}{where}: additionalProperties is not false"
        for name, sub in level.get("properties", {}).items():
            assert sub.get("description"), f"{kind}{where}/{name} has no description"
        for name in level.get("required", []):
            assert name in level.get("properties", {}), f"{kind}{where}: required {name!r} is not a property"


def _combined_validator() -> jsonschema.Draft202012Validator:
    registry: Registry = Registry().with_resources(
        (f"{kind}.schema.json", Resource.from_contents(_kind_schema(kind), default_specification=DRAFT202012))
        for kind in KINDS
    )
    schema = json.loads((SCHEMAS / "inventory.schema.json").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(
        schema, registry=registry, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_combined_schema_lists_every_kind_by_relative_ref() -> None:
    schema = json.loads((SCHEMAS / "inventory.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # No $id: editors resolve the relative $refs against the file's own location.
    assert "$id" not in schema
    assert schema["additionalProperties"] is False
    assert sorted(schema["properties"]) == KINDS
    for kind, sub in schema["properties"].items():
        assert sub["type"] == "object"
        assert sub["additionalProperties"] == {"$ref": f"{kind}.schema.json"}
        assert sub["description"]


@pytest.mark.parametrize(
    ("document", "valid"),
    [
        ({"server": {"web": {"provider": "OVH", "country": "FR", "roles": ["hosting"]}}}, True),
        ({"servers": {"web": {}}}, False),
        ({"server": {"web": {"provider": "OVH", "country": "FR", "roles": ["hosting"], "x": 1}}}, False),
        ({"server": {"web": {"provider": "OVH", "country": "FR"}}}, False),
        ({"server": {"-web": {"provider": "OVH", "country": "FR", "roles": ["hosting"]}}}, False),
        (
            {
                "account": {
                    "a": {
                        "system": "system.x",
                        "type": "human",
                        "status": "active",
                        "last_login": "2026-11-02",
                    }
                }
            },
            False,
        ),
    ],
    ids=["valid", "unknown-kind", "unknown-attribute", "missing-required", "bad-name", "bad-date-time"],
)
def test_combined_schema_validates_files(document: Any, valid: bool) -> None:
    assert _combined_validator().is_valid(document) is valid


def test_example_inventory_is_valid_and_uses_every_kind() -> None:
    loaded = load_inventory(EXAMPLE)
    assert sorted(loaded.inventory.by_kind) == KINDS
    assert loaded.config.as_of == "2026-11-26"
    assert loaded.config.organisation


EXAMPLE_FILES = sorted(p for p in EXAMPLE.rglob("*.yaml"))


@pytest.mark.parametrize(
    "path", EXAMPLE_FILES, ids=[p.relative_to(EXAMPLE).as_posix() for p in EXAMPLE_FILES]
)
def test_example_files_carry_a_modeline_and_match_the_combined_schema(path: Any) -> None:
    text = path.read_text(encoding="utf-8")
    schema = "config.schema.json" if path == EXAMPLE / "zenpolicy.yaml" else "inventory.schema.json"
    depth = len(path.relative_to(EXAMPLE).parts)
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={'../' * depth}schemas/{schema}"
    assert (path.parent / ("../" * depth) / "schemas" / schema).resolve() == SCHEMAS / schema
    if schema == "inventory.schema.json":
        value, _ = parse_yaml(text)
        errors = [e.message for e in _combined_validator().iter_errors(value)]
        assert errors == []


def test_example_readme_violations_name_declared_resources() -> None:
    readme = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Deliberate violations", 1)[1]
    addresses = re.findall(r"^\| `([a-z_]+\.[A-Za-z0-9_.@-]+)`", table, flags=re.MULTILINE)
    assert 5 <= len(addresses) <= 8
    inventory = load_inventory(EXAMPLE).inventory
    assert [a for a in addresses if inventory.get(a) is None] == []


def test_validate_example_inventory_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "zenpolicy", "validate", "inventory/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    loaded = load_inventory(EXAMPLE)
    assert done.stderr == ""
    assert done.stdout.splitlines() == [
        f"inventory: valid, {len(loaded.inventory)} resources of 25 kinds in {len(loaded.inputs)} files."
    ]
    assert done.returncode == 0


def test_a_directory_without_inventory_files_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_inventory(tmp_path)
    assert [(p.location.path, p.message, p.code) for p in caught.value.problems] == [
        (tmp_path.as_posix(), "no inventory files (*.yaml, *.yml) in this directory", "empty-inventory")
    ]


def test_references_into_an_unreadable_file_are_not_reported_as_undeclared(tmp_path: Path) -> None:
    # a.yaml is broken; b.yaml's reference into it must not add a misleading problem.
    (tmp_path / "a.yaml").write_text("server:\n  web: [\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text(
        "account:\n  a: {system: system.ssh, type: human, status: active}\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        load_inventory(tmp_path)
    assert [p.code for p in caught.value.problems] == ["yaml-syntax"]


def test_a_reference_that_is_not_a_string_is_reported_once(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "server:\n  web: {provider: ovh, country: FR, roles: [hosting], admins: [3]}\n", encoding="utf-8"
    )
    with pytest.raises(InputError) as caught:
        load_inventory(tmp_path)
    assert [(p.location.line, p.location.column, p.code) for p in caught.value.problems] == [
        (2, 64, "wrong-type")
    ]


def test_problems_come_in_the_order_of_the_files() -> None:
    # What `zenpolicy test` shows for a broken rule example: a file's own problems in
    # the order they are written, a later file's after them, schema problems last.
    first = parse_yaml(
        "servers:\n  a: {}\nserver:\n  web: 3\n  'bad name': {}\n  ok:\n    provider: OVH\n"
        "    country: FR\n    roles: [hosting]\n    hds_certifed: true\n"
    )
    second = parse_yaml(WEB + "  other: [1]\nrole: 7\n")
    documents = [
        Document(path="one.yaml", value=first[0], source_map=first[1], sha256=""),
        Document(path="two.yaml", value=second[0], source_map=second[1], sha256=""),
    ]
    resources, problems = collect_resources(documents)
    problems += schema_problems(resources)
    expected = [
        "one.yaml:1:1: unknown resource kind 'servers' (did you mean 'server'?)",
        "one.yaml:4:3: server.web: expected a mapping of attributes",
        "one.yaml:5:3: invalid resource name 'bad name': use letters, digits, '_', '-', '.', '@', "
        "starting with a letter or digit",
        "two.yaml:2:3: duplicate address server.web (first declared at one.yaml:4:3)",
        "two.yaml:6:3: server.other: expected a mapping of attributes",
        "two.yaml:7:1: role: expected a mapping of resource names to attributes",
        "one.yaml:10:5: server.ok: unknown attribute 'hds_certifed' for server (did you mean 'hds_certified'?)",
    ]
    assert [str(p) for p in problems] == expected
    assert [r.address for r in resources] == ["server.ok"]
    # Checked file by file, as files arrive from the parsing processes: the same.
    merged, together = merge_collected([collect_document(doc) for doc in documents])
    assert [str(p) for p in together] == expected
    assert merged == resources
