"""bench/compare.py: two revisions measured in interleaved rounds, their reports compared."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import generated_estate

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import compare  # noqa: E402 - from bench/, put on the path above
import run  # noqa: E402 - compare's own imports come from there

needs_git = pytest.mark.skipif(not (REPO / ".git").exists(), reason="revisions come from the git repository")


def test_paired_figures() -> None:
    assert compare.paired([1.0, 2.0, 4.0], [1.5, 1.0, 3.0]) == {
        "a": 2.0,
        "b": 1.5,
        "difference": -1.0,
        "b_lower": 2,
    }


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_estate(tmp_path_factory.mktemp("estate"), 200, 2, 1)


@needs_git
def test_a_revision_against_itself(estate: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compare.json"
    argv = ["HEAD", "HEAD", "--estate", str(estate), "--runs", "2", "--jobs", "1", "--format", "text"]
    assert compare.main([*argv, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["same_report"] is True
    assert result["runs"] == 2 and result["format"] == "text" and result["jobs"] == 1
    assert result["revisions"]["a"] == result["revisions"]["b"]
    # zenpolicy's own stages, as well as the wall time and memory, for both.
    assert {"wall", "peak_mb", "catalogue", "load", "validate", "build", "evaluate"} <= set(result["figures"])
    assert all(f["a"] > 0 and f["b"] > 0 for name, f in result["figures"].items() if name == "wall")
    printed = capsys.readouterr().out
    assert "same report: yes" in printed
    assert "| wall |" in printed


@needs_git
def test_reports_that_differ_are_said_to(
    estate: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = compare.measure

    def measure(source: Path, *args: Any) -> tuple[dict[str, float], bytes]:
        figures, report = real(source, *args)
        return figures, report + (b"!" if source.name == "b" else b"")

    monkeypatch.setattr(compare, "measure", measure)
    argv = ["HEAD", "HEAD", "--estate", str(estate), "--runs", "1", "--jobs", "1"]
    assert compare.main(argv) == 1
    assert "same report: NO: the revisions report differently" in capsys.readouterr().out


@needs_git
def test_an_unknown_revision_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        compare.main(["HEAD", "no-such-revision-here", "--runs", "1"])
    assert exit_info.value.code == 2
    assert "'no-such-revision-here' is not a revision of this repository" in capsys.readouterr().err


@needs_git
def test_a_selection_is_checked_by_both(
    estate: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argvs: list[list[str]] = []
    real = run.run_child

    def run_child(argv: list[str], *args: Any, **kwargs: Any) -> Any:
        argvs.append(argv)
        return real(argv, *args, **kwargs)

    monkeypatch.setattr(compare, "run_child", run_child)
    argv = ["HEAD", "HEAD", "--estate", str(estate), "--runs", "1", "--jobs", "1", "--select", "checkov"]
    assert compare.main(argv) == 0
    checks = [a for a in argvs if "check" in a]
    assert len(checks) == 2
    assert all(a[a.index("--select") + 1] == run.CHECKOV_RULES for a in checks)
    assert f"--select {run.CHECKOV_RULES}, 1 rounds" in capsys.readouterr().out
