"""The one place the stages meet: load -> validate -> build -> evaluate -> Report.

The CLI is a thin adapter over these functions; tests and other front ends call them
directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from zenpolicy.model import Report, Tally
from zenpolicy.options import CheckOptions, OpaOptions

if TYPE_CHECKING:
    from zenpolicy.formats import RenderOptions

__all__ = ["CheckOptions", "OpaOptions", "run_check", "run_check_rendered"]


def run_check_rendered(
    options: CheckOptions, format_: str, render: RenderOptions
) -> tuple[Report, Tally, Iterable[bytes]]:
    """Validate the inventory, evaluate the catalogue, and render the report in
    `format_`: the report (holding only the findings the format lists, none when they
    were rendered by the processes that evaluated them: use `run_check` for them all),
    the tally of every finding, and the chunks, to be consumed once. The bytes are those
    of `FORMATS[format_](run_check(options), render)`.

    Raises as `run_check`.
    """
    from zenpolicy.check import run_rendered

    return run_rendered(options, format_, render)


def run_check(options: CheckOptions) -> Report:
    """Validate the inventory, evaluate the catalogue, and return the report.

    Raises `InputError` (invalid inventory or rules), `UsageError`, `EngineError`.
    """
    from zenpolicy.check import run

    return run(options)
