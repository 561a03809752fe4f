"""The layering of zenpolicy's packages, as pyproject.toml's import-linter contracts
declare it: each layer imports only those below it (the finding model and the process
helpers at the bottom; the inventory language; the rule language; the engines; the
report formats beside them, knowing only the finding model; the commands on top)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CONTRACTS = [
    "The base modules (finding model, options, errors, processes, output) import nothing above them",
    "The inventory language knows nothing of rules, engines or reports",
    "Report formats render the finding model alone",
    "The rule language does not depend on the engines that evaluate it",
    "Engines produce findings, not reports or command lines",
]


def test_every_layering_contract_is_kept() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--config", "pyproject.toml", "--no-cache"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    out = " ".join(done.stdout.split())  # the report wraps long names
    assert done.returncode == 0, done.stdout + done.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in out
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in out
    # The one exception declared (a rule's examples run through the native engine) is
    # the only import let through.
    assert out.count("ignored import") == 1
