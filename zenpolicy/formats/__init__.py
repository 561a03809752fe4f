"""Report formats: one module per format, one function each, listed in one dict.

A formatter turns a finished `Report` into text; it computes nothing the report does
not already say and never decides the exit code. Adding a format means adding a module
with a `render` function and one line to `FORMATS` (no discovery magic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from zenpolicy.formats import json, text
from zenpolicy.model import Report


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderOptions:
    """How to render, as chosen on the command line."""

    verbose: bool = False
    """List passing and not-applicable findings too (text format; JSON always has all)."""
    color: bool = False
    """Use ANSI colours (decided by the CLI: a TTY and no `NO_COLOR`)."""


class Formatter(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


FORMATS: dict[str, Formatter] = {
    "text": text.render,
    "json": json.render,
}
"""Format name (the `--format` value) -> formatter."""

__all__ = ["FORMATS", "Formatter", "RenderOptions"]
