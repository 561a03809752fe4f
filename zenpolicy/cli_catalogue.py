"""Commands about the rule catalogue itself: `rules`, `coverage`, `test`.

Thin like the rest of the CLI: load, call the module that knows, print, exit. Failures
(a bad rule file, an unknown ID) raise from zenpolicy.errors and are printed by the
group in zenpolicy.cli.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from zenpolicy.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from zenpolicy.resources import policies_dir

if TYPE_CHECKING:  # the commands import what they use: not every start-up
    from zenpolicy.rules.loader import Catalogue

_DIR = click.Path(path_type=Path, file_okay=False)


def policies_option(
    help_text: str = "Add the custom rules of DIR (repeatable).",
) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """`--policies DIR` (repeatable), as every command that reads the catalogue takes it."""
    return click.option("--policies", multiple=True, metavar="DIR", type=_DIR, help=help_text)


def _format_option(f: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True
    )(f)


def _catalogue(ctx: click.Context, policies: tuple[Path, ...]) -> Catalogue:
    """The catalogue with the group's and the subcommand's --policies directories."""
    from zenpolicy.rules.loader import load_catalogue

    parent = ctx.parent.params.get("policies", ()) if ctx.parent else ()
    return load_catalogue(tuple(dict.fromkeys((*parent, *policies))))


def unknown_rule(rule_id: str, known: list[str]) -> UsageError:
    # Compare case-insensitively: `auth-03a` is a typo of AUTH-03a, not another rule.
    by_fold = {k.casefold(): k for k in known}
    close = [
        by_fold[c] for c in difflib.get_close_matches(rule_id.casefold(), list(by_fold), n=1, cutoff=0.6)
    ]
    hint = f" (did you mean {close[0]}?)" if close else " (see `zenpolicy rules`)"
    return UsageError(f"unknown rule {rule_id!r}{hint}")


def register(cli: click.Group) -> None:
    epilog = cli.epilog

    @cli.group(invoke_without_command=True, epilog=epilog)
    @policies_option()
    @_format_option
    @click.pass_context
    def rules(ctx: click.Context, policies: tuple[Path, ...], format_: str) -> None:
        """List the rule catalogue (ID, severity, resource, title)."""
        if ctx.invoked_subcommand is not None:
            return
        from zenpolicy.formats.json import dumps
        from zenpolicy.ruledoc import render_list, rule_summary
        from zenpolicy.rules.loader import load_catalogue

        catalogue = load_catalogue(policies)
        if format_ == "json":
            click.echo(dumps([rule_summary(r) for r in catalogue.rules]), nl=False)
        else:
            click.echo(render_list(catalogue.rules), nl=False)

    @rules.command(epilog=epilog)
    @click.argument("rule_id", metavar="ID")
    @policies_option()
    @click.pass_context
    def show(ctx: click.Context, rule_id: str, policies: tuple[Path, ...]) -> None:
        """Document one rule: what it checks, why, a failing example, the fix."""
        from zenpolicy.ruledoc import render_rule

        catalogue = _catalogue(ctx, policies)
        rule = catalogue.get(rule_id)
        if rule is None:
            raise unknown_rule(rule_id, [r.id for r in catalogue.rules])
        click.echo(render_rule(rule, catalogue.params), nl=False)

    @rules.command(epilog=epilog)
    @policies_option()
    @_format_option
    @click.pass_context
    def params(ctx: click.Context, policies: tuple[Path, ...], format_: str) -> None:
        """List the rule parameters: default, type, clause, meaning."""
        from zenpolicy.formats.json import dumps
        from zenpolicy.ruledoc import params_to_list, render_params

        catalogue = _catalogue(ctx, policies)
        if format_ == "json":
            click.echo(dumps(params_to_list(catalogue.params)), nl=False)
        else:
            click.echo(render_params(catalogue.params), nl=False)

    @cli.command(epilog=epilog, short_help="Show which rules cover each clause of the policy.")
    @policies_option()
    @click.option(
        "--clauses",
        type=click.Path(path_type=Path, dir_okay=False, exists=True),
        metavar="FILE",
        help="The clause list to cover.  [default: the built-in policies/clauses.yaml]",
    )
    @_format_option
    @click.pass_context
    def coverage(ctx: click.Context, policies: tuple[Path, ...], clauses: Path | None, format_: str) -> None:
        """Show which rules cover each clause of the policy; exit 1 if one is uncovered."""
        from zenpolicy.coverage import compute, load_clauses, render_text, to_dict
        from zenpolicy.formats.json import dumps
        from zenpolicy.rules.loader import load_catalogue

        entries = load_clauses(clauses or policies_dir() / "clauses.yaml")
        result = compute(entries, load_catalogue(policies).rules)
        click.echo(dumps(to_dict(result)) if format_ == "json" else render_text(result), nl=False)
        ctx.exit(EXIT_FINDINGS if result.uncovered else EXIT_OK)

    @cli.command("test", epilog=epilog, short_help="Run the rules' examples, built-in and custom.")
    @click.argument("dirs", nargs=-1, type=_DIR, metavar="[DIR]...")
    @click.option("--verbose", "-v", is_flag=True, help="List passing examples too.")
    @click.pass_context
    def test_cmd(ctx: click.Context, dirs: tuple[Path, ...], verbose: bool) -> None:
        """Run the examples of the built-in rules and of the custom rules in DIR...

        Each example is a miniature inventory whose subject must get the status of the
        list it is in (pass, fail, not_applicable).
        """
        from zenpolicy.rules.examples import run_examples
        from zenpolicy.rules.loader import load_catalogue

        catalogue = load_catalogue(dirs)
        results = run_examples(catalogue.rules, catalogue.params)
        for r in results:
            if not r.ok:
                click.echo(f"{r.location}: {r.rule_id} {r.kind}[{r.index}]: {r.detail}")
            elif verbose:
                click.echo(f"{r.location}: {r.rule_id} {r.kind}[{r.index}]: ok")
        failed = sum(not r.ok for r in results)
        click.echo(f"{len(results) - failed} passed, {failed} failed")
        ctx.exit(EXIT_FINDINGS if failed else EXIT_OK)
