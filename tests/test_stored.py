"""The parsed catalogue kept between runs (rules/stored.py): read back equal to what
loading the files gives, and never trusted when anything about it changed."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from zenpolicy.errors import RuleError
from zenpolicy.resources import policies_dir
from zenpolicy.rules import loader, stored
from zenpolicy.rules.loader import load_catalogue


@pytest.fixture(autouse=True)
def _turned_on(monkeypatch: pytest.MonkeyPatch) -> None:
    # The other tests run without it (tests/conftest.py); these are about what it does.
    monkeypatch.setenv("ZENPOLICY_CATALOGUE_CACHE", "1")


def test_on_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZENPOLICY_CATALOGUE_CACHE")
    assert stored.enabled()
    load_catalogue(())
    assert len(_entries()) == 1
    load_catalogue((), reuse=False)  # what `check --no-cache` asks for
    assert len(_entries()) == 1


def test_check_uses_it_unless_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZENPOLICY_CATALOGUE_CACHE")
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONUTF8": "1"}

    def check(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "zenpolicy", "check", str(root / "inventory"), "--format", "json", *args],
            env=env, capture_output=True, text=True, check=False, timeout=600,
        )  # fmt: skip

    uncached = check("--no-cache")
    assert _entries() == []  # --no-cache: neither the result cache nor the catalogue
    first, second = check(), check("--select", "AUTH-*,ACC-*,BAK-*,SRV-*,WKS-*,WEB-*")
    assert len(_entries()) == 1
    assert (first.returncode, first.stdout) == (uncached.returncode, uncached.stdout) == (1, uncached.stdout)
    assert second.returncode == 1
    assert '"rule_id": "AUTH-03a"' in second.stdout


def _fresh(extra: tuple[Path, ...] = ()) -> loader.Catalogue:
    dirs = [(policies_dir(), True), *((d, False) for d in extra)]
    return loader._load_catalogue(dirs)


def _entries() -> list[Path]:
    return sorted(stored._directory().glob("*.json"))


def _no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(dirs: object) -> None:
        raise AssertionError("the catalogue was loaded from its files")

    monkeypatch.setattr(loader, "_load_catalogue", refuse)


def test_read_back_equal_to_the_files() -> None:
    first = load_catalogue(())
    assert len(_entries()) == 1
    again = load_catalogue(())
    fresh = _fresh()
    for got in (first, again):
        assert repr(got) == repr(fresh)
        assert [r.raw for r in got.rules] == [r.raw for r in fresh.rules]
        assert [r.examples for r in got.rules] == [r.examples for r in fresh.rules]
        assert got.params == fresh.params


def test_a_second_load_reads_the_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    expected = repr(load_catalogue(()))
    _no_loading(monkeypatch)
    assert repr(load_catalogue(())) == expected


def test_a_changed_rule_file_is_loaded_again(tmp_path: Path) -> None:
    custom = tmp_path / "rules"
    custom.mkdir()
    rule = custom / "X-01.yaml"
    text = (policies_dir() / "web" / "WEB-01a.yaml").read_text()
    rule.write_text(re.sub(r"(?m)^id: .*$", "id: X-01", text))
    first = load_catalogue((custom,))
    assert first.get("X-01") is not None
    rule.write_text(rule.read_text().replace("title: ", "title: Changed ", 1))
    changed = load_catalogue((custom,))
    assert changed.get("X-01").title.startswith("Changed ")  # type: ignore[union-attr]
    assert len(_entries()) == 2


def test_a_catalogue_with_problems_is_never_stored(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "X-01.yaml").write_text("id: X-01\n")
    for _ in range(2):
        with pytest.raises(RuleError):
            load_catalogue((bad,))
    assert _entries() == []


@pytest.mark.parametrize("damage", [b"", b"not JSON", None])
def test_a_damaged_entry_is_a_miss_and_is_removed(damage: bytes | None) -> None:
    load_catalogue(())
    (entry,) = _entries()
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2] if damage is None else damage)
    assert repr(load_catalogue(())) == repr(_fresh())
    assert len(_entries()) == 1 and entry.read_bytes() == data  # stored again


def test_an_entry_under_another_key_is_refused() -> None:
    load_catalogue(())
    (entry,) = _entries()
    other = entry.with_name("0" * 64 + ".json")
    entry.rename(other)
    assert stored.load("0" * 64) is None  # the key inside says otherwise
    assert not other.exists()


def test_a_directory_others_can_write_to_is_not_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    load_catalogue(())
    stored._directory().chmod(0o777)
    try:
        assert stored.load(stored.key([policies_dir()])) is None
    finally:
        stored._directory().chmod(0o700)


def test_turned_off_by_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENPOLICY_CATALOGUE_CACHE", "0")
    load_catalogue(())
    assert _entries() == []


def test_a_read_back_catalogue_renders_messages_without_jinja2(tmp_path: Path) -> None:
    """The plans are stored with the catalogue. Planning without Jinja2 is turned off in
    both runs (the built-in templates would not need it otherwise): the first run parses
    with Jinja2, the second reads the plans back and never imports it."""
    code = (
        "import sys\n"
        "from zenpolicy.rules import message\n"
        "message._simple_plan = lambda text: message._JINJA\n"
        "from zenpolicy.rules.loader import load_catalogue\n"
        "from zenpolicy.rules.message import render_message\n"
        "for rule in load_catalogue(()).rules:\n"
        "    render_message(rule.message, address='a.b', attrs={}, params={}, evidence=())\n"
        "print('jinja2' in sys.modules)\n"
    )
    env = dict(os.environ)
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    assert [r.stdout.strip() for r in runs] == ["True", "False"]


@pytest.mark.parametrize(
    "payload",
    [
        ["D", "Popen", [["J", ["sh", "-c", "exit 1"]]]],  # a class that is not allowed
        ["D", "Location", ["a", 1]],  # a missing field
        ["X", 1],  # a tag the encoder never writes
        {"untagged": 1},
    ],
)
def test_an_entry_holding_anything_else_is_a_miss(payload: object) -> None:
    load_catalogue(())
    (entry,) = _entries()
    stored_entry = json.loads(entry.read_text())
    stored_entry["catalogue"] = payload
    entry.write_text(json.dumps(stored_entry))
    assert stored.load(entry.stem) is None
    assert not entry.exists()


def test_the_encoding_round_trips_what_json_alone_would_not() -> None:
    from zenpolicy.model import Location, Severity
    from zenpolicy.rules import ast

    value = {
        "tuple": (1, (2.0, "3")),
        "severity": Severity.HIGH,
        "plain": {"a": [1, 1.0, True, None, float("inf")], "b": {"c": "é"}},
        "node": ast.Compare(path=ast.Path(parts=("x", "y")), op="in", value=ast.Literal(value=["a", 1])),
        "location": Location(path="p", line=1, column=2),
        "list": [(1,), ast.Param(name="n", unit="d")],
    }
    back = stored.decode(json.loads(json.dumps(stored.encode(value))))
    assert repr(back) == repr(value)
    assert type(back["tuple"][1]) is tuple and type(back["severity"]) is Severity


def test_a_check_imports_neither_pyyaml_nor_jinja2(tmp_path: Path) -> None:
    """A check of the example estate (every file on the fast path, a valid
    configuration setting parameters) needs neither parser library, with the catalogue
    stored or read from its files (`--no-cache`): 11 ms of PyYAML import and Jinja2's
    are saved on every run. Checked in the process of the run."""
    root = Path(__file__).resolve().parent.parent
    estate = tmp_path / "inventory"
    shutil.copytree(root / "inventory", estate)
    with (estate / "zenpolicy.yaml").open("a", encoding="utf-8") as config:
        config.write("params:\n  password_rotation: 31d\n  full_backups_per_month: 6\n")

    def run(*options: str) -> subprocess.CompletedProcess[str]:
        # The program ends the process as the command ends (zenpolicy/exiting.py): what
        # it imported is written just before.
        code = (
            "import runpy, sys\n"
            "import zenpolicy.exiting as exiting\n"
            "leave = exiting.leave\n"
            "def imported(done):\n"
            '    sys.stderr.write(f\'exit {done.code} yaml {"yaml" in sys.modules} jinja2 {"jinja2" in sys.modules}\')\n'
            "    leave(done)\n"
            "exiting.leave = imported\n"
            f"sys.argv = ['zenpolicy', 'check', {str(estate)!r}, *{options!r}]\n"
            "runpy.run_module('zenpolicy', run_name='__main__')\n"
        )
        env = {**os.environ, "PYTHONUTF8": "1"}
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
        )

    runs = [run(), run(), run("--no-cache")]
    assert len(_entries()) == 1
    for done in runs[1:]:
        assert done.stderr.endswith("exit 1 yaml False jinja2 False"), done.stderr[-300:]
    assert runs[0].stdout == runs[1].stdout == runs[2].stdout
    assert "password_rotation=31d" in runs[2].stdout
