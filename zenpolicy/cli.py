"""The command line: parse options, call the API, render, choose the exit code.

Exit codes: 0 nothing failing at or above the threshold; 1 failing findings;
2 invalid input or usage; 3 the tool could not run (including error findings).
The tool's own failures are caught here, and only here, and printed as one line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zenpolicy import __version__
from zenpolicy.errors import EXIT_INVALID, EXIT_OK, InputError, ZenpolicyError
from zenpolicy.inventory import load_inventory

EXIT_CODES_HELP = """\b
Exit codes:
  0  no failing finding at or above --fail-on
  1  failing findings
  2  invalid input or usage
  3  the tool could not run (including error findings)"""


@click.group(epilog=EXIT_CODES_HELP)
@click.version_option(__version__, prog_name="zenpolicy")
def cli() -> None:
    """Check an organisation's declared estate against its security policy."""


def print_problems(error: InputError) -> None:
    for problem in error.problems:
        click.echo(str(problem), err=False)
    n = len(error.problems)
    click.echo(f"{n} problem{'s' if n != 1 else ''} in the {error.what}; nothing was checked.")


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(path_type=Path))
def validate(path: Path) -> None:
    """Validate the inventory at PATH (a directory of YAML files, or one file)."""
    try:
        loaded = load_inventory(path)
    except InputError as exc:
        print_problems(exc)
        sys.exit(EXIT_INVALID)
    inv = loaded.inventory
    kinds = len(inv.by_kind)
    click.echo(
        f"{path}: valid, {len(inv)} resources of {kinds} kinds in {len(loaded.inputs)} files."
    )
    sys.exit(EXIT_OK)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except ZenpolicyError as exc:  # pragma: no cover - commands handle their own
        click.echo(f"zenpolicy: {exc}", err=True)
        sys.exit(exc.exit_code)
