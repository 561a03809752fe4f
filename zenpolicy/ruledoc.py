"""A rule's documentation, rendered from the rule file itself (`zenpolicy rules show`).

One template for every rule, as ruff documents its rules: what it checks, why (the
clause, in the policy's own words), a failing example, the fix, and the parameters.
Nothing here is written by hand per rule, so the documentation cannot drift from what
the engine evaluates.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from typing import Any

import yaml

from zenpolicy.formats.json import rule_to_dict
from zenpolicy.rules import ast
from zenpolicy.rules.model import INVENTORY, ParamSpec, Rule

_INDENT = "  "


def render_condition(cond: ast.Condition, depth: int = 0) -> list[str]:
    """A condition as indented lines; leaves read as in evidence (`age(x) <= 31d`)."""
    pad = _INDENT * depth
    if isinstance(cond, ast.All | ast.Any_):
        word = "all" if isinstance(cond, ast.All) else "any"
        if not cond.items:
            return [f"{pad}{'true' if word == 'all' else 'false'} (empty {word})"]
        return [f"{pad}{word} of:"] + [line for c in cond.items for line in _item(c, depth + 1)]
    if isinstance(cond, ast.Not):
        return [f"{pad}not:", *render_condition(cond.item, depth + 1)]
    if isinstance(cond, ast.Every | ast.Some):
        word = "every" if isinstance(cond, ast.Every) else "some"
        return [f"{pad}{word} item of {cond.path} satisfies:", *render_condition(cond.satisfy, depth + 1)]
    if isinstance(cond, ast.Follow):
        return [
            f"{pad}the resource named by {cond.path} satisfies:",
            *render_condition(cond.satisfy, depth + 1),
        ]
    if isinstance(cond, ast.Referrers):
        head = f"{pad}number of {cond.kind} referring to it via {' -> '.join(cond.via)}"
        return _counted(head, cond.where, cond.count, depth)
    if isinstance(cond, ast.ExistsKind):
        return _counted(f"{pad}number of {cond.kind}", cond.where, cond.count, depth)
    return [pad + ast.describe(cond)]


def _item(cond: ast.Condition, depth: int) -> list[str]:
    """A list member, bulleted: `- ` on its first line, the rest aligned under it."""
    lines = render_condition(cond, 0)
    pad = _INDENT * depth
    return [f"{pad}- {lines[0]}", *(f"{pad}  {line}" for line in lines[1:])]


def _counted(head: str, where: ast.Condition | None, count: ast.Count, depth: int) -> list[str]:
    test = f"{ast.SYMBOLS[count.op]} {count.value}"
    if where is None:
        return [f"{head} {test}"]
    return [
        f"{head}, counting those where:",
        *render_condition(where, depth + 2),
        f"{_INDENT * (depth + 1)}is {test}",
    ]


def _section(title: str, body: list[str]) -> list[str]:
    return [title, *(f"{_INDENT}{line}" if line else "" for line in body), ""]


def _wrap(text: str, width: int = 86) -> list[str]:
    """Paragraphs re-flowed for a terminal, a blank line between them."""
    out: list[str] = []
    for par in (p for p in text.split("\n\n") if p.strip()):
        out += [*([""] if out else []), *textwrap.wrap(" ".join(par.split()), width=width)]
    return out


def failing_example(rule: Rule) -> list[str]:
    fail = next((ex for ex in rule.examples if ex.expect == "fail"), None)
    if fail is None:
        return ["(none)"]
    head = [f"as_of: {fail.as_of}"]
    if fail.subject:
        head.append(f"subject: {fail.subject}  (fails)")
    if fail.params:
        head.append(f"params: {fail.params}")
    body = yaml.safe_dump(fail.resources, sort_keys=False, allow_unicode=True, default_flow_style=False)
    return [*head, *body.rstrip("\n").split("\n")]


def param_lines(names: tuple[str, ...], specs: Mapping[str, ParamSpec]) -> list[str]:
    if not names:
        return ["(none)"]
    out = []
    for name in names:
        spec = specs.get(name)
        if spec is None:
            out.append(f"{name} (not defined)")
            continue
        out.append(f"{name} = {spec.default} ({spec.type}): {' '.join(spec.description.split())}")
    return out


def render_rule(rule: Rule, specs: Mapping[str, ParamSpec]) -> str:
    scope = "the whole inventory" if rule.resource == INVENTORY else f"every {rule.resource}"
    checks = [*_wrap(rule.description), "", f"Applies to {scope}" + (" where:" if rule.where else ".")]
    if rule.where is not None:
        checks += render_condition(rule.where, 1)
    checks += ["Requires:", *render_condition(rule.require, 1)]
    quote = textwrap.wrap(f"« {' '.join(rule.clause.text.split())} »", width=84)
    why = [f"{rule.clause.ref} ({rule.clause.source}):", *(_INDENT + q for q in quote)]
    if rule.frameworks:
        why.append("Frameworks: " + "; ".join(f"{k} {', '.join(v)}" for k, v in rule.frameworks.items()))
    lines = [
        f"{rule.id}: {rule.title}",
        f"severity {rule.severity} · domain {rule.domain} · control {rule.control} · {rule.source.path}",
        "",
        *_section("What it checks", checks),
        *_section("Why", why),
        *_section("Failing example", failing_example(rule)),
        *_section("Fix", _wrap(rule.remediation)),
        *_section("Parameters", param_lines(rule.params, specs)),
    ]
    return "\n".join(lines).rstrip("\n") + "\n"


def rule_summary(rule: Rule) -> dict[str, Any]:
    """A catalogue entry for `zenpolicy rules --format json`."""
    return {
        **rule_to_dict(rule.info()),
        "description": rule.description,
        "resource": rule.resource,
        "params": list(rule.params),
        "source": rule.source.path,
        "builtin": rule.builtin,
    }


def render_list(rules: tuple[Rule, ...]) -> str:
    if not rules:
        return "no rules\n"
    id_w = max(len(r.id) for r in rules)
    res_w = max(len(r.resource) for r in rules)
    lines = [f"{r.id:<{id_w}}  {r.severity!s:<8}  {r.resource:<{res_w}}  {r.title}" for r in rules]
    lines.append(f"{len(rules)} rules")
    return "\n".join(lines) + "\n"


def render_params(specs: Mapping[str, ParamSpec]) -> str:
    if not specs:
        return "no parameters\n"
    names = sorted(specs)
    name_w = max(len(n) for n in names)
    default_w = max(len(str(specs[n].default)) for n in names)
    lines = []
    for n in names:
        s = specs[n]
        lines.append(
            f"{n:<{name_w}}  {s.default!s:<{default_w}}  {s.type:<8}  {s.clause:<8}  "
            f"{' '.join(s.description.split())}".rstrip()
        )
    return "\n".join(lines) + "\n"


def params_to_list(specs: Mapping[str, ParamSpec]) -> list[dict[str, Any]]:
    return [
        {
            "name": s.name,
            "type": s.type,
            "default": s.default,
            "clause": s.clause,
            "description": " ".join(s.description.split()),
        }
        for s in (specs[n] for n in sorted(specs))
    ]
