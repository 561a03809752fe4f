"""`zenpolicy check`, run as a user runs it: a real `python -m zenpolicy` process.

Small estates and custom rules are written to tmp_path so that each exit code is
produced by a genuine input, independent of how the built-in catalogue evolves.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parents[1]
_CLEAN_ENV = (
    "NO_COLOR",
    "ZENPOLICY_DEBUG",
    "ZENPOLICY_JOBS",
    "ZENPOLICY_OPA_TOKEN",
    "ZENPOLICY_OPA_URL",
    "ZENPOLICY_TIMINGS",
)


def clean_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a CLI run: none of the user's zenpolicy settings, UTF-8."""
    full_env = {k: v for k, v in os.environ.items() if k not in _CLEAN_ENV}
    full_env["PYTHONUTF8"] = "1"  # reports quote French clauses: same bytes on every locale
    full_env.update(env or {})
    return full_env


def zenpolicy(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI from the repository root; no run may ever show a traceback."""
    full_env = clean_env(env)
    proc = subprocess.run(
        [sys.executable, "-m", "zenpolicy", *map(str, args)],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=600,
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    return proc


RULE = """\
id: {id}
control: TEST-01
title: People are called Alice
description: A test rule.
severity: {severity}
domain: testing
resource: person
require: {{path: full_name, eq: Alice}}
message: "{message}"
clause: {{source: test, ref: TEST, text: Test.}}
remediation: Call them Alice.
examples:
  pass: [{{subject: person.a, resources: {{person: {{a: {{full_name: Alice, status: active}}}}}}}}]
  fail: [{{subject: person.a, resources: {{person: {{a: {{full_name: Bob, status: active}}}}}}}}]
"""


def write_rule(
    directory: Path, rule_id: str, severity: str = "low", message: str = "{{ address }} is not Alice"
) -> None:
    directory.mkdir(exist_ok=True)
    (directory / f"{rule_id}.yaml").write_text(
        RULE.format(id=rule_id, severity=severity, message=message), encoding="utf-8"
    )


@pytest.fixture
def estate(tmp_path: Path) -> Path:
    """One person, Bob, and custom rules: T-LOW fails (low), T-PASS passes, T-BOOM errors
    (its message divides by zero when rendered for a failing finding)."""
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text(
        "person:\n  bob:\n    full_name: Bob\n    status: active\n", encoding="utf-8"
    )
    (inv / "zenpolicy.yaml").write_text("as_of: 2026-11-26\n", encoding="utf-8")
    rules = tmp_path / "rules"
    write_rule(rules, "T-LOW")
    write_rule(rules, "T-BOOM", severity="info", message="{{ 1 // 0 }}")
    (rules / "T-PASS.yaml").write_text(
        RULE.format(id="T-PASS", severity="critical", message="never").replace("eq: Alice", "eq: Bob"),
        encoding="utf-8",
    )
    return tmp_path


@pytest.mark.parametrize(
    ("options", "code"),
    [
        (["--select", "T-PASS"], 0),
        (["--select", "T-LOW"], 1),
        (["--select", "T-LOW", "--fail-on", "low"], 1),
        (["--select", "T-LOW", "--fail-on", "medium"], 0),
        (["--select", "T-LOW", "--fail-on", "critical"], 0),
        (["--select", "T-PASS,T-LOW", "--fail-on", "info"], 1),
        (["--select", "T-BOOM"], 3),
        # An error finding outranks failures and any threshold: the run proved nothing.
        (["--select", "T-*", "--fail-on", "critical"], 3),
    ],
)
def test_exit_codes(estate: Path, options: list[str], code: int) -> None:
    proc = zenpolicy("check", estate / "inv", "--policies", estate / "rules", *options)
    assert proc.returncode == code, proc.stdout + proc.stderr


def test_error_finding_is_reported(estate: Path) -> None:
    proc = zenpolicy("check", estate / "inv", "--policies", estate / "rules", "--select", "T-BOOM")
    assert proc.returncode == 3
    assert "T-BOOM  error     rule could not be evaluated: ZeroDivisionError" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of", "2026-13-01"], "zenpolicy: error: --as-of '2026-13-01' is not a valid date (YYYY-MM-DD)\n"),
        (["--param", "password_rotaton=7d"],
         "zenpolicy: error: unknown parameter 'password_rotaton' in the command line "
         "(did you mean password_rotation?)\n"),
        (["--param", "password_rotation=soon"],
         "zenpolicy: error: parameter password_rotation (command line) must be a duration such as 31d, "
         "72h or 15m, not 'soon'\n"),
        (["--param", "password_rotation"], "zenpolicy: error: --param expects name=value, not 'password_rotation'\n"),
        (["--select", "NOPE-*"], "zenpolicy: error: rule pattern 'NOPE-*' matches no rule (see `zenpolicy rules`)\n"),
        (["--opa-url", "http://localhost:8181"], "zenpolicy: error: --opa-url needs --engine opa\n"),
        (["--engine", "opa"], "zenpolicy: error: --engine opa needs --opa-url URL (or ZENPOLICY_OPA_URL)\n"),
    ],
)  # fmt: skip
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = zenpolicy("check", "inventory", *args)
    assert (proc.returncode, proc.stderr, proc.stdout) == (2, message, "")


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("pasword_rotation: 7d", "unknown parameter 'pasword_rotation' (did you mean password_rotation?)"),
        ("zzz: 1", "unknown parameter 'zzz' (`zenpolicy rules params` lists them)"),
        ("password_rotation: soon",
         "parameter password_rotation must be a duration such as 31d, 72h or 15m, not 'soon'"),
        ("full_backups_per_month: six", "parameter full_backups_per_month must be an integer, not 'six'"),
    ],
)  # fmt: skip
def test_a_bad_parameter_in_the_configuration_is_an_inventory_problem(
    tmp_path: Path, param: str, message: str
) -> None:
    """`check` and `validate` say the same, at the parameter's place in the file; the
    file is judged on its own (a `--param` overriding the value does not excuse it)."""
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text(
        "person:\n  bob:\n    full_name: Bob Example\n    status: active\n", encoding="utf-8"
    )
    config = "# the configuration\nas_of: 2026-11-26\nparams:\n  inactivity_limit: 90d\n"
    (inv / "zenpolicy.yaml").write_text(config + f"  {param}\n", encoding="utf-8")
    lines = f"{(inv / 'zenpolicy.yaml').as_posix()}:5:3: {message}\n1 problem in the inventory; nothing was checked.\n"
    runs: list[list[str | Path]] = [
        ["check", inv],
        ["check", inv, "--param", "password_rotation=31d"],
        ["validate", inv],
    ]
    for args in runs:
        proc = zenpolicy(*args)
        assert (proc.returncode, proc.stdout) == (2, lines), args
    assert proc.stderr == ""  # validate's verdict is its stdout
    valid = (inv / "zenpolicy.yaml").read_text(encoding="utf-8").replace(param, "password_rotation: 31d")
    (inv / "zenpolicy.yaml").write_text(valid, encoding="utf-8")
    assert zenpolicy("validate", inv).returncode == 0
    assert zenpolicy("check", inv).returncode == 1  # bob fails a rule or more


def test_validate_knows_the_parameters_of_custom_rules(tmp_path: Path) -> None:
    """A parameter only custom rules declare is unknown to `validate` without their
    directory, and valid with it (`--policies`, as for `check`)."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "params.yaml").write_text(
        "visit_window:\n  type: duration\n  default: 8h\n  description: How long a visit lasts.\n"
        "  clause: III-S§8\n",
        encoding="utf-8",
    )
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text(
        "person:\n  bob:\n    full_name: Bob Example\n    status: active\n", encoding="utf-8"
    )
    (inv / "zenpolicy.yaml").write_text("params:\n  visit_window: 4h\n", encoding="utf-8")
    alone = zenpolicy("validate", inv)
    assert (alone.returncode, alone.stdout.splitlines()[0]) == (
        2,
        f"{(inv / 'zenpolicy.yaml').as_posix()}:2:3: unknown parameter 'visit_window'"
        " (`zenpolicy rules params` lists them)",
    )
    assert zenpolicy("validate", inv, "--policies", rules).returncode == 0


def test_invalid_inventory_prints_the_validate_lines(tmp_path: Path) -> None:
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text("person:\n  bob:\n    status: gone\n", encoding="utf-8")
    checked = zenpolicy("check", inv)
    validated = zenpolicy("validate", inv)
    assert (checked.returncode, validated.returncode) == (2, 2)
    assert checked.stdout == validated.stdout
    assert checked.stdout.endswith("2 problems in the inventory; nothing was checked.\n")
    assert checked.stderr == "zenpolicy: error: 2 problem(s) in the inventory\n"


def test_custom_rule_id_clash_exits_2(tmp_path: Path) -> None:
    write_rule(tmp_path / "rules", "AUTH-01a")
    proc = zenpolicy("check", "inventory", "--policies", tmp_path / "rules")
    assert proc.returncode == 2
    clash = [line for line in proc.stdout.splitlines() if "duplicate rule ID AUTH-01a" in line]
    assert clash == [
        f"{(tmp_path / 'rules' / 'AUTH-01a.yaml').as_posix()}:1:1: duplicate rule ID AUTH-01a "
        "(also defined in policies/authentication/AUTH-01a.yaml)"
    ]


def report(*args: str | Path) -> dict[str, Any]:
    proc = zenpolicy("check", "inventory", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    assert isinstance(doc, dict)
    return doc


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--select", "AUTH-01?"], ["AUTH-01a", "AUTH-01b", "AUTH-01c"]),
        (["--select", "AUTH-02,ACC-01", "--select", "AUTH-06"], ["ACC-01", "AUTH-02", "AUTH-06"]),
        (["--select", "AUTH-0[34]*", "--skip", "AUTH-03b"], ["AUTH-03a", "AUTH-04a", "AUTH-04b"]),
        (["--select", "AUTH-05*", "--skip", "AUTH-05a, AUTH-05c"], ["AUTH-05b"]),
    ],
)
def test_select_and_skip(args: list[str], expected: list[str]) -> None:
    doc = report(*args)
    assert [r["id"] for r in doc["rules"]] == expected
    assert {f["rule_id"] for f in doc["findings"]} <= set(expected)


def test_param_override_is_used_and_reported() -> None:
    default = report("--select", "AUTH-03a")
    strict = report("--select", "AUTH-03a", "--param", "password_rotation=1d")
    assert default["params"]["password_rotation"] == "31d"
    assert strict["params"]["password_rotation"] == "1d"
    assert strict["counts"]["fail"] > default["counts"]["fail"]


def test_json_reruns_are_byte_identical(tmp_path: Path) -> None:
    first = zenpolicy("check", "inventory", "--format", "json")
    second = zenpolicy("check", "inventory", "--format", "json", "--output", tmp_path / "r.json")
    assert (first.returncode, second.returncode) == (1, 1)
    assert first.stdout == (tmp_path / "r.json").read_text(encoding="utf-8")
    assert "generated_at" not in first.stdout


def test_timestamp_adds_generated_at() -> None:
    doc = report("--timestamp", "--select", "AUTH-02")
    assert isinstance(doc["generated_at"], str)
    assert doc["generated_at"].startswith("20")


def test_output_file(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("previous report\n", encoding="utf-8")
    proc = zenpolicy("check", "inventory", "--output", target)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.startswith(f"{target}: ") and " failing, " in proc.stderr
    assert target.read_text(encoding="utf-8").rstrip().splitlines()[-1].startswith("params: ")
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]  # no temporary file left


def test_output_into_missing_directory_is_a_tool_error(tmp_path: Path) -> None:
    proc = zenpolicy("check", "inventory", "--output", tmp_path / "nope" / "r.json")
    assert proc.returncode == 3
    assert (
        proc.stderr == f"zenpolicy: error: cannot write {tmp_path / 'nope' / 'r.json'}: "
        f"directory {tmp_path / 'nope'} does not exist\n"
    )


def test_opa_token_is_never_echoed(tmp_path: Path) -> None:
    secret = "s3cr3t-T0KEN-value"
    runs = [
        zenpolicy("check", "inventory", "--engine", "opa", "--opa-url", "http://127.0.0.1:9",
                  "--opa-timeout", "1", "--opa-token", secret),
        zenpolicy("check", "inventory", "--engine", "opa", "--opa-url", "http://127.0.0.1:9",
                  "--opa-timeout", "1", env={"ZENPOLICY_OPA_TOKEN": secret}),
        zenpolicy("check", "--help", env={"ZENPOLICY_OPA_TOKEN": secret}),
    ]  # fmt: skip
    for proc in runs:
        assert secret not in proc.stdout + proc.stderr
    # Nothing listens on port 9: the OPA engine cannot run, in one line.
    for proc in runs[:2]:
        assert proc.returncode == 3
        assert proc.stderr.startswith("zenpolicy: error: ") and proc.stderr.count("\n") == 1


def test_timings_go_to_standard_error_and_change_nothing_else() -> None:
    plain = zenpolicy("check", "inventory", "--no-cache")
    timed = zenpolicy("check", "inventory", "--no-cache", env={"ZENPOLICY_TIMINGS": "1"})
    assert (timed.returncode, timed.stdout) == (plain.returncode, plain.stdout) == (1, plain.stdout)
    stages = [line.split()[2] for line in timed.stderr.splitlines()]
    assert stages == ["catalogue", "load", "validate", "build", "evaluate", "sort", "report"]
    for line in timed.stderr.splitlines():
        assert re.fullmatch(r"zenpolicy: timing: [a-z+]+ \d+\.\d{3} s", line), line


def test_terminal_controls_from_the_inventory_are_shown_escaped(tmp_path: Path) -> None:
    """A value that would retitle the terminal (OSC ... BEL), a C1 CSI and a right-to-left
    override, quoted by a failure's message, reach the text report as visible escapes
    (with colour: tests/test_formats_text.py)."""
    inv = tmp_path / "inv"
    inv.mkdir()
    (inv / "people.yaml").write_text(
        'person:\n  bob:\n    full_name: "B\\e]0;pwned\\ao\\x9bb\\u202e"\n    status: active\n',
        encoding="utf-8",
    )
    (inv / "zenpolicy.yaml").write_text("as_of: 2026-11-26\n", encoding="utf-8")
    rules = tmp_path / "rules"
    write_rule(rules, "T-NAME", message="{{ address }} is called {{ resource.full_name }}")
    plain = zenpolicy("check", inv, "--policies", rules, "--select", "T-NAME")
    assert plain.returncode == 1
    line = next(line for line in plain.stdout.splitlines() if "T-NAME" in line)
    assert line.endswith("person.bob is called B\\x1b]0;pwned\\x07o\\x9bb\\u202e")
    for raw in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert raw not in plain.stdout
