"""Conditions (zenpolicy.rules.ast) -> Rego expressions and helper functions.

Every condition compiles to Rego *expressions* that hold exactly when the condition is
true, inside a function whose arguments are the evaluation context of docs/rules.md
(the same four values the native engine's predicates take, zenpolicy/engines/compile.py):

    s  the current subject (a resource's attributes, a list item, a referenced resource)
    a  the subject's address `kind.name`, or null (list items have none)
    o  the subject one level up (`$outer`), or null at the rule's own level
    r  the rule's resource (`$root`), or null in `inventory` rules

`all` is a conjunction of lines, `any` a helper function with one body per branch (Rego's
disjunction), `not` is Rego's `not`. Every value read goes through `lib.get`, which
turns "absent" into null, and every test is false on null, so a test on a missing value
is false and its negation true, as the language's absence rule asks. Quantifiers and
relations become counting helpers, because the evidence wants the count ("the number of
items or targets that satisfied it") and the test is a comparison of that count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from zenpolicy.rules import ast

ARGS = "s, a, o, r"
"""The context every condition function takes (see the module docstring)."""

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIGITS = re.compile(r"[0-9]+\Z")

Leaf = (
    ast.Compare
    | ast.Exists
    | ast.Age
    | ast.Duration
    | ast.Every
    | ast.Some
    | ast.Follow
    | ast.Referrers
    | ast.ExistsKind
    | ast.CronMaxGap
)
Counted = ast.Every | ast.Some | ast.Follow | ast.Referrers | ast.ExistsKind


def rego_string(text: str) -> str:
    """A Rego string literal (Rego strings are JSON strings)."""
    return json.dumps(text, ensure_ascii=False)


def rego_term(value: object) -> str:
    """A JSON value as a Rego term: JSON scalars, arrays and objects are Rego terms."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def kind_ref(kind: str) -> str:
    """`input.resources.account`, bracketed when the kind is not an identifier."""
    return f"input.resources.{kind}" if _IDENT.match(kind) else f"input.resources[{rego_string(kind)}]"


def read(base: str, parts: tuple[str, ...] | list[str]) -> str:
    """The value at `parts` under `base`, null when absent.

    A part made of digits also indexes a list (`backups.0`), as the native engine's
    get_path does; object.get alone would not, so such paths walk step by step."""
    if not parts:
        return base
    if not any(_DIGITS.match(p) for p in parts):
        return f"lib.get({base}, {rego_term(list(parts))})"
    expr = base
    for part in parts:
        expr = f"lib.step({expr}, {rego_string(part)})"
    return expr


def leaves(cond: ast.Condition) -> list[Leaf]:
    """The leaf tests on the subject itself, in the order they appear: the evidence.
    Quantifiers and relations are leaves; what they nest is not."""
    if isinstance(cond, ast.All | ast.Any_):
        return [leaf for item in cond.items for leaf in leaves(item)]
    if isinstance(cond, ast.Not):
        return leaves(cond.item)
    return [cond]


class ConditionCompiler:
    """Compiles the conditions of one rule; collects the helper functions they need,
    each helper before the ones it calls, so the module reads top-down."""

    def __init__(self) -> None:
        self.helpers: list[str] = []
        self._counter = 0
        # Counting helpers by leaf, so that a leaf's test and its evidence share one.
        # Keyed by id(): leaves are values, and two equal leaves are still two tests.
        self._counted: dict[int, str] = {}
        self._kept: list[Leaf] = []  # keeps the ids above from being reused

    # ---- values ------------------------------------------------------------------

    def path(self, path: ast.Path) -> str:
        return read({"self": "s", "outer": "o", "root": "r"}[path.scope], path.parts)

    def value(self, value: ast.Value) -> str:
        if isinstance(value, ast.Literal):
            return rego_term(value.value)
        if isinstance(value, ast.Param):
            if value.unit is not None:
                return f"lib.param_in({rego_string(value.name)}, {ast.UNIT_SECONDS[value.unit]})"
            return f"lib.param({rego_string(value.name)})"
        return self.path(value.path)

    # ---- conditions as expressions -------------------------------------------------

    def define(
        self, name: str, cond: ast.Condition, args: str = ARGS, leaf: Callable[[Leaf], str] | None = None
    ) -> None:
        """`name(args)` holds exactly when `cond` does."""
        at = len(self.helpers)
        branches = cond.items if isinstance(cond, ast.Any_) else (cond,)
        bodies = []
        for branch in branches:
            lines = self.body(branch, args, leaf)
            head = signature(name, "\n".join(lines)) if args == ARGS else f"{name}({args})"
            bodies.append(_block(f"{head} if {{", lines, "}"))
        # `any: []` is false: a function whose only body never holds.
        self.helpers[at:at] = bodies or [f"{name}({args}) if false"]

    def body(
        self, cond: ast.Condition, args: str = ARGS, leaf: Callable[[Leaf], str] | None = None
    ) -> list[str]:
        """Expressions whose conjunction holds exactly when `cond` does."""
        if isinstance(cond, ast.All):
            return [line for item in cond.items for line in self.body(item, args, leaf)] or ["true"]
        if isinstance(cond, ast.Any_):
            name = self._fresh("any")
            self.define(name, cond, args, leaf)
            return [f"{name}({args})"]
        if isinstance(cond, ast.Not):
            inner = self.body(cond.item, args, leaf)
            if len(inner) == 1 and not inner[0].startswith("not "):
                return [f"not {inner[0]}"]
            name = self._fresh("holds")
            self.define(name, cond.item, args, leaf)
            return [f"not {name}({args})"]
        return [(leaf or self.test)(cond)]

    def test(self, leaf: Leaf) -> str:
        """One leaf as one Rego expression (so that `not` can apply to it)."""
        if isinstance(leaf, ast.Exists):
            helper = "present" if leaf.expected else "absent"
            return f"lib.{helper}({self.path(leaf.path)})"
        if isinstance(leaf, ast.Every):
            return f"lib.all_items({self.path(leaf.path)}, {self.counted(leaf)})"
        actual, op, expected = self.operands(leaf)
        return f"lib.test({actual}, {rego_string(op)}, {expected})"

    def check(self, leaf: Leaf) -> str:
        """One leaf as its evidence object `{test, actual, expected, result}`."""
        text = rego_string(ast.describe(leaf))
        if isinstance(leaf, ast.Exists):
            return f"lib.check_exists({text}, {self.path(leaf.path)}, {rego_term(leaf.expected)})"
        if isinstance(leaf, ast.Every):
            return f"lib.check_every({text}, {self.counted(leaf)}, {self.path(leaf.path)})"
        actual, op, expected = self.operands(leaf)
        return f"lib.check({text}, {actual}, {rego_string(op)}, {expected})"

    def operands(self, leaf: Leaf) -> tuple[str, str, str]:
        """(actual, operator, expected) of a leaf that compares one value with another."""
        if isinstance(leaf, ast.Compare):
            return self.path(leaf.path), leaf.op, self.value(leaf.value)
        if isinstance(leaf, ast.Age):
            measure = "lib.until" if leaf.until else "lib.age"
            return f"{measure}({self.path(leaf.path)})", leaf.op, self.value(leaf.value)
        if isinstance(leaf, ast.Duration):
            span = f"lib.duration({self.path(leaf.start)}, {self.path(leaf.end)})"
            return span, leaf.op, self.value(leaf.value)
        if isinstance(leaf, ast.CronMaxGap):
            return f"lib.cron_gap({self.path(leaf.path)})", leaf.op, self.value(leaf.value)
        if isinstance(leaf, ast.Some | ast.Follow):
            # "at least one item" / "the target": a count compared with 1.
            return self.counted(leaf), "ge", "1"
        if isinstance(leaf, ast.Referrers | ast.ExistsKind):
            return self.counted(leaf), leaf.count.op, self.value(leaf.count.value)
        raise TypeError(f"not a comparison: {leaf!r}")  # pragma: no cover - Every is handled above

    # ---- quantifiers and relations: counting helpers --------------------------------

    def counted(self, leaf: Counted) -> str:
        """A call to the helper counting what satisfied `leaf` (defined on first use)."""
        known = self._counted.get(id(leaf))
        if known is not None:
            return known
        n = self._next()
        name = {
            ast.Every: "satisfied",
            ast.Some: "satisfied",
            ast.Follow: "followed",
            ast.Referrers: "referrers",
            ast.ExistsKind: "resources",
        }[type(leaf)]
        helper_name = f"{name}_{n}"
        call = f"{helper_name}({ARGS})"
        self._counted[id(leaf)] = call
        self._kept.append(leaf)
        at = len(self.helpers)
        if isinstance(leaf, ast.Every | ast.Some):
            # Null (not 0) when the path holds no list: the test is false, as in native.
            self.define(f"satisfy_{n}", leaf.satisfy)
            helper = _counting(
                helper_name,
                ["items := " + self.path(leaf.path), "is_array(items)"],
                "[item |",
                ["some item in items", f"satisfy_{n}(item, null, s, r)"],
                "]",
            )
        elif isinstance(leaf, ast.Follow):
            # The target's address is the reference itself; its outer subject is s.
            self.define(f"satisfy_{n}", leaf.satisfy)
            helper = _counting(
                helper_name,
                [],
                "[ref |",
                [
                    f"ref := {self.path(leaf.path)}",
                    "is_string(ref)",
                    f"satisfy_{n}(lib.resource(ref), ref, s, r)",
                ],
                "]",
            )
        elif isinstance(leaf, ast.Referrers):
            # Only a subject with an address can be referred to (null for list items).
            # The referrers are gathered first, in a comprehension that closes over `a`
            # alone and ends with `target == a`: the shape OPA's comprehension indexing
            # recognises, so that it is computed once per query rather than once per
            # subject. `where` (which may read $outer and $root) filters them after.
            found = _block(
                "{name |",
                ["some name", f"x := {kind_ref(leaf.kind)}[name]", *self._chain(leaf.via), "target == a"],
                "}",
            )
            guards = ["a != null", f"referring := {found}"]
            if leaf.where is None:
                helper = _counting(helper_name, guards, "", ["referring"], "")
            else:
                lines = ["some name in referring", *self._candidate(n, leaf.kind, leaf.where)]
                helper = _counting(helper_name, guards, "{name |", lines, "}")
        else:
            lines = ["some name", *self._candidate(n, leaf.kind, leaf.where)]
            helper = _counting(helper_name, [], "{name |", lines, "}")
        self.helpers.insert(at, helper)
        return call

    def _chain(self, via: tuple[str, ...]) -> list[str]:
        """x reaches the subject (address a) through the references at via[0], via[1]..."""
        lines: list[str] = []
        holder = "x"
        for step, attr in enumerate(via):
            held = f"lib.refs({read(holder, attr.split('.'))})"
            if step == len(via) - 1:
                lines.append(f"some target in {held}")
            else:
                lines.append(f"some via_{step} in {held}")
                holder = f"lib.resource(via_{step})"
        return lines

    def _candidate(self, n: int, kind: str, where: ast.Condition | None) -> list[str]:
        """The resource `name` of `kind` exists and satisfies `where` (if any)."""
        if where is None:
            return [f"{kind_ref(kind)}[name]"]
        self.define(f"where_{n}", where)
        return [
            f"x := {kind_ref(kind)}[name]",
            f'where_{n}(x, concat(".", [{rego_string(kind)}, name]), s, r)',
        ]

    def _fresh(self, prefix: str) -> str:
        return f"{prefix}_{self._next()}"

    def _next(self) -> int:
        self._counter += 1
        return self._counter


def _counting(name: str, guards: list[str], opening: str, lines: list[str], closing: str) -> str:
    """`name(...) := count(comprehension)`, or null when a guard (one expression,
    perhaps over several lines) does not hold. Without `opening`, `lines` is one
    expression counted as it is."""
    counted = _block(opening, lines, closing) if opening else lines[0]
    if not guards:
        return f"{signature(name, counted)} := count({counted})"
    body = "\n".join(_indent(line) for line in [*guards, f"n := count({counted})"])
    return f"{signature(name, body)} := n if {{\n{body}\n}} else := null"


def signature(name: str, body: str) -> str:
    """`name(s, a, o, r)`, each argument the body does not read written `_`: callers
    pass all four, and OPA's strict mode (`opa check --strict`) refuses unused ones."""
    used = [arg if re.search(rf"(?<![\w.]){arg}(?!\w)", body) else "_" for arg in ARGS.split(", ")]
    return f"{name}({', '.join(used)})"


def _block(opening: str, lines: list[str], closing: str) -> str:
    """A body over several lines, tab-indented as `opa fmt` writes it."""
    return f"{opening}\n" + "\n".join(f"\t{line}" for line in lines) + f"\n{closing}"


def _indent(text: str) -> str:
    return "\n".join(f"\t{line}" for line in text.split("\n"))
