"""bench/generate.py against the built-in catalogue, on the estate the engine tests use
(2,000 resources, seed 5, 10 files): every rule on a resource kind has both compliant
and violating subjects, every organisation-wide rule passes, nothing errors, a minority
of the findings fail, every deliberate violation shows and nothing else fails; and the
same arguments give the same bytes."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest
from engine_helpers import bench_generator

from zenpolicy.engines.native import evaluate
from zenpolicy.inventory import load_inventory
from zenpolicy.model import Finding
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.timeutil import parse_as_of

SIZE, FILES, SEED = 2000, 10, 5  # as tests/test_engine_reference.py
AS_OF = "2026-11-26"  # the estate's own as_of
FAILING_SHARE = (0.05, 0.15)  # the bounds bench/generate.py's docstring states


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], list[Finding]]:
    """The generator's summary, and the native engine's findings on its estate."""
    gen = bench_generator()
    files, summary = gen.generate(SIZE, FILES, SEED)
    root = tmp_path_factory.mktemp("estate")
    gen.write(root, files)
    catalogue = load_catalogue(())
    loaded = load_inventory(root)
    params = resolve_params(catalogue.params, loaded.config.params, {})
    findings = evaluate(
        catalogue.rules,
        loaded.inventory,
        as_of=parse_as_of(AS_OF),
        params=params.values,
        display_params=params.display,
    )
    return summary, findings


@pytest.fixture(scope="module")
def by_rule(generated: tuple[dict[str, Any], list[Finding]]) -> dict[str, Counter[str]]:
    """Statuses per rule, for every rule of the catalogue (an empty count if it has none)."""
    out: dict[str, Counter[str]] = {rule.id: Counter() for rule in load_catalogue(()).rules}
    for f in generated[1]:
        out[f.rule_id][str(f.status)] += 1
    return out


def _scopes() -> dict[str, str]:
    return {rule.id: rule.resource for rule in load_catalogue(()).rules}


def test_every_resource_rule_finds_compliant_and_violating_subjects(by_rule: dict[str, Counter[str]]) -> None:
    resource_rules = [rule for rule, kind in _scopes().items() if kind != "inventory"]
    assert resource_rules
    no_pass = {rule: dict(by_rule[rule]) for rule in resource_rules if not by_rule[rule]["pass"]}
    no_fail = {rule: dict(by_rule[rule]) for rule in resource_rules if not by_rule[rule]["fail"]}
    assert not no_pass, f"rules with no passing finding: {no_pass}"
    assert not no_fail, f"rules with no failing finding: {no_fail}"


def test_every_inventory_rule_passes(by_rule: dict[str, Counter[str]]) -> None:
    inventory_rules = [rule for rule, kind in _scopes().items() if kind == "inventory"]
    assert inventory_rules
    wrong = {rule: dict(by_rule[rule]) for rule in inventory_rules if set(by_rule[rule]) != {"pass"}}
    assert not wrong, f"organisation-wide rules that do not pass: {wrong}"


def test_nothing_errors(generated: tuple[dict[str, Any], list[Finding]]) -> None:
    errors = sorted({f"{f.rule_id} {f.address}" for f in generated[1] if str(f.status) == "error"})
    assert not errors, f"findings in error: {errors[:20]}"


def test_a_minority_of_findings_fail(
    generated: tuple[dict[str, Any], list[Finding]], by_rule: dict[str, Counter[str]]
) -> None:
    findings = generated[1]
    share = sum(1 for f in findings if str(f.status) == "fail") / len(findings)
    low, high = FAILING_SHARE
    most = sorted(by_rule, key=lambda rule: -by_rule[rule]["fail"])[:5]
    assert low <= share <= high, (
        f"{share:.1%} of the findings fail, not between {low:.0%} and {high:.0%}; "
        f"most failures: {[(rule, by_rule[rule]['fail']) for rule in most]}"
    )


def test_each_deliberate_violation_shows_and_nothing_else_fails(
    generated: tuple[dict[str, Any], list[Finding]],
) -> None:
    # The generator counts the resources it made violating; built by construction, they
    # are exactly the resources with a failing finding: no violation hidden by another,
    # no rule failing where nothing was meant.
    summary, findings = generated
    failing: dict[str, set[str]] = defaultdict(set)
    for f in findings:
        if str(f.status) == "fail" and f.address != "inventory":
            failing[f.address].add(f.rule_id)
    rules = Counter(rule for found in failing.values() for rule in found)
    assert len(failing) == summary["violations"], (
        f"{len(failing)} resources fail, the generator made {summary['violations']} violating; "
        f"failing findings per rule: {dict(sorted(rules.items()))}"
    )


def test_same_arguments_same_bytes() -> None:
    gen = bench_generator()
    first, again = gen.generate(SIZE, FILES, SEED)[0], gen.generate(SIZE, FILES, SEED)[0]
    assert list(first) == list(again)
    differ = [rel for rel in first if first[rel] != again[rel]]
    assert not differ, f"files that differ between two runs: {differ}"
    assert gen.generate(SIZE, FILES, SEED + 1)[0] != first  # the seed matters
