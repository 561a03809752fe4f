"""The example estate's reports, byte for byte (tests/golden/).

The example inventory pins `as_of: 2026-11-26` in inventory/zenpolicy.yaml, so these
outputs depend only on the inventory, the catalogue and the formatters. When one of them
changes on purpose, regenerate the goldens and review the diff like code:

    ZENPOLICY_UPDATE_GOLDEN=1 python -m pytest tests/test_cli_golden.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_cli_check import zenpolicy
from test_formats_json import report_validator

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ZENPOLICY_UPDATE_GOLDEN", "") not in ("", "0")


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("example-check.json", ["check", "inventory/", "--format", "json"]),
        ("example-check.txt", ["check", "inventory/"]),
    ],
)
def test_example_estate_report(name: str, args: list[str]) -> None:
    proc = zenpolicy(*args)
    # The example estate holds deliberate violations, and nothing that errors.
    assert proc.returncode == 1, proc.stderr
    golden = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(proc.stdout, encoding="utf-8", newline="\n")
    assert golden.is_file(), f"missing {golden}: run with ZENPOLICY_UPDATE_GOLDEN=1"
    assert proc.stdout == golden.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended, regenerate with "
        "ZENPOLICY_UPDATE_GOLDEN=1 python -m pytest tests/test_cli_golden.py"
    )


def test_golden_json_is_schema_valid_and_consistent() -> None:
    doc = json.loads((GOLDEN / "example-check.json").read_text(encoding="utf-8"))
    report_validator().validate(doc)
    assert doc["as_of"] == "2026-11-26"
    assert "generated_at" not in doc
    statuses = [f["status"] for f in doc["findings"]]
    assert doc["counts"] == {s: statuses.count(s) for s in ("pass", "fail", "error", "not_applicable")}
    assert doc["counts"]["error"] == 0
    # Every failure of the JSON is a line of the text report, at the same location.
    text = (GOLDEN / "example-check.txt").read_text(encoding="utf-8")
    for f in doc["findings"]:
        if f["status"] == "fail":
            loc = f"{f['location']['path']}:{f['location']['line']}:{f['location']['column']}"
            assert any(line.strip().startswith(loc) and f["rule_id"] in line for line in text.splitlines())
