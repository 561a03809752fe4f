"""`zenpolicy coverage`: the clause list, the matching of rules to clauses, the command."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_cli_check import zenpolicy

from zenpolicy.coverage import ClauseEntry, compute, load_clauses, render_text, rule_refs, to_dict
from zenpolicy.errors import InputError
from zenpolicy.model import Clause, Location, Severity
from zenpolicy.resources import policies_dir
from zenpolicy.rules import ast
from zenpolicy.rules.model import Rule

ROOT = Path(__file__).parents[1]
HERE = Location(path="clauses.yaml", line=1, column=1)


def rule(rule_id: str, ref: str, text: str, resource: str = "account") -> Rule:
    return Rule(
        id=rule_id,
        control="X",
        title="t",
        description="d",
        severity=Severity.LOW,
        domain="test",
        resource=resource,
        where=None,
        require=ast.parse_condition({"path": "a", "exists": True}),
        message="m",
        clause=Clause(source="seed", ref=ref, text=text),
        frameworks={},
        params=(),
        remediation="r",
        examples=(),
        source=Location(path=f"{rule_id}.yaml"),
    )


CLAUSES = (
    ClauseEntry(
        ref="III-G§1", text="Login et mot de passe unique attribués à chaque utilisateur.", location=HERE
    ),
    ClauseEntry(ref="III-G§1", text="Double authentification activée sur Office 365.", location=HERE),
    ClauseEntry(
        ref="III-G§1", text="Règles renforcées pour les mots de passe administrateurs.", location=HERE
    ),
    ClauseEntry(
        ref="III-G§10", text="Mesures de chiffrement : utilisation de serveurs chiffrés.", location=HERE
    ),
    ClauseEntry(ref="III-S§9", text="Le logiciel intègre les principes de Privacy by Design.", location=HERE),
)


@pytest.mark.parametrize(
    ("ref", "text", "covered"),
    [
        # The exact bullet.
        ("III-G§1", "Double authentification activée sur Office 365.", [1]),
        # Part of a bullet, differently spaced and cased.
        ("III-G§1", "double  authentification activée", [1]),
        # Two passages joined by an elision cover both bullets.
        ("III-G§1", "Double authentification activée sur Office 365. […] Règles renforcées pour les "
                    "mots de passe administrateurs.", [1, 2]),
        # A paraphrase sharing most words falls back to the closest bullet.
        ("III-G§1", "Login unique attribué à chaque utilisateur", [0]),
        # A ref with one clause: any quote covers it.
        ("III-G§10", "serveurs chiffrés", [3]),
        ("III-G§10", "anything at all", [3]),
        # Two refs in one rule.
        ("III-G§10, III-S§9", "Privacy by Design", [3, 4]),
        # A quote matching no bullet of its ref covers nothing (and is reported).
        ("III-G§1", "Sauvegardes quotidiennes", []),
        # An unknown ref covers nothing.
        ("DPA 9.9", "Double authentification activée sur Office 365.", []),
    ],
)  # fmt: skip
def test_matching(ref: str, text: str, covered: list[int]) -> None:
    result = compute(CLAUSES, [rule("R-1", ref, text)])
    assert [i for i, c in enumerate(result.clauses) if c.rules] == covered
    expected_unmatched = [r for r in rule_refs(rule("R-1", ref, text)) if not any(
        c.clause.ref == r and c.rules for c in result.clauses)]  # fmt: skip
    assert [ref for _, ref in result.unmatched] == expected_unmatched


def test_attestations_are_listed_apart() -> None:
    result = compute(
        CLAUSES,
        [rule("ATT-01", "III-S§9", "Privacy by Design", resource="attestation"), rule("AUTH-04", "III-G§1", "Double authentification")],
    )  # fmt: skip
    data = to_dict(result)
    assert data["clauses"][4] == {
        "ref": "III-S§9",
        "text": "Le logiciel intègre les principes de Privacy by Design.",
        "rules": [],
        "attestations": ["ATT-01"],
        "covered": True,
    }
    assert data["clauses"][1]["rules"] == ["AUTH-04"]
    assert (data["total"], data["uncovered"]) == (5, 3)
    text = render_text(result)
    assert "  III-S§9   Le logiciel intègre les principes de Privacy by Design.\n" in text
    assert "            attestations: ATT-01\n" in text
    assert text.endswith("2 of 5 clauses covered (1 by attestations only); 3 uncovered\n")


def test_refs_are_normalised() -> None:
    assert rule_refs(rule("R", "III-G §1 ;  DPA  5.2", "x")) == ("III-G§1", "DPA 5.2")
    assert rule_refs(rule("R", "III-S§4 (evidence), III-G§4", "x")) == ("III-S§4", "III-G§4")


def test_builtin_clause_list_is_well_formed() -> None:
    clauses = load_clauses(policies_dir() / "clauses.yaml")
    refs = {c.ref for c in clauses}
    # Every item of Annex III, the DPA articles with technical measures, and Annexes I-II.
    expected = {f"III-G§{n}" for n in range(1, 16)} | {f"III-S§{n}" for n in range(1, 10)}
    expected |= {"DPA 3.2", "DPA 3.3", "DPA 3.5", "DPA 3.6", "DPA 5.2", "Annex I", "Annex II"}
    assert refs == expected
    # CONTROLS.md splits III-G§1 into six obligations, III-G§5 into six.
    assert sum(c.ref == "III-G§1" for c in clauses) == 6
    assert sum(c.ref == "III-G§5" for c in clauses) == 6
    assert len({(c.ref, c.text) for c in clauses}) == len(clauses)


def test_builtin_clauses_quote_the_seed() -> None:
    seed = Path(__file__).parents[2] / "shared" / "seeds" / "000_2c570de354c655da.txt"
    if not seed.is_file():
        pytest.skip("../shared is not beside the repository")

    def words(text: str) -> str:
        return " " + " ".join(re.findall(r"\w+", text.casefold())) + " "

    source = words(seed.read_text(encoding="utf-8"))
    for clause in load_clauses(policies_dir() / "clauses.yaml"):
        # Each sentence is the seed's, word for word; only punctuation and bullets differ.
        for sentence in re.split(r"(?<=[.;]) ", clause.text):
            assert words(sentence) in source, (clause.ref, sentence)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- ref: III-G§1\n", "clauses.yaml:1:3: an entry has exactly a non-empty `ref` and `text`"),
        (
            "- {ref: X, text: '', extra: 1}\n",
            "clauses.yaml:1:3: an entry has exactly a non-empty `ref` and `text`",
        ),
        ("ref: X\n", "clauses.yaml:1:1: expected a list of {ref, text} entries"),
    ],
)
def test_malformed_clause_list(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "clauses.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_clauses(path)
    assert [str(p).replace(tmp_path.as_posix() + "/", "") for p in info.value.problems] == [message]


@pytest.mark.parametrize(
    ("clauses", "code"),
    [
        ("- {ref: III-G§1, text: Renouvellement des mots de passe une fois par mois.}\n", 0),
        ("- {ref: III-G§1, text: Renouvellement des mots de passe une fois par mois.}\n"
         "- {ref: DPA 9.9, text: Une clause que rien ne couvre.}\n", 1),
    ],
)  # fmt: skip
def test_command_exit_code_and_json(tmp_path: Path, clauses: str, code: int) -> None:
    path = tmp_path / "clauses.yaml"
    path.write_text(clauses, encoding="utf-8")
    proc = zenpolicy("coverage", "--clauses", str(path), "--format", "json")
    assert proc.returncode == code, proc.stderr
    data = json.loads(proc.stdout)
    # The only III-G§1 clause here: every rule citing III-G§1 covers it.
    assert {"AUTH-01a", "AUTH-03a", "AUTH-06"} <= set(data["clauses"][0]["rules"])
    assert data["uncovered"] == code


def test_command_on_the_builtin_catalogue() -> None:
    proc = zenpolicy("coverage")
    last = re.fullmatch(
        r"(\d+) of (\d+) clauses covered \((\d+) by attestations only\); (\d+) uncovered",
        proc.stdout.splitlines()[-1],
    )
    assert last is not None, proc.stdout[-300:]
    covered, total, _, uncovered = map(int, last.groups())
    assert covered + uncovered == total == len(load_clauses(policies_dir() / "clauses.yaml"))
    assert proc.stdout.count("UNCOVERED") == uncovered
    assert proc.returncode == (1 if uncovered else 0)
