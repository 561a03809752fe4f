"""`zenpolicy rules`, `rules show`, `rules params` and `zenpolicy test`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_cli_check import zenpolicy

from zenpolicy.inventory.yaml12 import parse_yaml
from zenpolicy.rules.loader import load_catalogue

ROOT = Path(__file__).parents[1]


def test_rules_lists_the_whole_catalogue() -> None:
    catalogue = load_catalogue()
    proc = zenpolicy("rules")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[-1] == f"{len(catalogue.rules)} rules"
    assert [line.split()[0] for line in lines[:-1]] == [r.id for r in catalogue.rules]
    rule = catalogue.get("AUTH-03a")
    assert rule is not None
    row = next(line for line in lines if line.startswith("AUTH-03a "))
    assert row.split(None, 3) == ["AUTH-03a", "high", "account", rule.title]


def test_rules_json() -> None:
    proc = zenpolicy("rules", "--format", "json")
    assert proc.returncode == 0
    rules = json.loads(proc.stdout)
    entry = next(r for r in rules if r["id"] == "AUTH-03a")
    assert entry["resource"] == "account"
    assert entry["params"] == ["password_rotation"]
    assert entry["source"] == "policies/authentication/AUTH-03a.yaml"
    assert entry["clause"]["ref"] == "III-G§1"
    assert entry["builtin"] is True


def test_rules_show_follows_the_template() -> None:
    proc = zenpolicy("rules", "show", "AUTH-03a")
    assert proc.returncode == 0
    text = proc.stdout
    sections = [line for line in text.splitlines() if line and not line.startswith(" ")][2:]
    assert sections == ["What it checks", "Why", "Failing example", "Fix", "Parameters"]
    assert text.startswith("AUTH-03a: Passwords are changed at least once a month\n")
    assert '  Applies to every account where:\n    all of:\n      - status == "active"\n' in text
    assert "  Requires:\n    age(password_changed_on) <= password_rotation\n" in text
    assert (
        "  III-G§1 (seeds/000_2c570de354c655da.txt):\n    « Renouvellement des mots de passe une fois par mois. »\n"
        in text
    )
    assert "  Frameworks: gdpr Art. 32; iso27001 A.5.17\n" in text
    assert "  subject: account.alice  (fails)\n" in text
    assert "      password_changed_on: '2026-10-25'\n" in text
    assert text.endswith("Parameters\n  password_rotation = 31d (duration): "
                         "Longest time a password may go unchanged (\"une fois par mois\").\n")  # fmt: skip


def test_every_rule_has_a_documentation_page() -> None:
    """The template renders for every condition form the catalogue uses."""
    from zenpolicy.ruledoc import render_rule

    catalogue = load_catalogue()
    for rule in catalogue.rules:
        text = render_rule(rule, catalogue.params)
        assert rule.clause.ref in text and "Requires:" in text, rule.id
        assert "(not defined)" not in text, rule.id


@pytest.mark.parametrize(
    ("rule_id", "stderr"),
    [
        ("auth-03a", "zenpolicy: error: unknown rule 'auth-03a' (did you mean AUTH-03a?)\n"),
        ("AUTH-3a", "zenpolicy: error: unknown rule 'AUTH-3a' (did you mean AUTH-03a?)\n"),
        ("ZZZ", "zenpolicy: error: unknown rule 'ZZZ' (see `zenpolicy rules`)\n"),
    ],
)
def test_rules_show_unknown_id(rule_id: str, stderr: str) -> None:
    proc = zenpolicy("rules", "show", rule_id)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", stderr)


def test_rules_params() -> None:
    catalogue = load_catalogue()
    proc = zenpolicy("rules", "params")
    assert proc.returncode == 0
    rows = {line.split()[0]: line.split(None, 4) for line in proc.stdout.splitlines()}
    assert sorted(rows) == sorted(catalogue.params)
    assert rows["password_rotation"][:4] == ["password_rotation", "31d", "duration", "III-G§1"]
    data = json.loads(zenpolicy("rules", "params", "--format", "json").stdout)
    assert data[0] == {
        "name": min(catalogue.params),
        "type": catalogue.params[min(catalogue.params)].type,
        "default": catalogue.params[min(catalogue.params)].default,
        "clause": catalogue.params[min(catalogue.params)].clause,
        "description": " ".join(catalogue.params[min(catalogue.params)].description.split()),
    }


def test_rules_with_custom_policies(tmp_path: Path) -> None:
    rule = (ROOT / "policies" / "authentication" / "AUTH-02.yaml").read_text(encoding="utf-8")
    (tmp_path / "X-02.yaml").write_text(rule.replace("id: AUTH-02", "id: X-02"), encoding="utf-8")
    listing = zenpolicy("rules", "--policies", tmp_path)
    assert any(line.startswith("X-02 ") for line in listing.stdout.splitlines())
    shown = zenpolicy("rules", "--policies", tmp_path, "show", "X-02")
    assert shown.returncode == 0
    assert f"{tmp_path.as_posix()}/X-02.yaml" in shown.stdout.splitlines()[1]


# ---- zenpolicy test ---------------------------------------------------------------------


def test_test_command_on_the_builtin_catalogue() -> None:
    proc = zenpolicy("test")
    n = sum(len(r.examples) for r in load_catalogue().rules)
    assert (proc.returncode, proc.stdout) == (0, f"{n} passed, 0 failed\n")


def test_test_command_reports_a_wrong_example(tmp_path: Path) -> None:
    rule = (ROOT / "policies" / "authentication" / "AUTH-03a.yaml").read_text(encoding="utf-8")
    # The first fail example declares a change 32 days old; call it a pass example.
    broken = rule.replace("id: AUTH-03a", "id: X-03").replace("  fail:\n", "  pass_:\n", 1)
    broken = broken.replace("  pass:\n", "  fail:\n", 1).replace("  pass_:\n", "  pass:\n", 1)
    (tmp_path / "X-03.yaml").write_text(broken, encoding="utf-8")
    proc = zenpolicy("test", tmp_path)
    assert proc.returncode == 1
    failures = proc.stdout.splitlines()[:-1]
    # Each failure points at its example in the rule file.
    _, positions = parse_yaml(broken)
    pass_line, pass_col = positions.get(("examples", "pass", 0)) or (0, 0)
    fail_line, fail_col = positions.get(("examples", "fail", 0)) or (0, 0)
    assert failures[0].startswith(
        f"{tmp_path.as_posix()}/X-03.yaml:{pass_line}:{pass_col}: X-03 pass[0]: expected pass, got fail"
    )
    assert failures[-1].startswith(
        f"{tmp_path.as_posix()}/X-03.yaml:{fail_line}:{fail_col}: X-03 fail[0]: expected fail, got pass"
    )
    assert proc.stdout.splitlines()[-1].endswith(f", {len(failures)} failed")


def test_test_command_names_an_examples_bad_parameter(tmp_path: Path) -> None:
    rule = (ROOT / "policies" / "authentication" / "AUTH-03a.yaml").read_text(encoding="utf-8")
    # An example's parameters are the example's, not a configuration file's.
    broken = rule.replace("id: AUTH-03a", "id: X-03").replace(
        '  pass:\n    - as_of: "2026-11-26"\n',
        '  pass:\n    - as_of: "2026-11-26"\n      params: {password_rotaton: 30d}\n',
        1,
    )
    assert broken.count("password_rotaton") == 1
    (tmp_path / "X-03.yaml").write_text(broken, encoding="utf-8")
    proc = zenpolicy("test", tmp_path)
    assert proc.returncode == 1
    _, positions = parse_yaml(broken)
    line, col = positions.get(("examples", "pass", 0)) or (0, 0)
    assert proc.stdout.splitlines()[0] == (
        f"{tmp_path.as_posix()}/X-03.yaml:{line}:{col}: X-03 pass[0]: "
        "unknown parameter 'password_rotaton' in the example (did you mean password_rotation?)"
    )


def test_test_command_invalid_rule_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("id: X-1\ntitle: no require\n", encoding="utf-8")
    proc = zenpolicy("test", tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith(f"{tmp_path.as_posix()}/bad.yaml:1:1: rule: ")
    assert proc.stderr.startswith("zenpolicy: error: ") and proc.stderr.endswith(" problem(s) in the rules\n")
