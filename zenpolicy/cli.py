"""The command line: parse options, call the API, render, choose the exit code.

Exit codes: 0 nothing failing at or above the threshold; 1 failing findings;
2 invalid input or usage; 3 the tool could not run (including error findings).
The tool's own failures are caught here, and only here, and printed as one line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from zenpolicy import __version__, cli_catalogue, cli_check, cli_opa, exiting
from zenpolicy.cli_catalogue import policies_option
from zenpolicy.cli_check import EXIT_CODES_HELP, SECRETS_KEY, jobs_option
from zenpolicy.errors import EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, EXIT_TOOL, InputError, ZenpolicyError
from zenpolicy.inventory import load_inventory

__all__ = ["EXIT_CODES_HELP", "cli", "main"]


def debug_enabled() -> bool:
    return os.environ.get("ZENPOLICY_DEBUG", "") not in ("", "0")


def fail(ctx: click.Context, message: str, code: int) -> None:
    """The one way the tool reports its own failure: one line on stderr, then exit."""
    for secret in ctx.meta.get(SECRETS_KEY, ()):
        message = message.replace(secret, "***")
    click.echo(f"zenpolicy: error: {message}", err=True)
    ctx.exit(code)


class Group(click.Group):
    """Catches the tool's own failures for every subcommand, so none prints a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            # Not click's "Aborted!" with exit 1, which means failing findings here: an
            # interrupted run proved nothing. 130 = 128 + SIGINT, as shells report it.
            click.echo("zenpolicy: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader went away (`zenpolicy check | head`): nothing more to say to it,
            # and Python must not complain when it flushes stdout at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_TOOL)
        except InputError as exc:
            print_problems(exc)
            fail(ctx, str(exc), exc.exit_code)
        except ZenpolicyError as exc:
            fail(ctx, str(exc), exc.exit_code)
        except Exception as exc:
            if debug_enabled():
                raise
            fail(
                ctx,
                f"unexpected {type(exc).__name__}: {exc} (set ZENPOLICY_DEBUG=1 for the traceback)",
                EXIT_TOOL,
            )
        return None


@click.group(cls=Group, epilog=EXIT_CODES_HELP)
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
@policies_option("A directory of custom rules whose parameters the configuration may set (repeatable).")
@jobs_option
def validate(path: Path, policies: tuple[Path, ...], jobs: int | None) -> None:
    """Validate the inventory at PATH (a directory of YAML files, or one file),
    and the parameters its configuration sets against the rule catalogue."""
    from zenpolicy.rules.loader import load_catalogue
    from zenpolicy.rules.params import config_problems

    try:
        loaded = load_inventory(path, jobs=jobs)
        # The configuration's parameters, as `check` judges them: by the catalogue's
        # declarations (loaded only when there is something to judge).
        if loaded.config.params and (
            problems := config_problems(load_catalogue(policies).params, loaded.config, path)
        ):
            raise InputError(problems)
    except InputError as exc:
        print_problems(exc)
        sys.exit(EXIT_INVALID)
    exiting.keep(loaded)
    inv = loaded.inventory
    kinds = len(inv.by_kind)
    click.echo(f"{path}: valid, {len(inv)} resources of {kinds} kinds in {len(loaded.inputs)} files.")
    sys.exit(EXIT_OK)


def main() -> None:
    """The `zenpolicy` program: the process ends with the command (`exiting`)."""
    exiting.end_with_command()
    try:
        cli.main(prog_name="zenpolicy")
    except SystemExit as done:
        exiting.leave(done)


# Commands in their own modules, registered explicitly (no discovery magic).
cli_check.register(cli)
cli_catalogue.register(cli)
cli_opa.register(cli)
