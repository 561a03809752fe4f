"""`zenpolicy rego` and `zenpolicy bundle`: the catalogue compiled for OPA (docs/opa.md).

    zenpolicy rego --output DIR [--policies DIR] [--rego FILE]
    zenpolicy bundle --output bundle.tar.gz [--policies DIR] [--rego FILE]

Both compile the built-in rules plus the custom ones of --policies; --rego adds user
modules (packages under zenpolicy.custom) so that a bundle can carry them to servers
that the OPA engine then queries with --opa-use-bundle.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from zenpolicy.errors import UsageError

if TYPE_CHECKING:  # imported by the commands that use them: not on every start-up
    from zenpolicy.rules.loader import Catalogue
    from zenpolicy.rules.rego import RegoModule
    from zenpolicy.rules.rego_custom import CustomModule

_policies_option = click.option(
    "--policies",
    multiple=True,
    metavar="DIR",
    type=click.Path(path_type=Path, file_okay=False),
    help="A directory of custom rules, added to the built-in ones (repeatable).",
)
_rego_option = click.option(
    "--rego",
    multiple=True,
    metavar="FILE",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="A user Rego module (package zenpolicy.custom.NAME) to include (repeatable).",
)


def compiled(
    policies: tuple[Path, ...], rego: tuple[Path, ...]
) -> tuple[Catalogue, list[RegoModule], list[CustomModule]]:
    from zenpolicy.rules.loader import load_catalogue
    from zenpolicy.rules.rego import compile_catalogue
    from zenpolicy.rules.rego_custom import load_custom_modules

    catalogue = load_catalogue(policies)
    modules = list(compile_catalogue(catalogue.rules))
    custom = list(load_custom_modules(rego, [rule.id for rule in catalogue.rules]))
    return catalogue, modules, custom


def register(group: click.Group) -> None:
    epilog = group.epilog

    @group.command(epilog=epilog)
    @click.option(
        "--output",
        "-o",
        required=True,
        metavar="DIR",
        type=click.Path(path_type=Path, file_okay=False),
        help="Directory to write the .rego files to (created if needed).",
    )
    @_policies_option
    @_rego_option
    def rego(output: Path, policies: tuple[Path, ...], rego: tuple[Path, ...]) -> None:
        """Compile the rule catalogue to Rego v1, one package per rule.

        Writes DIR/zenpolicy/lib.rego, DIR/zenpolicy/findings.rego (the aggregate,
        data.zenpolicy.findings) and DIR/zenpolicy/rules/<id>.rego. Other .rego files
        under DIR/zenpolicy are removed: that subtree is zenpolicy's, and a rule removed
        from the catalogue must not keep reporting.
        """
        catalogue, modules, custom = compiled(policies, rego)
        files = {m.path: m.source for m in modules} | {f"{c.policy_id}.rego": c.source for c in custom}
        try:
            output.mkdir(parents=True, exist_ok=True)
            own = output / "zenpolicy"
            for stale in sorted(own.rglob("*.rego")) if own.is_dir() else []:
                if stale.relative_to(output).as_posix() not in files:
                    stale.unlink()
            for path, source in files.items():
                target = output / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(source, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write to {output}: {exc.strerror or exc}") from None
        click.echo(f"{output}: {len(catalogue.rules)} rules compiled to Rego ({len(files)} modules).")

    @group.command(epilog=epilog)
    @click.option(
        "--output",
        "-o",
        required=True,
        metavar="FILE",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The bundle to write (bundle.tar.gz).",
    )
    @_policies_option
    @_rego_option
    def bundle(output: Path, policies: tuple[Path, ...], rego: tuple[Path, ...]) -> None:
        """Build an OPA bundle of the compiled catalogue (roots: zenpolicy).

        The bundle holds the Rego modules, data.json with every parameter's default
        (typed: durations in seconds) and a .manifest whose revision is the sha256 of
        the content. Serve it to `opa run --server --bundle`, or from a bundle service.
        """
        catalogue, modules, custom = compiled(policies, rego)
        from zenpolicy.bundle import build_bundle, write_bytes_atomic
        from zenpolicy.rules.params import resolve_params

        defaults = resolve_params(catalogue.params, {}, {}).values
        data, revision = build_bundle(modules, defaults, custom)
        write_bytes_atomic(output, data)
        click.echo(f"{output}: {len(catalogue.rules)} rules, revision {revision[:12]}.")
