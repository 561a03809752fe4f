"""Which clause of the security policy is checked by which rule, and which is not.

The clause list (policies/clauses.yaml) is the seed's obligations, quoted; the trace is
computed from each rule's own `clause` (ref and quoted text), so a rule that is added,
removed or re-pointed changes the coverage without anyone editing a table.

Several clauses may share a ref (CONTROLS.md splits Annex III, item 1 into six
obligations, all `III-G§1`). A rule citing such a ref covers the clause whose words it
quotes: the clause text containing the rule's quote (or contained in it), else the clause
sharing most of the quote's words. A quote that matches none is reported, not guessed.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zenpolicy.errors import InputError
from zenpolicy.inventory.loader import LoadError, load_file
from zenpolicy.model import Location, Problem
from zenpolicy.rules import ast
from zenpolicy.rules.model import Rule

ATTESTATION_KIND = "attestation"
"""Rules reading this resource kind check a human statement, not a fact: shown apart."""

_MIN_SHARE = 0.5
"""Fallback match: at least half of the quote's words must be in the clause."""

_STOPWORDS = frozenset(
    [
        "les",
        "des",
        "une",
        "aux",
        "pour",
        "sur",
        "par",
        "dans",
        "est",
        "sont",
        "qui",
        "que",
        "avec",
        "ainsi",
        "leur",
        "leurs",
        "ces",
        "cette",
        "tout",
        "toute",
        "tous",
        "their",
        "the",
        "and",
    ]
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseEntry:
    """One obligation of the policy, as quoted in policies/clauses.yaml."""

    ref: str
    """As CONTROLS.md writes it: `III-G§1`, `III-S§4`, `DPA 5.2`, `Annex II`."""
    text: str
    """The seed's own (French) words."""
    location: Location
    """Where the entry is in clauses.yaml."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ClauseCoverage:
    clause: ClauseEntry
    rules: tuple[str, ...]
    """IDs of rules checking an inventory fact for this clause."""
    attestations: tuple[str, ...]
    """IDs of rules checking an attestation for this clause."""

    @property
    def covered(self) -> bool:
        return bool(self.rules or self.attestations)


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    clauses: tuple[ClauseCoverage, ...]
    """In the order of clauses.yaml."""
    unmatched: tuple[tuple[str, str], ...]
    """(rule ID, ref) for each rule citing a ref it covers nothing under."""

    @property
    def uncovered(self) -> tuple[ClauseCoverage, ...]:
        return tuple(c for c in self.clauses if not c.covered)


def load_clauses(path: Path) -> tuple[ClauseEntry, ...]:
    """Read the clause list; raises InputError (exit 2) when it is malformed."""
    shown = path.as_posix()
    try:
        doc = load_file(path, shown)
    except LoadError as exc:
        raise InputError([exc.problem], what="clause list") from None
    problems: list[Problem] = []
    entries: list[ClauseEntry] = []
    if not isinstance(doc.value, list):
        raise InputError(
            [
                Problem(
                    location=Location(path=shown, line=1, column=1),
                    message="expected a list of {ref, text} entries",
                )
            ],
            what="clause list",
        )
    for i, item in enumerate(doc.value):
        line, col = doc.source_map.get((i,)) or (1, 1)
        where = Location(path=shown, line=line, column=col)
        if (
            not isinstance(item, dict)
            or set(item) != {"ref", "text"}
            or not all(isinstance(item[k], str) and item[k].strip() for k in ("ref", "text"))
        ):
            problems.append(
                Problem(location=where, message="an entry has exactly a non-empty `ref` and `text`")
            )
            continue
        entries.append(ClauseEntry(ref=_norm_ref(item["ref"]), text=item["text"].strip(), location=where))
    if problems:
        raise InputError(problems, what="clause list")
    return tuple(entries)


def _norm_ref(ref: str) -> str:
    return re.sub(r"\s*§\s*", "§", " ".join(ref.split()))


def rule_refs(rule: Rule) -> tuple[str, ...]:
    """A rule's clause refs: `III-G§10, III-S§6` cites two; a remark in parentheses, as
    in CONTROLS.md's `III-S§4 (evidence)`, is not part of the ref."""
    refs = re.sub(r"\([^)]*\)", "", rule.clause.ref)
    return tuple(_norm_ref(r) for r in re.split(r"[,;]", refs) if r.strip())


def is_attestation(rule: Rule) -> bool:
    """A rule on attestations, or one requiring that an attestation exists (the usual
    form: `resource: inventory` with `exists: {kind: attestation, ...}`)."""
    if rule.resource == ATTESTATION_KIND:
        return True
    return any(
        isinstance(node, ast.ExistsKind | ast.Referrers) and node.kind == ATTESTATION_KIND
        for node in ast.walk(rule.require)
    )


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    return re.findall(r"\w+", text)


def _content(words: list[str]) -> set[str]:
    return {w for w in words if len(w) >= 3 and w not in _STOPWORDS}


def _contains(outer: list[str], inner: list[str]) -> bool:
    return bool(inner) and f" {' '.join(inner)} " in f" {' '.join(outer)} "


_ELISION = re.compile(r"\[(?:…|\.\.\.)\]")
"""Rules quote several passages joined by `[…]` (`Double authentification … […] Règles …`)."""


def _fragments(quote: str) -> list[list[str]]:
    return [words for part in _ELISION.split(quote) if (words := _words(part))]


def _fragment_matches(fragment: list[str], candidates: Sequence[ClauseEntry]) -> list[ClauseEntry]:
    direct = [
        c for c in candidates if _contains(_words(c.text), fragment) or _contains(fragment, _words(c.text))
    ]
    if direct:
        return direct
    content = _content(fragment)
    if not content:
        return []
    shares = [(len(content & _content(_words(c.text))) / len(content), c) for c in candidates]
    best = max(share for share, _ in shares)
    return [c for share, c in shares if share == best] if best >= _MIN_SHARE else []


def _matching(quote: str, candidates: Sequence[ClauseEntry]) -> list[ClauseEntry]:
    """The clauses among `candidates` (same ref) that a rule quoting `quote` covers."""
    if len(candidates) <= 1:
        return list(candidates)
    hits = [c for fragment in _fragments(quote) for c in _fragment_matches(fragment, candidates)]
    return [c for c in candidates if any(c is h for h in hits)]


def compute(clauses: Sequence[ClauseEntry], rules: Sequence[Rule]) -> Coverage:
    by_ref: dict[str, list[ClauseEntry]] = {}
    for clause in clauses:
        by_ref.setdefault(clause.ref, []).append(clause)
    # Entries are told apart by position: two may legitimately share ref and text.
    index = {id(c): i for i, c in enumerate(clauses)}
    facts: list[list[str]] = [[] for _ in clauses]
    attested: list[list[str]] = [[] for _ in clauses]
    unmatched: list[tuple[str, str]] = []
    for rule in sorted(rules, key=lambda r: r.id):
        for ref in rule_refs(rule):
            hits = _matching(rule.clause.text, by_ref.get(ref, []))
            if not hits:
                unmatched.append((rule.id, ref))
            for clause in hits:
                target = attested if is_attestation(rule) else facts
                target[index[id(clause)]].append(rule.id)
    return Coverage(
        clauses=tuple(
            ClauseCoverage(clause=c, rules=tuple(facts[i]), attestations=tuple(attested[i]))
            for i, c in enumerate(clauses)
        ),
        unmatched=tuple(unmatched),
    )


def to_dict(coverage: Coverage) -> dict[str, Any]:
    return {
        "clauses": [
            {
                "ref": c.clause.ref,
                "text": c.clause.text,
                "rules": list(c.rules),
                "attestations": list(c.attestations),
                "covered": c.covered,
            }
            for c in coverage.clauses
        ],
        "total": len(coverage.clauses),
        "uncovered": len(coverage.uncovered),
        "unmatched_rules": [{"rule_id": rid, "ref": ref} for rid, ref in coverage.unmatched],
    }


def render_text(coverage: Coverage) -> str:
    width = max((len(c.clause.ref) for c in coverage.clauses), default=0)
    indent = " " * (width + 4)
    lines: list[str] = []
    for c in coverage.clauses:
        text = " ".join(c.clause.text.split())
        wrapped = textwrap.wrap(
            text, width=100, initial_indent=f"  {c.clause.ref:<{width}}  ", subsequent_indent=indent
        )
        lines += wrapped
        if c.rules:
            lines.append(f"{indent}rules: {', '.join(c.rules)}")
        if c.attestations:
            lines.append(f"{indent}attestations: {', '.join(c.attestations)}")
        if not c.covered:
            lines.append(f"{indent}UNCOVERED: no rule quotes this clause")
    for rule_id, ref in coverage.unmatched:
        lines.append(f"note: {rule_id} cites {ref} but quotes none of its clauses in clauses.yaml")
    total = len(coverage.clauses)
    only_att = sum(1 for c in coverage.clauses if c.attestations and not c.rules)
    lines.append(
        f"{total - len(coverage.uncovered)} of {total} clauses covered "
        f"({only_att} by attestations only); {len(coverage.uncovered)} uncovered"
    )
    return "\n".join(lines) + "\n"
