"""The compiled Rego and the native engine agree, finding for finding.

Every rule's pass/fail/not_applicable examples, and the example estate (inventory/),
go through both engines; the findings must be equal in every field: rule, address,
status, evidence, message, location, severity. The Rego side runs in-process in regopy
(rego-cpp, the test suite's stand-in for OPA: it is not OPA), one rule at a time to
keep each evaluation small, and its answer goes through the OPA engine's own conversion
(rules/rego_findings.py) so that messages and locations are compared too.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from zenpolicy.engines.native import evaluate
from zenpolicy.engines.normalise import normalise
from zenpolicy.engines.rego_local import LocalRego
from zenpolicy.inventory import LoadedInventory, load_inventory
from zenpolicy.inventory.model import Inventory
from zenpolicy.model import Finding
from zenpolicy.rules.examples import example_inventory, subject_status
from zenpolicy.rules.loader import Catalogue, load_catalogue
from zenpolicy.rules.model import Rule
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.rego import compile_catalogue
from zenpolicy.rules.rego_findings import findings_from_answer
from zenpolicy.rules.timeutil import AsOf, parse_as_of

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE: Catalogue = load_catalogue()


@cache
def rego_for(rule_ids: tuple[str, ...]) -> LocalRego:
    """zenpolicy.lib, the aggregate and these rules' packages, compiled by rego-cpp once."""
    rules = [rule for rule in CATALOGUE.rules if rule.id in rule_ids]
    return LocalRego({m.path: m.source for m in compile_catalogue(rules)})


def through_rego(
    rules: Sequence[Rule], inventory: Inventory, as_of: AsOf, params: dict[str, Any], shown: dict[str, Any]
) -> list[Finding]:
    answer = rego_for(tuple(r.id for r in rules)).query(
        "zenpolicy.findings", normalise(inventory, as_of, params)
    )
    return sort(findings_from_answer(rules, inventory, answer, shown))


def sort(findings: Sequence[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.rule_id, f.address))


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=lambda rule: rule.id)
def test_examples_give_the_same_findings(rule: Rule) -> None:
    assert rule.examples, f"{rule.id} has no examples"
    for example in rule.examples:
        inventory, problems = example_inventory(rule, example)
        assert inventory is not None, problems
        resolved = resolve_params(CATALOGUE.params, example.params, {})
        as_of = parse_as_of(example.as_of)
        native = sort(
            evaluate([rule], inventory, as_of=as_of, params=resolved.values, display_params=resolved.display)
        )
        rego = through_rego([rule], inventory, as_of, resolved.values, resolved.display)
        where = f"{rule.id} {example.expect}[{example.index}]"
        assert rego == native, where
        assert subject_status(rule, example, rego) == example.expect, where


@pytest.fixture(scope="module")
def estate() -> tuple[LoadedInventory, AsOf, Any]:
    if not any((ROOT / "inventory").rglob("*.yaml")):
        pytest.skip("the example estate (inventory/) is not there yet")
    loaded = load_inventory(ROOT / "inventory")
    as_of = parse_as_of(loaded.config.as_of or "2026-11-26")
    return loaded, as_of, resolve_params(CATALOGUE.params, loaded.config.params, {})


@pytest.mark.parametrize("rule", CATALOGUE.rules, ids=lambda rule: rule.id)
def test_the_example_estate_gives_the_same_findings(
    rule: Rule, estate: tuple[LoadedInventory, AsOf, Any]
) -> None:
    # One rule at a time: rego-cpp is superlinear in the size of what it evaluates at once.
    loaded, as_of, resolved = estate
    inventory = loaded.inventory
    native = sort(
        evaluate([rule], inventory, as_of=as_of, params=resolved.values, display_params=resolved.display)
    )
    assert through_rego([rule], inventory, as_of, resolved.values, resolved.display) == native
