"""Exploring draws more examples than the gating suite (tests/budget.py): checked end
to end, through pytest's own profile option, and for every property test."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent

_COUNTING = """
from budget import examples
from hypothesis import given, settings, strategies as st

DRAWN = []

@settings(max_examples=examples(3), deadline=None)
@given(st.integers())
def test_counted(x):
    DRAWN.append(x)

def test_zz_report():
    print("DRAWN", len(DRAWN), "DERANDOMIZED", settings.default.derandomize)
"""


@pytest.mark.parametrize(
    ("profile", "drawn", "derandomized"),
    [(None, 3, True), ("explore", 60, False), ("soak", 300, False)],
)
def test_a_profile_scales_each_tests_own_number(
    tmp_path: Path, profile: str | None, drawn: int, derandomized: bool
) -> None:
    # A copy of tests/conftest.py beside the counting test: the profiles it registers,
    # and the gating one loaded, as for the real suite.
    (tmp_path / "conftest.py").write_text(
        (TESTS / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "test_counting.py").write_text(_COUNTING, encoding="utf-8")
    argv = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(tmp_path)]
    if profile is not None:
        argv.append(f"--hypothesis-profile={profile}")
    done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(TESTS)})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"DRAWN {drawn} DERANDOMIZED {derandomized}" in done.stdout


def test_every_property_test_names_its_number_through_the_budget() -> None:
    # A number given to `max_examples` outright would override the profile: exploring
    # would draw no more than the suite.
    outright = [
        f"{path.name}:{number}"
        for path in sorted(TESTS.glob("test_*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"max_examples=\d", line)
    ]
    assert outright == []
