"""The documentation's `--help` blocks and commands are the real ones."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
DOCS = [ROOT / "README.md", ROOT / "docs" / "cli.md"]
BLOCK = re.compile(r"```console\n\$ (zenpolicy[^\n]*--help)\n(.*?)```", re.DOTALL)


def help_blocks() -> list[tuple[str, str, str]]:
    return [
        (doc.name, m.group(1), m.group(2)) for doc in DOCS for m in BLOCK.finditer(doc.read_text("utf-8"))
    ]


def test_readme_has_the_check_help_block() -> None:
    assert ("README.md", "zenpolicy check --help") in [(doc, cmd) for doc, cmd, _ in help_blocks()]


@pytest.mark.parametrize(("doc", "command", "shown"), help_blocks())
def test_help_block_is_the_real_output(doc: str, command: str, shown: str) -> None:
    # click wraps help to the terminal width: pin the 80 columns the docs are written for.
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-m", "zenpolicy", *command.split()[1:]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    assert proc.stdout == shown, f"{doc}: `{command}` block is stale; paste the real output"


def test_exit_codes_epilog_is_in_every_command_help() -> None:
    from zenpolicy.cli import EXIT_CODES_HELP

    lines = [line.strip() for line in EXIT_CODES_HELP.splitlines()[1:]]
    for command in ([], ["check"], ["validate"], ["rules"], ["rules", "show"], ["coverage"], ["test"]):
        out = subprocess.run(
            [sys.executable, "-m", "zenpolicy", *command, "--help"],
            cwd=ROOT, capture_output=True, text=True, check=True, timeout=600,
        ).stdout  # fmt: skip
        assert [line.strip() for line in out.splitlines()[-len(lines) :]] == lines, command


def test_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    assert ci.startswith("python3 -m venv .venv && ")
    assert f"\n{ci}\n" in readme


def test_readme_first_command_checks_the_example_estate() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("## The two commands", 1)[1].split("```", 2)[1]
    first = next(line for line in block.splitlines() if line.startswith("python3 "))
    assert first.endswith(".venv/bin/zenpolicy check inventory/")
