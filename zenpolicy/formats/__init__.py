"""Report formats: one module per format, one function each, listed in one dict.

A formatter turns a finished `Report` into text; it computes nothing the report does
not already say and never decides the exit code. Adding a format means adding a module
with a `stream` function and one line to `FORMATS` (no discovery magic).

A formatter yields the report as UTF-8 chunks, so that a large report goes to its file
(or standard output) as it is rendered instead of being held whole; `render` joins them
for callers that want the text.
"""

from __future__ import annotations

from collections.abc import Iterable
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
    jobs: int | None = 1
    """Processes to render in, where a format can share the work (None: the default;
    see `zenpolicy.parallel`). The bytes are the same whatever the number."""

    def key(self) -> dict[str, object]:
        """The options that change the bytes (what a cached rendering is keyed on)."""
        return {"verbose": self.verbose, "color": self.color}


class Formatter(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> Iterable[bytes]:
        """The report as UTF-8 chunks, in order; split only between characters."""
        ...


FORMATS: dict[str, Formatter] = {
    "text": text.stream,
    "json": json.stream,
}
"""Format name (the `--format` value) -> formatter."""


def render(name: str, report: Report, options: RenderOptions) -> str:
    """The whole report in format `name`, as one string."""
    return b"".join(FORMATS[name](report, options)).decode("utf-8")


__all__ = ["FORMATS", "Formatter", "RenderOptions", "render"]
