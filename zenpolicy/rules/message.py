"""Message templates: Jinja2 expressions rendered in its sandbox.

Templates come from rule files, custom ones included, so they must not reach Python
internals: the sandbox refuses attribute access to private and unsafe members, and an
undefined value renders as `(none)` instead of raising.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Template
from jinja2.sandbox import ImmutableSandboxedEnvironment

from zenpolicy.model import Check


class _Shown(ChainableUndefined):
    """An absent value in a message reads `(none)`, however deep the path into it
    (`resource.password_hashing.algorithm` when there is no `password_hashing`)."""

    def __str__(self) -> str:
        return "(none)"


_ENV = ImmutableSandboxedEnvironment(undefined=_Shown, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=1024)
def compile_template(text: str) -> Template:
    return _ENV.from_string(text)


def render_message(
    template: str,
    *,
    address: str,
    attrs: Mapping[str, Any],
    params: Mapping[str, Any],
    evidence: Sequence[Check],
) -> str:
    """Render a failing finding's message; `params` are the values as written (31d)."""
    text = compile_template(template).render(
        address=address,
        resource=attrs,
        params=params,
        evidence=[c.to_dict() for c in evidence],
    )
    return " ".join(text.split())
