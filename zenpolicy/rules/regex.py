"""Regular expressions for `matches`: RE2, the engine behind OPA's `regex.match`.

Python's `re` differs from RE2 in ways rules would notice (Unicode `\\d` and `\\S`,
`$` before a final newline, look-around and backreferences that RE2 refuses), so
the native engine uses RE2 itself, through google-re2: both engines then accept the
same patterns and match the same strings.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print parse errors to stderr; we report them


class RegexError(ValueError):
    """A pattern RE2 does not accept."""


@lru_cache(maxsize=1024)
def regex(pattern: Any) -> Any:
    """The compiled RE2 pattern; raises RegexError for a pattern RE2 refuses."""
    if not isinstance(pattern, str):
        raise RegexError(f"a pattern must be a string, not {pattern!r}")
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        message = exc.args[0] if exc.args else str(exc)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RegexError(str(message)) from None
