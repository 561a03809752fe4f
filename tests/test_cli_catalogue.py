"""Meta-tests over the whole built-in catalogue, as `zenpolicy rules` and `test` see it.

Every rule: a unique ID, a schema-valid file named after it, a clause (ref and the
policy's words) that policies/clauses.yaml knows, pass and fail examples that hold; and
every control of ../shared/CONTROLS.md is enforced by at least one rule.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from zenpolicy.coverage import compute, is_attestation, load_clauses, rule_refs
from zenpolicy.inventory.yaml12 import parse_yaml
from zenpolicy.resources import policies_dir, schemas_dir
from zenpolicy.rules.examples import run_examples
from zenpolicy.rules.loader import NOT_RULES, Catalogue, load_catalogue
from zenpolicy.rules.model import Rule

SHARED = Path(__file__).parents[2] / "shared"
CONTROLS = SHARED / "CONTROLS.md"
RULE_FILES = sorted(p for p in policies_dir().rglob("*.yaml") if p.name not in NOT_RULES)


def control_ids(text: str) -> list[str]:
    """The IDs of the `| ID | What must hold | Clause | Default |` table rows."""
    return re.findall(r"^\|\s*([A-Z]+-[0-9]+)\s*\|", text, flags=re.MULTILINE)


def test_control_ids_parser() -> None:
    sample = "| ID | What |\n|---|---|\n| AUTH-01 | x |\n|GDPR-02|y|\n| not | z |\n"
    assert control_ids(sample) == ["AUTH-01", "GDPR-02"]


@cache
def catalogue() -> Catalogue:
    return load_catalogue()


def _rules() -> tuple[Rule, ...]:
    try:
        return catalogue().rules
    except Exception:  # reported by test_catalogue_loads; parametrize with nothing meanwhile
        return ()


def test_catalogue_loads() -> None:
    assert load_catalogue().rules


def test_rule_files_are_schema_valid_and_named_after_their_id() -> None:
    schema = json.loads((schemas_dir() / "rule.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    ids: Counter[str] = Counter()
    for path in RULE_FILES:
        value, _ = parse_yaml(path.read_text(encoding="utf-8"))
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(value)]
        assert errors == [], path
        assert path.stem == value["id"], path
        ids[value["id"]] += 1
    assert RULE_FILES
    assert [i for i, n in ids.items() if n > 1] == []


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.id)
def test_rule_is_complete(rule: Rule) -> None:
    assert rule.clause.ref.strip() and rule.clause.text.strip()
    assert rule.clause.source == "seeds/000_2c570de354c655da.txt"
    expects = {ex.expect for ex in rule.examples}
    assert {"pass", "fail"} <= expects
    assert rule.remediation.strip() and rule.title.strip() and rule.description.strip()


def test_every_clause_ref_is_in_the_clause_list() -> None:
    refs = {c.ref for c in load_clauses(policies_dir() / "clauses.yaml")}
    unknown = [(r.id, ref) for r in catalogue().rules for ref in rule_refs(r) if ref not in refs]
    assert unknown == []


def test_every_quote_matches_a_clause() -> None:
    """A rule citing an item split into several clauses quotes the one it enforces."""
    coverage = compute(load_clauses(policies_dir() / "clauses.yaml"), catalogue().rules)
    assert list(coverage.unmatched) == []


def test_every_control_is_enforced() -> None:
    if not CONTROLS.is_file():
        pytest.skip(f"{CONTROLS} not found: clone shared/ beside the repository")
    wanted = control_ids(CONTROLS.read_text(encoding="utf-8"))
    assert len(wanted) > 50  # the parser still reads the tables
    rules = catalogue().rules
    enforced = {r.control for r in rules}
    assert [c for c in wanted if c not in enforced] == []
    # And the other way round: every fact-checking rule traces to a control of the list.
    strays = [(r.id, r.control) for r in rules if not is_attestation(r) and r.control not in wanted]
    assert strays == []


@pytest.mark.parametrize("rule", _rules(), ids=lambda r: r.id)
def test_rule_examples(rule: Rule) -> None:
    results = run_examples([rule], catalogue().params)
    assert results, "no examples"
    assert [f"{r.kind}[{r.index}]: {r.detail}" for r in results if not r.ok] == []
