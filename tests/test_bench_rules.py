"""bench/rules.py: each rule's cost on an estate, with its subjects and failures counted
as `check` counts them."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
from engine_helpers import generated_estate

from zenpolicy.api import CheckOptions, run_check
from zenpolicy.model import Status

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import rules  # noqa: E402 - from bench/, put on the path above


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_estate(tmp_path_factory.mktemp("estate"), 300, 3, 2)


def test_each_rule_is_counted_as_check_counts_it(estate: Path) -> None:
    resources, rows = rules.profile(estate, runs=2)
    report = run_check(CheckOptions(path=estate, jobs=1))
    judged = Counter(f.rule_id for f in report.findings if f.status is not Status.NOT_APPLICABLE)
    failed = Counter(f.rule_id for f in report.findings if f.status is Status.FAIL)
    assert resources == 300
    assert sorted(str(r["rule"]) for r in rows) == sorted(r.id for r in report.rules)
    assert {str(r["rule"]): (r["subjects"], r["failed"]) for r in rows} == {
        r.id: (judged[r.id], failed[r.id]) for r in report.rules
    }
    assert [float(r["evaluate"]) for r in rows] == sorted((float(r["evaluate"]) for r in rows), reverse=True)


def test_the_table_lists_the_costliest_selected_rules(
    estate: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        rules.main([str(estate), "--runs", "1", "--top", "2", "--select", "AUTH-0*", "--select", "ACC-01"])
        == 0
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{estate}: 300 resources, ")
    assert "rules;" in out[0] and "medians of 1 rounds in one process" in out[0]
    selected = int(out[0].split(", ")[1].split()[0])
    assert selected == len(
        [r for r in run_check(CheckOptions(path=estate, jobs=1, select=("AUTH-0*", "ACC-01"))).rules]
    )
    assert out[3] == "| rule | evaluate ms | render ms | subjects | failing | us per subject |"
    listed = [line.split(" | ")[0].removeprefix("| ") for line in out[5:]]
    assert len(listed) == 2
    assert all(rule.startswith("AUTH-0") or rule == "ACC-01" for rule in listed)
