"""`zenpolicy check`: options -> CheckOptions -> the report delivered -> an exit code.

Nothing is decided here that the library could decide; this module only translates the
command line, picks the output (stdout or an atomic file, colour or not) and the exit code.
The report is delivered by zenpolicy/cli_report.py: from the result cache when nothing
changed, else by `run_check` and a formatter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from zenpolicy.api import CheckOptions, OpaOptions
from zenpolicy.cli_catalogue import policies_option
from zenpolicy.cli_report import deliver, exit_code
from zenpolicy.errors import UsageError
from zenpolicy.formats import FORMATS, RenderOptions
from zenpolicy.model import Severity

EXIT_CODES_HELP = """\b
Exit codes:
  0  no failing finding at or above --fail-on
  1  failing findings
  2  invalid input or usage
  3  the tool could not run (including error findings)
  130 interrupted (Ctrl-C)"""

SECRETS_KEY = "zenpolicy.secrets"
"""ctx.meta key of values never to print (the OPA token), scrubbed from error lines."""

SEVERITIES = [str(s) for s in sorted(Severity, reverse=True)]
OPA_ONLY = (
    "opa_url",
    "opa_token",
    "opa_ca_file",
    "opa_client_cert",
    "opa_client_key",
    "opa_insecure",
    "opa_timeout",
    "opa_use_bundle",
    "rego",
)


jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    metavar="N",
    help="Processes to share the work among (1: this one only); the output is the same "
    "for any N.  [default: ZENPOLICY_JOBS, else the usable CPUs (affinity, and a container's CPU "
    "limit), at most 4]",
)


def split_patterns(values: tuple[str, ...]) -> tuple[str, ...]:
    """`--select A --select B,C*` -> (A, B, C*)."""
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def parse_params(items: tuple[str, ...]) -> dict[str, str]:
    """`--param name=value` (repeatable) -> {name: value}; typed later, against the
    catalogue's declarations (`rules.params`, not imported here: a run the result
    cache answers needs none of the rule language)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--param expects name=value, not {item!r}")
        out[name.strip()] = value.strip()
    return out


def use_color(stream: Any) -> bool:
    """Colour only for a person at a terminal, and never when NO_COLOR is set (no-color.org)."""
    if "NO_COLOR" in os.environ:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def opa_options(ctx: click.Context, engine: str, kw: dict[str, Any]) -> OpaOptions | None:
    if engine != "opa":
        given = [n for n in OPA_ONLY if ctx.get_parameter_source(n) is ParameterSource.COMMANDLINE]
        if given:
            flags = ", ".join("--" + n.replace("_", "-") for n in given)
            raise UsageError(f"{flags} need{'s' if len(given) == 1 else ''} --engine opa")
        return None
    if not kw["opa_url"]:
        raise UsageError("--engine opa needs --opa-url URL (or ZENPOLICY_OPA_URL)")
    if kw["opa_token"]:
        ctx.meta.setdefault(SECRETS_KEY, set()).add(kw["opa_token"])
    if kw["opa_insecure"]:
        # Said on every run, not only in --help: an unverified server can forge a clean report.
        click.echo(
            "zenpolicy: warning: --opa-insecure: the OPA server's certificate is not verified", err=True
        )
    return OpaOptions(
        url=kw["opa_url"],
        token=kw["opa_token"] or None,
        ca_file=_opt_str(kw["opa_ca_file"]),
        client_cert=_opt_str(kw["opa_client_cert"]),
        client_key=_opt_str(kw["opa_client_key"]),
        insecure=kw["opa_insecure"],
        timeout=kw["opa_timeout"],
        use_bundle=kw["opa_use_bundle"],
    )


def _opt_str(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _extra(kw: dict[str, Any]) -> dict[str, Any]:
    """Engine switches without a field of their own; absent means off."""
    extra: dict[str, Any] = {}
    if kw["no_cache"]:
        extra["no_cache"] = True
    if kw["timestamp"]:
        extra["generated_at"] = True
    return extra


_FILE = click.Path(path_type=Path, exists=True, dir_okay=False)


@click.command(epilog=EXIT_CODES_HELP)
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--as-of",
    metavar="DATE",
    help="Evaluation date (YYYY-MM-DD or RFC 3339 date-time).  "
    "[default: the configuration's as_of, else today in UTC]",
)
@policies_option("A directory of custom rules, added to the built-in ones (repeatable).")
@click.option(
    "--select",
    multiple=True,
    metavar="IDS",
    help="Only these rules: IDs or globs (AUTH-*), comma-separated, repeatable.",
)
@click.option("--skip", multiple=True, metavar="IDS", help="Not these rules: IDs or globs, as --select.")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="info",
    show_default=True,
    help="Lowest severity of a failing finding that makes the exit code 1 (info: any failure).",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME=VALUE",
    help="Override a rule parameter (repeatable); see `zenpolicy rules params`.",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(list(FORMATS)),
    default="text",
    show_default=True,
    help="text for a person at a terminal; json for programs (schemas/report.schema.json).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="Write the report to FILE (atomically) instead of standard output.",
)
@click.option("--verbose", "-v", is_flag=True, help="List passing and not-applicable findings too.")
@click.option(
    "--timestamp",
    is_flag=True,
    help="Add generated_at to the report (then reruns are no longer byte-identical).",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@jobs_option
@click.option(
    "--engine",
    type=click.Choice(["native", "opa"]),
    default="native",
    show_default=True,
    help="Evaluate in-process, or on an OPA server (the rules compiled to Rego).",
)
@click.option(
    "--opa-url", envvar="ZENPOLICY_OPA_URL", metavar="URL", help="OPA server URL (or ZENPOLICY_OPA_URL)."
)
@click.option(
    "--opa-token",
    envvar="ZENPOLICY_OPA_TOKEN",
    metavar="TOKEN",
    help="Bearer token for OPA (or ZENPOLICY_OPA_TOKEN); never printed.",
)
@click.option("--opa-ca-file", type=_FILE, metavar="FILE", help="CA bundle to verify the OPA server.")
@click.option("--opa-client-cert", type=_FILE, metavar="FILE", help="Client certificate (mutual TLS).")
@click.option("--opa-client-key", type=_FILE, metavar="FILE", help="Client private key (mutual TLS).")
@click.option("--opa-insecure", is_flag=True, help="Do not verify the OPA server's certificate.")
@click.option(
    "--opa-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="Timeout of each OPA request.",
)
@click.option("--opa-use-bundle", is_flag=True, help="Use the policies the OPA server already holds.")
@click.option(
    "--rego",
    multiple=True,
    type=_FILE,
    metavar="FILE",
    help="A user Rego module with deny rules, for --engine opa (repeatable).",
)
@click.pass_context
def check(ctx: click.Context, /, path: Path, **kw: Any) -> None:
    """Check the inventory at PATH against the rule catalogue.

    Invalid inventory or rule files are listed as for `validate`, and nothing is
    checked (exit 2).
    """
    options = CheckOptions(
        path=path,
        as_of=kw["as_of"],
        policies=tuple(kw["policies"]),
        select=split_patterns(kw["select"]),
        skip=split_patterns(kw["skip"]),
        params=parse_params(kw["params"]),
        engine=kw["engine"],
        opa=opa_options(ctx, kw["engine"], kw),
        rego_modules=tuple(kw["rego"]),
        jobs=kw["jobs"],
        extra=_extra(kw),
    )
    output: Path | None = kw["output"]
    format_: str = kw["format_"]
    color = output is None and format_ == "text" and use_color(sys.stdout)
    render = RenderOptions(verbose=kw["verbose"], color=color, jobs=kw["jobs"])
    facts = deliver(options, format_=format_, render=render, output=output)
    if output is not None:
        click.echo(f"{output}: {facts['summary']}", err=True)
    ctx.exit(exit_code(facts, Severity.parse(kw["fail_on"])))


def register(cli: click.Group) -> None:
    cli.add_command(check)
