"""`zenpolicy check` with its result cache: a hit is indistinguishable from a run (stdout,
stderr, exit code, output file), and anything that could change the result is a miss.

Every test has an empty cache of its own (conftest.py). A run that must be a hit is made
with `run_check_rendered` replaced by a failure (`_NO_RUN`): if it evaluated anything, it would
exit 99.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_check import ROOT, clean_env, write_rule, zenpolicy

_NO_RUN = (
    "import sys\n"
    "import zenpolicy.cli_report as delivery\n"
    "def refuse(*args):\n"
    "    raise SystemExit(99)\n"
    "delivery.run_check_rendered = refuse\n"
    "from zenpolicy.cli import main\n"
    "sys.argv = ['zenpolicy', *sys.argv[1:]]\n"
    "main()\n"
)


def from_cache(*args: str | Path, code: str = _NO_RUN) -> subprocess.CompletedProcess[str]:
    """`zenpolicy ARGS` in a process that cannot evaluate (`code`, `_NO_RUN` or a
    variant of it): it answers from the cache or exits 99."""
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=600,
    )


def same(a: subprocess.CompletedProcess[str], b: subprocess.CompletedProcess[str]) -> None:
    assert (a.returncode, a.stdout, a.stderr) == (b.returncode, b.stdout, b.stderr)


def entries(cache_dir: Path) -> list[str]:
    return sorted(p.name for p in cache_dir.iterdir()) if cache_dir.exists() else []


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "json"],
        [],
        ["--verbose"],
        ["--select", "AUTH-*", "--fail-on", "critical"],
    ],
    ids=["json", "text", "text-verbose", "select"],
)
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_a_hit_is_the_run_byte_for_byte(
    tmp_path: Path, private_cache: Path, args: list[str], to_file: bool
) -> None:
    target = tmp_path / "report"
    out = ["--output", str(target)] if to_file else []
    first = zenpolicy("check", "inventory", *args, *out)
    written = target.read_bytes() if to_file else b""
    assert len(entries(private_cache)) == 1
    hit = from_cache("check", "inventory", *args, *out)
    same(hit, first)
    if to_file:
        assert target.read_bytes() == written
        assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary left
        assert first.stderr.startswith(f"{target}: ") and first.stdout == ""
    else:
        assert first.stdout
    uncached = zenpolicy("check", "inventory", *args, *out, "--no-cache")
    same(uncached, first)
    if to_file:
        assert target.read_bytes() == written


def test_a_hit_rewrites_an_output_file_that_changed(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    first = zenpolicy("check", "inventory", "--format", "json", "-o", target)
    expected = target.read_bytes()
    target.write_bytes(expected.replace(b'"fail"', b'"pass"'))
    target.chmod(0o640)
    same(from_cache("check", "inventory", "--format", "json", "-o", target), first)
    assert target.read_bytes() == expected
    assert target.stat().st_mode & 0o777 == 0o640  # as a run keeps it
    target.unlink()
    same(from_cache("check", "inventory", "--format", "json", "-o", target), first)
    assert target.read_bytes() == expected


def test_one_entry_serves_every_fail_on() -> None:
    zenpolicy("check", "inventory")
    for fail_on in ("info", "high", "critical"):
        hit = from_cache("check", "inventory", "--fail-on", fail_on)
        same(hit, zenpolicy("check", "inventory", "--fail-on", fail_on, "--no-cache"))


def test_error_findings_exit_3_from_the_cache_too(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text("person:\n  bob:\n    full_name: Bob\n    status: active\n")
    (inv / "zenpolicy.yaml").write_text("as_of: 2026-11-26\n")
    write_rule(tmp_path / "rules", "T-BOOM", severity="info", message="{{ 1 // 0 }}")
    args = ("check", inv, "--policies", tmp_path / "rules")
    first = zenpolicy(*args)
    assert first.returncode == 3
    same(from_cache(*args), first)


def _estate(root: Path) -> Path:
    root.mkdir()
    (root / "zenpolicy.yaml").write_text("organisation: Test\nas_of: 2026-11-26\n")
    (root / "people.yaml").write_text("person:\n  bob:\n    full_name: Bob\n    status: active\n")
    return root


@pytest.mark.parametrize(
    "change",
    ["content", "touch-same-content", "new-file", "config", "policy", "option", "as-of", "no-cache"],
)
def test_a_change_is_a_miss(tmp_path: Path, change: str) -> None:
    inv = _estate(tmp_path / "inv")
    write_rule(tmp_path / "rules", "T-LOW")
    args: list[str | Path] = ["check", inv, "--policies", tmp_path / "rules", "--format", "json"]
    first = zenpolicy(*args)
    assert first.returncode == 1
    hit = True
    if change == "content":  # Bob becomes Alice: the rule passes
        (inv / "people.yaml").write_text("person:\n  bob:\n    full_name: Alice\n    status: active\n")
        hit = False
    elif change == "touch-same-content":
        os.utime(inv / "people.yaml", (1, 1))  # the key is the content, not the time
    elif change == "new-file":
        (inv / "more.yaml").write_text("person:\n  eve:\n    full_name: Eve\n    status: active\n")
        hit = False
    elif change == "config":
        (inv / "zenpolicy.yaml").write_text("organisation: Test\nas_of: 2026-11-27\n")
        hit = False
    elif change == "policy":
        write_rule(tmp_path / "rules", "T-LOW", message="{{ address }} is someone else")
        hit = False
    elif change == "option":
        args += ["--skip", "T-LOW"]
        hit = False
    elif change == "as-of":
        args += ["--as-of", "2026-12-01"]
        hit = False
    elif change == "no-cache":
        args += ["--no-cache"]
        hit = False
    attempt = from_cache(*args)
    if hit:
        same(attempt, first)
    else:
        assert attempt.returncode == 99, "answered from the cache after a change"
        again = zenpolicy(*args)
        uncached = zenpolicy(*args, "--no-cache")
        same(again, uncached)
        assert again.stdout != first.stdout or change in ("as-of", "no-cache", "config")


def test_damaged_or_deleted_cache_is_a_miss(tmp_path: Path, private_cache: Path) -> None:
    target = tmp_path / "r.json"
    first = zenpolicy("check", "inventory", "--format", "json", "-o", target)
    (entry,) = private_cache.iterdir()
    data = entry.read_bytes()
    entry.write_bytes(data[:-100] + bytes(b ^ 0x20 for b in data[-100:]))  # same size, other bytes
    # The file still holds the report the entry's header describes (length and CRC-32):
    # it is left as it is, and the damaged payload is not read.
    same(from_cache("check", "inventory", "--format", "json", "-o", target), first)
    target.unlink()
    assert from_cache("check", "inventory", "--format", "json", "-o", target).returncode == 99
    assert not target.exists()
    assert entries(private_cache) == []  # the damaged entry was removed
    same(zenpolicy("check", "inventory", "--format", "json", "-o", target), first)
    assert entries(private_cache) == [entry.name]
    for path in private_cache.iterdir():
        path.unlink()
    private_cache.rmdir()
    same(zenpolicy("check", "inventory", "--format", "json", "-o", target), first)
    assert entries(private_cache) == [entry.name]


def test_nothing_is_cached_from_a_failed_or_uncacheable_run(tmp_path: Path, private_cache: Path) -> None:
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text("person:\n  bob:\n    status: gone\n")
    assert zenpolicy("check", inv).returncode == 2
    assert zenpolicy("check", "inventory", "--output", tmp_path / "nope" / "r.json").returncode == 3
    assert zenpolicy("check", "inventory", "--timestamp", "--format", "json").returncode == 1
    assert zenpolicy("check", "inventory", "--no-cache").returncode == 1
    assert entries(private_cache) == []


def test_the_cache_lives_where_it_is_told(tmp_path: Path) -> None:
    elsewhere = tmp_path / "xdg"
    proc = zenpolicy("check", "inventory", env={"ZENPOLICY_CACHE_DIR": "", "XDG_CACHE_HOME": str(elsewhere)})
    assert proc.returncode == 1
    assert len(entries(elsewhere / "zenpolicy")) == 1
    assert (elsewhere / "zenpolicy").stat().st_mode & 0o777 == 0o700


def test_a_hit_imports_none_of_the_rule_language() -> None:
    """What the cache answers needs no rule parsed, compiled or evaluated: the process
    of a hit does not import the rule language or the engines (20 ms of its 0.15 s on
    the example estate), `--param` included."""
    args = ["check", "inventory", "--param", "password_rotation=31d"]
    run = zenpolicy(*args)
    # The program ends the process as the command ends (zenpolicy/exiting.py): what it
    # imported is written just before.
    code = _NO_RUN.replace(
        "main()\n",
        "import zenpolicy.exiting as exiting\n"
        "leave = exiting.leave\n"
        "def imported(done):\n"
        "    loaded = sorted(m for m in sys.modules if m.startswith(('zenpolicy.rules.', 'zenpolicy.engines')))\n"
        "    sys.stderr.write(f'imported {loaded}')\n"
        "    leave(done)\n"
        "exiting.leave = imported\n"
        "main()\n",
    )
    hit = from_cache(*args, code=code)
    assert (hit.returncode, hit.stdout) == (run.returncode, run.stdout) == (1, run.stdout)
    # The date of the run, for the key (`--as-of`, the configuration, or today).
    assert hit.stderr.endswith("imported ['zenpolicy.rules.timeutil']"), hit.stderr[-300:]
