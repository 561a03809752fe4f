"""Building small inventories and rules in memory, for engine tests."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from zenpolicy.engines.native import evaluate
from zenpolicy.inventory import load_inventory
from zenpolicy.inventory.build import collect_resources, link, schema_problems
from zenpolicy.inventory.loader import Document
from zenpolicy.inventory.model import Inventory
from zenpolicy.inventory.yaml12 import parse_yaml
from zenpolicy.model import Clause, Finding, Location, Severity
from zenpolicy.rules import ast
from zenpolicy.rules.loader import Catalogue, load_catalogue
from zenpolicy.rules.model import Rule
from zenpolicy.rules.timeutil import parse_as_of

REPO = Path(__file__).resolve().parent.parent


def bench_generator() -> Any:
    """bench/generate.py as a module: realistic estates of any size, deterministic."""
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while defining
    spec.loader.exec_module(module)
    return module


def generated_estate(root: Path, resources: int, files: int, seed: int) -> Path:
    """`root`, holding an estate written by bench/generate.py."""
    gen = bench_generator()
    gen.write(root, gen.generate(resources, files, seed)[0])
    return root


def estate_with_catalogue(estate: str, tmp_path: Path) -> tuple[Inventory, Catalogue, dict[str, Any]]:
    """The example estate (`estate` "example") or a generated one of 3k resources, with
    the built-in catalogue and its parameters' defaults."""
    root = REPO / "inventory" if estate == "example" else generated_estate(tmp_path, 3000, 6, 11)
    loaded = load_inventory(root, jobs=1)
    catalogue = load_catalogue(())
    return loaded.inventory, catalogue, {name: spec.default for name, spec in catalogue.params.items()}


def inventory_from_yaml(text: str, path: str = "inv.yaml") -> Inventory:
    """A validated inventory from one YAML text; fails the test on any problem."""
    value, smap = parse_yaml(text)
    doc = Document(path=path, value=value, source_map=smap, sha256="")
    resources, problems = collect_resources([doc])
    problems += schema_problems(resources)
    inv, more = link(resources, Location(path="inv"))
    problems += more
    assert not problems, [str(p) for p in problems]
    return inv


def make_rule(
    resource: str,
    require: dict[str, Any],
    where: dict[str, Any] | None = None,
    message: str = "failed: {{ address }}",
    rule_id: str = "T-01",
) -> Rule:
    return Rule(
        id=rule_id,
        control="TEST",
        title="Test rule",
        description="d",
        severity=Severity.HIGH,
        domain="test",
        resource=resource,
        where=None if where is None else ast.parse_condition(where),
        require=ast.parse_condition(require),
        message=message,
        clause=Clause(source="seed", ref="III-G§1", text="t"),
        frameworks={},
        params=(),
        remediation="fix",
        examples=(),
        source=Location(path="rule.yaml", line=1, column=1),
    )


def run(rule: Rule, inv: Inventory, as_of: str = "2026-11-26", **params: Any) -> dict[str, Finding]:
    """Findings by address."""
    findings = evaluate([rule], inv, as_of=parse_as_of(as_of), params=params)
    return {f.address: f for f in findings}


def condition_trees(
    leaves: st.SearchStrategy[ast.Condition], max_leaves: int
) -> st.SearchStrategy[ast.Condition]:
    """Conditions made of `leaves` under `all`, `any` and `not`, nested."""
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3).map(lambda items: ast.All(items=tuple(items))),
            st.lists(inner, max_size=3).map(lambda items: ast.Any_(items=tuple(items))),
            inner.map(lambda item: ast.Not(item=item)),
        ),
        max_leaves=max_leaves,
    )
