"""Loading rule files: the built-in catalogue and custom rule directories.

Each rule file is parsed with the same safe YAML 1.2 parser as inventories, checked
against schemas/rule.schema.json, then its conditions are parsed and cross-checked
(kinds exist, parameters are declared, `via` paths are references). Every problem is
collected with its file:line:column; any problem stops the run (a rule that cannot be
understood must never silently pass).
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from zenpolicy.errors import RuleError, UsageError
from zenpolicy.inventory.fastload import parse_value
from zenpolicy.inventory.loader import LoadError, load_file
from zenpolicy.inventory.schema import KindValidator, kind_schemas, reference_paths
from zenpolicy.model import Clause, Location, Problem, Severity
from zenpolicy.resources import policies_dir, schemas_dir
from zenpolicy.rules import ast, stored
from zenpolicy.rules.fastparse import parse_rule_file
from zenpolicy.rules.message import compile_template, plan
from zenpolicy.rules.model import INVENTORY, Example, ParamSpec, Rule
from zenpolicy.rules.params import TYPES, coerce

PARAMS_FILE = "params.yaml"
NOT_RULES = frozenset({PARAMS_FILE, "clauses.yaml"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalogue:
    rules: tuple[Rule, ...]
    """Sorted by ID."""
    params: dict[str, ParamSpec]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def select(self, select: Sequence[str], skip: Sequence[str]) -> Catalogue:
        """Keep rules matching any `select` pattern (all when empty), minus `skip`."""
        for pattern in (*select, *skip):
            if not any(fnmatch.fnmatchcase(r.id, pattern) for r in self.rules):
                raise UsageError(f"rule pattern {pattern!r} matches no rule (see `zenpolicy rules`)")
        kept = [
            r
            for r in self.rules
            if (not select or any(fnmatch.fnmatchcase(r.id, p) for p in select))
            and not any(fnmatch.fnmatchcase(r.id, p) for p in skip)
        ]
        return Catalogue(rules=tuple(kept), params=self.params)


@cache
def _rule_validator() -> KindValidator:
    schema = json.loads((schemas_dir() / "rule.schema.json").read_text(encoding="utf-8"))
    return KindValidator("rule", schema)


def load_catalogue(extra_dirs: Sequence[Path] = (), *, reuse: bool = True) -> Catalogue:
    """The built-in rules plus those of `extra_dirs`; raises RuleError on any problem.

    A catalogue loaded before from the same files by the same code is read back
    instead (rules/stored.py), unless `reuse` is false or the stored catalogue is
    turned off."""
    dirs = [(policies_dir(), True), *((Path(d), False) for d in extra_dirs)]
    entry = stored.key([d for d, _ in dirs]) if reuse and stored.enabled() else None
    catalogue = stored.load(entry) if entry else None
    if catalogue is None:
        catalogue = _load_catalogue(dirs)
        if entry:
            stored.store(entry, catalogue)
    return catalogue


def _load_catalogue(dirs: list[tuple[Path, bool]]) -> Catalogue:
    problems: list[Problem] = []
    params: dict[str, ParamSpec] = {}
    rules: dict[str, Rule] = {}
    for directory, builtin in dirs:
        if not directory.is_dir():
            problems.append(
                Problem(
                    location=Location(path=str(directory)), message="no such rule directory", code="missing"
                )
            )
            continue
        _load_params(directory, builtin, params, problems)
    for directory, builtin in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.rglob("*.y*ml"), key=lambda p: p.relative_to(directory).as_posix()):
            if (
                path.name in NOT_RULES
                or path.suffix not in (".yaml", ".yml")
                or any(part.startswith(".") for part in path.relative_to(directory).parts)
            ):
                continue
            rule = _load_rule(path, _shown(path, directory, builtin), builtin, params, problems)
            if rule is None:
                continue
            if rule.id in rules:
                problems.append(
                    Problem(
                        location=rule.source,
                        message=f"duplicate rule ID {rule.id} (also defined in {rules[rule.id].source.path})",
                        code="duplicate-rule",
                    )
                )
                continue
            rules[rule.id] = rule
    if problems:
        raise RuleError(sorted(problems, key=lambda p: (p.location, p.message)))
    return Catalogue(rules=tuple(rules[k] for k in sorted(rules)), params=params)


def _shown(path: Path, directory: Path, builtin: bool) -> str:
    if builtin:
        return "policies/" + path.relative_to(directory).as_posix()
    return path.as_posix()


def _load_params(
    directory: Path, builtin: bool, params: dict[str, ParamSpec], problems: list[Problem]
) -> None:
    path = directory / PARAMS_FILE
    if not path.is_file():
        return
    shown = _shown(path, directory, builtin)
    try:
        doc = load_file(path, shown, parser=parse_value)
    except LoadError as exc:
        problems.append(exc.problem)
        return
    value = doc.value or {}
    if not isinstance(value, dict):
        problems.append(
            Problem(
                location=Location(path=shown, line=1, column=1),
                message="expected a mapping of parameter names",
                code="bad-params",
            )
        )
        return

    def at(name: str) -> Location:  # asked for problems only: positions cost a yaml12 parse
        pos = doc.source_map.get((name,)) or (1, 1)
        return Location(path=shown, line=pos[0], column=pos[1])

    for name, spec in value.items():
        if not isinstance(spec, dict) or spec.get("type") not in TYPES or "default" not in spec:
            problems.append(
                Problem(
                    location=at(name),
                    message=f"parameter {name}: needs a type ({', '.join(TYPES)}) and a default",
                    code="bad-params",
                )
            )
            continue
        if name in params:
            problems.append(
                Problem(
                    location=at(name), message=f"parameter {name} is already defined", code="duplicate-param"
                )
            )
            continue
        param = ParamSpec(
            name=name,
            type=spec["type"],
            default=spec["default"],
            description=str(spec.get("description", "")),
            clause=str(spec.get("clause", "")),
        )
        try:
            coerce(param, param.default, "default")
        except UsageError as exc:
            problems.append(Problem(location=at(name), message=str(exc), code="bad-params"))
            continue
        params[name] = param


def _load_rule(
    path: Path, shown: str, builtin: bool, params: dict[str, ParamSpec], problems: list[Problem]
) -> Rule | None:
    try:
        doc = load_file(path, shown, parser=parse_rule_file)
    except LoadError as exc:
        problems.append(exc.problem)
        return None
    raw, smap = doc.value, doc.source_map

    def at(*keys: str | int) -> Location:
        while keys:
            pos = smap.get(keys)
            if pos is not None:
                return Location(path=shown, line=pos[0], column=pos[1])
            keys = keys[:-1]
        return Location(path=shown, line=1, column=1)

    if not isinstance(raw, dict):
        problems.append(
            Problem(
                location=at(), message="a rule file is a mapping (id:, title:, require: ...)", code="bad-rule"
            )
        )
        return None
    schema_problems = _rule_validator().problems(raw)
    if schema_problems:
        for sp in schema_problems:
            problems.append(Problem(location=at(*sp.path), message=f"rule: {sp.message}", code=sp.code))
        return None
    before = len(problems)
    kinds = kind_schemas()
    resource = raw["resource"]
    if resource != INVENTORY and resource not in kinds:
        problems.append(
            Problem(location=at("resource"), message=f"unknown resource kind {resource!r}", code="bad-rule")
        )
    conditions: dict[str, ast.Condition | None] = {"where": None, "require": None}
    for key in conditions:
        if key in raw:
            try:
                conditions[key] = ast.parse_condition(raw[key])
            except (ast.ConditionError, KeyError, TypeError, ValueError) as exc:
                problems.append(Problem(location=at(key), message=f"{key}: {exc}", code="bad-condition"))
    declared = set(raw.get("params", []))
    used = ast.params_used(conditions["where"]) | ast.params_used(conditions["require"])
    for name in sorted(used - declared):
        problems.append(
            Problem(
                location=at("params"),
                message=f"parameter {name} is used but not declared in params:",
                code="bad-rule",
            )
        )
    for name in sorted(declared - set(params)):
        problems.append(
            Problem(
                location=at("params"),
                message=f"unknown parameter {name} (not in any params.yaml)",
                code="bad-rule",
            )
        )
    for key in ("where", "require"):
        for node in ast.walk(conditions[key]):
            problem = _check_node(node, resource)
            if problem:
                problems.append(Problem(location=at(key), message=f"{key}: {problem}", code="bad-condition"))
    try:
        # A plan is Jinja2's own parse made only of text and lookups, which always
        # compile: only other templates need compiling to be checked (2 ms each).
        if plan(raw["message"]) is None:
            compile_template(raw["message"])
    except Exception as exc:  # jinja2's TemplateSyntaxError and friends
        problems.append(
            Problem(
                location=at("message"),
                message=f"message template does not compile: {exc}",
                code="bad-template",
            )
        )
    if len(problems) > before or conditions["require"] is None:
        return None
    clause = raw["clause"]
    return Rule(
        id=raw["id"],
        control=raw["control"],
        title=raw["title"].strip(),
        description=raw["description"].strip(),
        severity=Severity.parse(raw["severity"]),
        domain=raw["domain"],
        resource=resource,
        where=conditions["where"],
        require=conditions["require"],
        message=raw["message"].strip(),
        clause=Clause(source=clause["source"], ref=clause["ref"], text=clause["text"].strip()),
        frameworks={k: tuple(v) for k, v in sorted(raw.get("frameworks", {}).items())},
        params=tuple(raw.get("params", [])),
        remediation=raw["remediation"].strip(),
        examples=_examples(raw["examples"], at),
        source=at(),
        builtin=builtin,
        raw=raw,
    )


def _examples(raw: dict[str, Any], at: Callable[..., Location]) -> tuple[Example, ...]:
    out: list[Example] = []
    for expect in ("pass", "fail", "not_applicable"):
        for index, ex in enumerate(raw.get(expect, [])):
            out.append(
                Example(
                    expect=expect,
                    resources={k: dict(v or {}) for k, v in ex["resources"].items()},
                    subject=ex.get("subject"),
                    as_of=ex.get("as_of", "2026-01-01"),
                    params=dict(ex.get("params", {})),
                    index=index,
                    location=at("examples", expect, index),
                )
            )
    return tuple(out)


def _check_node(node: ast.Condition, resource: str) -> str | None:
    kinds = kind_schemas()
    if isinstance(node, ast.Referrers):
        if node.kind not in kinds:
            return f"referrers: unknown kind {node.kind!r}"
        refs = {".".join(p) for p, _, _ in reference_paths(kinds[node.kind])}
        if node.via[0] not in refs:
            return f"referrers: {node.kind}.{node.via[0]} is not a reference attribute"
    if isinstance(node, ast.ExistsKind):
        if resource != INVENTORY:
            return "exists: {kind: ...} is only for `resource: inventory` rules"
        if node.kind not in kinds:
            return f"exists: unknown kind {node.kind!r}"
    return None
