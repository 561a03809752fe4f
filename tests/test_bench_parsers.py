"""bench/parsers.py: its probes find where a parser reads YAML otherwise than YAML 1.2
core, and which of those readings would get through the fast path's guards. The parser
zenpolicy ships (yaml-rs) must let none through; a YAML 1.1 parser (PyYAML, a
dependency already) shows the harness catching real differences."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
import yaml_rs
from engine_helpers import generated_estate

from zenpolicy.inventory import fastload

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import parsers  # noqa: E402 - from bench/, put on the path above

# What yaml-rs reads otherwise than YAML 1.2 core, every one of them refused by the
# guards (the pre-check, the key walk): the fast path's equivalence, probe by probe.
YAML_RS_CAUGHT = [
    "core booleans only (True)",
    "core booleans only (TRUE)",
    "digit separators (1_000)",
    "signed hexadecimal (-0x1)",
    "binary (0b101)",
    "integer key stays text",
    "empty block scalar at the end",
    "empty value in a flow mapping",
    "two documents",
]


def _yaml_rs(text: str) -> object:
    return yaml_rs.loads(text, parse_datetime=False)


def test_yaml_rs_lets_nothing_through() -> None:
    refused, caught, shipped = parsers.probe(_yaml_rs)
    assert (refused, caught, shipped) == (7, YAML_RS_CAUGHT, [])


def test_a_yaml_1_1_parser_is_caught_out() -> None:
    refused, caught, shipped = parsers.probe(lambda text: yaml.load(text, Loader=yaml.SafeLoader))
    assert refused == 6
    # Dates become `datetime.date` objects, which the key and depth walk refuses.
    assert "date stays text" in caught
    assert shipped == [
        "YAML 1.1 boolean (yes)",
        "exponent without a dot (1e3)",
        "leading zero (012)",
        "sexagesimal stays text",
        "duplicate key",
        "duplicate key, one quoted",
        "merge key",
    ]


def test_the_guards_get_yaml_rs_back() -> None:
    parsers.through_guards(lambda text: {"k": "v"}, "k: 1\n")
    assert fastload._yaml_rs_loads is yaml_rs.loads
    assert parsers.through_guards(lambda text: {"k": "v"}, "k: 1\n") == {"k": "v"}
    assert parsers.through_guards(lambda text: {"k": "v"}, "k: True\n") is parsers._REFUSED


def test_main_on_a_small_estate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = generated_estate(tmp_path / "estate", 120, 3, 4)
    # yaml-rs, and a candidate that is not installed (whatever this machine holds).
    absent = parsers.Candidate("no-such-parser==0.1", "zenpolicy_no_such_parser", lambda m: m.loads)
    monkeypatch.setattr(parsers, "CANDIDATES", (parsers.CANDIDATES[0], absent))
    monkeypatch.setattr(parsers, "TARGET", tmp_path / "no-candidates")
    monkeypatch.setattr(sys, "argv", ["parsers.py", str(root), "--runs", "1"])
    monkeypatch.setattr(sys, "path", list(sys.path))  # `installed` appends the target
    parsers.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{root}: 3 files, ")
    assert lines[1].startswith("  yaml-rs==0.1.6 ")
    assert lines[1].endswith(
        "1.0x yaml-rs  files as zenpolicy reads them 3/3  probes: 7 refused, "
        "9 read otherwise (caught by the guards), 0 read otherwise and let through"
    )
    assert lines[2:] == ["  not installed (--setup): no-such-parser==0.1"]


def test_refuses_to_probe_with_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ZENPOLICY_FAST_YAML", "0")
    monkeypatch.setattr(sys, "argv", ["parsers.py", "anywhere"])
    with pytest.raises(SystemExit) as exit_:
        parsers.main()
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "parsers.py: error: the fast path is turned off (ZENPOLICY_FAST_YAML=0): its guards cannot be probed"
    )
