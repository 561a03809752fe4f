"""Message templates: Jinja2 expressions rendered in its sandbox.

Templates come from rule files, custom ones included, so they must not reach Python
internals: the sandbox refuses attribute access to private and unsafe members, and an
undefined value renders as `(none)` instead of raising.

Most templates are text with `{{ resource.a.b }}`-style substitutions. Those are
rendered without Jinja2 (`Plan`), by the same lookups the sandbox makes on plain JSON
values; anything else (filters, expressions, a name that is also a method of the value
it is looked up on) takes Jinja2. Jinja2 itself is imported on first use only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from zenpolicy.model import Check

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment


@cache
def _env() -> ImmutableSandboxedEnvironment:
    from jinja2 import ChainableUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Shown(ChainableUndefined):
        """An absent value in a message reads `(none)`, however deep the path into it
        (`resource.password_hashing.algorithm` when there is no `password_hashing`)."""

        def __str__(self) -> str:
            return UNDEFINED_TEXT

    return ImmutableSandboxedEnvironment(undefined=_Shown, autoescape=False, keep_trailing_newline=False)


UNDEFINED_TEXT = "(none)"


@lru_cache(maxsize=1024)
def compile_template(text: str) -> Template:
    return _env().from_string(text)


# ---- the plain-substitution fast path ----------------------------------------------------

_ROOTS = ("address", "resource", "params", "evidence")
_DICT_ATTRIBUTES = frozenset(dir(dict))
"""A name among these (`items`, `keys`...) is the dict's method for Jinja2, not its key."""
_SCALARS = frozenset({str, int, float, bool, type(None), list})
"""Values on which a name that is not one of their attributes is undefined for Jinja2
(`getattr` fails, then `value[name]` raises TypeError or KeyError)."""
_UNDEFINED: Any = object()
_JINJA: Any = object()
"""`_lookup`'s answer when only Jinja2 can say what the template renders."""

# A piece is literal text, or (root name, list index or None, attribute names).
Piece = str | tuple[str, int | None, tuple[str, ...]]


_PLANS: dict[str, tuple[Piece, ...] | None] = {}


def remember_plans(plans: Mapping[str, tuple[Piece, ...] | None]) -> None:
    """Plans made by `plan` in an earlier run (stored with the catalogue, see
    rules/stored.py): no need to import Jinja2 to read them again."""
    _PLANS.update(plans)


def plan(text: str) -> tuple[Piece, ...] | None:
    """The template as literal text and plain lookups, or None when only Jinja2 can
    render it. Read from Jinja2's own parse, so the literal text is exactly its own,
    unless `_simple_plan` can tell what that parse gives without Jinja2."""
    if text not in _PLANS:
        simple = _simple_plan(text)
        _PLANS[text] = _plan(text) if simple is _JINJA else simple
    return _PLANS[text]


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_SIMPLE_TAG = re.compile(
    r"\{\{ *(address|resource|params|evidence)(?:\[(0|[1-9][0-9]{0,5})\])?((?:\." + _NAME + r")*) *\}\}"
)


def _simple_plan(text: str) -> Any:
    """`_plan(text)` for the templates almost every rule has (text, and `{{ root.a.b }}`
    or `{{ evidence[0].actual }}` tags spaced by blanks), or `_JINJA` when not sure.

    Importing Jinja2 and parsing with it cost about 45 ms of a run whose catalogue is
    not stored (a CI job in a fresh container, `--no-cache`): a fifth of loading the
    rules. Anything Jinja2 might read otherwise is left to it: any other
    brace in the text (statements, comments, raw blocks, whitespace control, a third
    brace), a carriage return or a final newline (its lexer rewrites both), a name
    `_plan` refuses. tests/test_message.py checks the two agree on generated templates."""
    if "\r" in text or text.endswith("\n"):
        return _JINJA
    pieces: list[Piece] = []
    start = 0
    for tag in _SIMPLE_TAG.finditer(text):
        literal = text[start : tag.start()]
        if "{" in literal or "}" in literal:
            return _JINJA
        if literal:
            pieces.append(literal)
        root, index, dotted = tag.groups()
        names = tuple(dotted.split(".")[1:])
        if any(name.startswith("_") or name in _DICT_ATTRIBUTES for name in names):
            return _JINJA
        if index is not None and root != "evidence":
            return _JINJA
        pieces.append((root, None if index is None else int(index), names))
        start = tag.end()
    rest = text[start:]
    if "{" in rest or "}" in rest:
        return _JINJA
    if rest:
        pieces.append(rest)
    return tuple(pieces)


def _plan(text: str) -> tuple[Piece, ...] | None:
    from jinja2 import nodes

    try:
        tree = _env().parse(text)
    except Exception:  # a syntax error: Jinja2 raises it when rendering
        return None
    if not tree.body:
        return ()
    if len(tree.body) != 1 or not isinstance(tree.body[0], nodes.Output):
        return None
    pieces: list[Piece] = []
    for node in tree.body[0].nodes:
        if isinstance(node, nodes.TemplateData):
            pieces.append(node.data)
            continue
        names: list[str] = []
        while isinstance(node, nodes.Getattr):
            if node.attr.startswith("_") or node.attr in _DICT_ATTRIBUTES:
                return None
            names.append(node.attr)
            node = node.node
        index: int | None = None
        if isinstance(node, nodes.Getitem):
            arg = node.arg
            if not (isinstance(arg, nodes.Const) and type(arg.value) is int and arg.value >= 0):
                return None
            index, node = arg.value, node.node
        if not isinstance(node, nodes.Name) or node.name not in _ROOTS:
            return None
        if index is not None and node.name != "evidence":
            return None
        pieces.append((node.name, index, tuple(reversed(names))))
    return tuple(pieces)


def _lookup(value: Any, names: tuple[str, ...]) -> Any:
    """`value.a.b` as the sandbox reads it, or `_UNDEFINED`, or `_JINJA`."""
    for name in names:
        if value is _UNDEFINED:
            return _UNDEFINED  # chainable: undefined however deep
        if type(value) is dict:
            value = value.get(name, _UNDEFINED)
        elif type(value) in _SCALARS and not hasattr(value, name):
            value = _UNDEFINED
        else:
            return _JINJA
    return value


def render_fast(
    pieces: tuple[Piece, ...],
    address: str,
    attrs: Mapping[str, Any],
    params: Mapping[str, Any],
    evidence: Sequence[Check],
) -> str | None:
    """The text Jinja2 would render for `pieces`, or None when only Jinja2 can say."""
    out: list[str] = []
    shown: list[dict[str, Any]] | None = None
    for piece in pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        root, index, names = piece
        value: Any
        if root == "address":
            value = address
        elif root == "resource":
            value = attrs
        elif root == "params":
            value = params
        else:
            if shown is None:
                shown = [c.to_dict() for c in evidence]
            value = shown
            if index is not None:
                value = shown[index] if index < len(shown) else _UNDEFINED
        if names:
            value = _lookup(value, names)
            if value is _JINJA:
                return None
        out.append(UNDEFINED_TEXT if value is _UNDEFINED else str(value))
    return "".join(out)


Getter = Callable[[str, Mapping[str, Any], Sequence[Check]], "str | None"]


def _getter(piece: Piece, params: Mapping[str, Any]) -> str | Getter | None:
    """A piece of a plan as a constant text (literal text, parameters: one run's
    constants), or a function of the subject giving its text, or None when only Jinja2
    can render it whatever the subject."""
    if isinstance(piece, str):
        return piece
    root, _, names = piece
    if root == "params":
        value = _lookup(params, names) if names else params
        if value is _JINJA:
            return None
        return UNDEFINED_TEXT if value is _UNDEFINED else str(value)
    if root == "address" and not names:
        return lambda address, attrs, evidence: address
    if root == "resource" and len(names) == 1:
        (name,) = names

        def attribute(address: str, attrs: Mapping[str, Any], evidence: Sequence[Check]) -> str | None:
            if type(attrs) is not dict:
                return None
            value = attrs.get(name, _UNDEFINED)
            return UNDEFINED_TEXT if value is _UNDEFINED else str(value)

        return attribute
    return lambda address, attrs, evidence: render_fast((piece,), address, attrs, params, evidence)


def squeezed(text: str) -> str:
    """`" ".join(text.split())`: each run of whitespace one space, none at either end.
    Most messages are so already, which is cheaper to see than to split and join again
    (21.5k failing messages at 100k): printable text holds no whitespace but the ASCII
    space (tabs, line breaks and Unicode's other spaces are not printable)."""
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def renderer(
    template: str, params: Mapping[str, Any]
) -> Callable[[str, Mapping[str, Any], Sequence[Check]], str]:
    """`render_message` for one template and one run's parameters: a function of the
    address, the attributes and the evidence. The plan's pieces are bound once:
    literal text and parameters become constants, lookups small functions."""
    pieces = plan(template)
    parts: list[str | Getter] | None = None
    if pieces is not None:
        parts = []
        for piece in pieces:
            part = _getter(piece, params)
            if part is None:
                parts = None
                break
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part  # adjacent constants: one
            else:
                parts.append(part)

    def render(address: str, attrs: Mapping[str, Any], evidence: Sequence[Check]) -> str:
        if parts is not None:
            out: list[str] = []
            for part in parts:
                text = part if isinstance(part, str) else part(address, attrs, evidence)
                if text is None:
                    break
                out.append(text)
            else:
                return squeezed("".join(out))
        text = compile_template(template).render(
            address=address,
            resource=attrs,
            params=params,
            evidence=[c.to_dict() for c in evidence],
        )
        return squeezed(text)

    return render


def render_message(
    template: str,
    *,
    address: str,
    attrs: Mapping[str, Any],
    params: Mapping[str, Any],
    evidence: Sequence[Check],
) -> str:
    """Render a failing finding's message; `params` are the values as written (31d)."""
    return renderer(template, params)(address, attrs, evidence)
