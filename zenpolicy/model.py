"""The values that flow between zenpolicy's stages.

Every value here is a frozen, keyword-only dataclass: stages hand them to each other and
formatters render them, nobody mutates them.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, groupby, islice, repeat
from operator import attrgetter, is_, itemgetter, le, lt
from typing import Any


class Severity(enum.IntEnum):
    """How bad a failing finding is; ordered so `--fail-on` can compare."""

    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.upper()]

    def __str__(self) -> str:
        return self.name.lower()


class Status(enum.StrEnum):
    """The outcome of one rule on one subject."""

    PASS = "pass"  # noqa: S105 - a status, not a password
    FAIL = "fail"
    ERROR = "error"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class Location:
    """A place in an input file; line and column are 1-based (converted once, at load)."""

    path: str
    """File path, relative to the inventory root where possible, with `/` separators."""
    line: int = 0
    """1-based line; 0 when the location is a whole file or directory."""
    column: int = 0
    """1-based column; 0 when unknown."""

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{self.column}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column}


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with the input (a file, a schema violation, a reference)."""

    location: Location
    """Where the problem is."""
    message: str
    """One line, saying what was expected."""
    code: str = "invalid"
    """A stable short name for the kind of problem (`yaml-syntax`, `unknown-attribute`...)."""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Clause:
    """The sentence of the security policy a rule enforces."""

    source: str
    """The seed file the clause comes from."""
    ref: str
    """The clause reference, as in CONTROLS.md (`III-G§1`, `DPA 5.2`)."""
    text: str
    """The clause's own words."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One leaf test of a rule, as evaluated on one subject: the finding's evidence."""

    test: str
    """The test written back as text (`age(password_changed_on) <= password_rotation`)."""
    actual: Any
    """The value read (seconds for ages and durations, a count for relations)."""
    expected: Any
    """The resolved right-hand side."""
    result: bool
    """Whether the test held."""

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.test, "actual": self.actual, "expected": self.expected, "result": self.result}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """The outcome of one rule on one subject (a resource, or the inventory)."""

    rule_id: str
    """The rule's stable ID."""
    address: str
    """The subject's address (`kind.name`), or `inventory` for organisation-wide rules."""
    status: Status
    """pass, fail, error or not_applicable."""
    severity: Severity
    """The rule's severity."""
    location: Location
    """Where to look: the attribute the failing test read, else the resource."""
    message: str
    """What is wrong (for a failure or error) or what was checked (for a pass)."""
    evidence: tuple[Check, ...] = ()
    """The leaf tests with the values they read."""

    @property
    def fingerprint(self) -> str:
        """A stable identity across runs: rule and subject, not line numbers or values.

        Baselines and waivers key on it, so moving a resource to another file or line
        does not make an accepted finding new again.
        """
        return fingerprints((self,))[0]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "address": self.address,
            "status": str(self.status),
            "severity": str(self.severity),
            "location": self.location.to_dict(),
            "message": self.message,
            "evidence": [c.to_dict() for c in self.evidence],
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleInfo:
    """What a report says about a rule (the rule's metadata, without its logic)."""

    id: str
    control: str
    title: str
    severity: Severity
    domain: str
    clause: Clause
    remediation: str
    frameworks: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class InputFile:
    """One file that was read, with its content hash: the exact inputs checked."""

    path: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    """Everything a formatter needs, and nothing it must compute."""

    tool_version: str
    as_of: str
    """The evaluation date (or date-time) as given."""
    engine: str
    """`native` or `opa`."""
    inventory: str
    """The inventory root as given on the command line."""
    inputs: tuple[InputFile, ...]
    params: dict[str, Any]
    """The parameter values used, after overrides."""
    rules: tuple[RuleInfo, ...]
    findings: tuple[Finding, ...]
    """Sorted: status, then rule, then address (see `sort_findings`)."""
    resources: int = 0
    """How many resources the inventory declares (checked or not)."""
    generated_at: str | None = None
    """The one non-deterministic field, marked as such in every format; None omits it."""

    def counts(self) -> dict[str, int]:
        tally = Counter(map(attrgetter("status"), self.findings))  # C loops: 350k findings at 100k
        return {str(s): tally[s] for s in Status}

    def tally(self) -> Tally:
        return Tally.of(self.findings)


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """What the summary line and the exit code need of a run's findings, without the
    findings: a report rendered where it was evaluated (zenpolicy/sharded.py) brings
    back one per process, merged here."""

    counts: dict[str, int]
    """Findings by status (every status, zeros included)."""
    worst_failure: Severity | None
    errors: bool
    subjects: frozenset[str]
    """The addresses findings are about (`inventory` included)."""

    @classmethod
    def of(cls, findings: Iterable[Finding], *, passed: Collection[str] = ()) -> Tally:
        """The tally of `findings`, and of passing findings that were never built
        (`passed`: their subjects' addresses, one per finding)."""
        findings = findings if isinstance(findings, list | tuple) else list(findings)
        by_status = Counter(map(attrgetter("status"), findings))  # C loops: 350k findings at 100k
        by_status[Status.PASS] += len(passed)
        kinds = set(map(attrgetter("status", "severity"), findings))
        return cls(
            counts={str(s): by_status[s] for s in Status},
            worst_failure=max((sev for status, sev in kinds if status is Status.FAIL), default=None),
            errors=any(status is Status.ERROR for status, _ in kinds),
            subjects=frozenset(map(attrgetter("address"), findings)).union(passed),
        )

    def to_plain(self) -> tuple[dict[str, int], int | None, bool, list[str]]:
        """Built-in values (for marshal, from a forked process); `from_plain` reverses.
        The subjects go as a list in no particular order: marshal writes 66k strings
        (100k resources) in 9 ms as a list, 23 ms sorted, 65 ms as a frozenset."""
        worst = None if self.worst_failure is None else int(self.worst_failure)
        return self.counts, worst, self.errors, list(self.subjects)

    @classmethod
    def from_plain(cls, plain: tuple[dict[str, int], int | None, bool, list[str]]) -> Tally:
        counts, worst, errors, subjects = plain
        return cls(
            counts=dict(counts),
            worst_failure=None if worst is None else Severity(worst),
            errors=bool(errors),
            subjects=frozenset(subjects),
        )

    def merge(self, other: Tally) -> Tally:
        worst = [s for s in (self.worst_failure, other.worst_failure) if s is not None]
        return Tally(
            counts={name: n + other.counts.get(name, 0) for name, n in self.counts.items()},
            worst_failure=max(worst, default=None),
            errors=self.errors or other.errors,
            subjects=self.subjects | other.subjects,
        )


_STATUS_ORDER = {Status.ERROR: 0, Status.FAIL: 1, Status.PASS: 2, Status.NOT_APPLICABLE: 3}


BlockKey = tuple[int, int, str]
"""A block's place in the report: its status's rank, minus its severity, its rule."""


def block_key(status: Status, severity: Severity, rule_id: str) -> BlockKey:
    """The key of the block of `rule_id`'s findings of `status` (see `blocks`)."""
    return (_STATUS_ORDER[status], -severity, rule_id)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """The one ordering every report uses, so outputs are byte-identical across runs:
    status (error, fail, pass, not applicable), severity (highest first), rule ID,
    address; findings equal in all four keep their order."""
    return tuple(chain.from_iterable(run for _, run in blocks(findings)))


def blocks(findings: Iterable[Finding]) -> list[tuple[BlockKey, list[Finding]]]:
    """`sort_findings`' order as its blocks: the findings of one (status, severity,
    rule), each block's in address order, the blocks in report order.

    The engines give a rule's findings together and in address order (a kind's
    resources are sorted by address), so this groups runs and splits them by status
    instead of sorting. For the 320k findings of a 100k-resource estate, rule by rule
    (the forked JSON report's path): 0.08 s, against 0.13 s for a sort by the four
    keys then a grouping by three. Any other input comes out the same, through the
    sorts below (tests/test_model_order.py)."""
    found: dict[BlockKey, list[Finding]] = {}
    for (rule_id, severity), group in groupby(findings, key=_RULE_SEVERITY):
        run = list(group)
        statuses = list(map(_STATUS, run))
        first = statuses[0]
        if statuses.count(first) == len(statuses):
            parts = [(first, run)]
        else:
            parts = [
                (status, list(compress(run, map(is_, statuses, repeat(status))))) for status in set(statuses)
            ]
        for status, part in parts:
            key = block_key(status, severity, rule_id)
            if key in found:
                found[key] += part  # the rule's findings came in several runs
            else:
                found[key] = part
    out = sorted(found.items(), key=_KEY)
    for _, run in out:
        if not ascending(list(map(_ADDRESS, run))):
            run.sort(key=_ADDRESS)  # stable, as the sort by four keys was
    return out


_RULE_SEVERITY = attrgetter("rule_id", "severity")
_RULE_ID = attrgetter("rule_id")
_STATUS = attrgetter("status")
_ADDRESS = attrgetter("address")
_KEY = itemgetter(0)


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    """Each finding's `fingerprint` (see `rule_fingerprints`), computed for a whole
    chunk of a report at once (a property call per finding cost a third of it); a
    chunk's findings are mostly of one rule."""
    out: list[str] = []
    for rule_id, group in groupby(findings, key=_RULE_ID):
        out += rule_fingerprints(rule_id, map(_ADDRESS, group))
    return out


def rule_fingerprints(rule_id: str, addresses: Iterable[str]) -> list[str]:
    """The fingerprints of findings of one rule, from their addresses: the first 16 hex
    digits of the SHA-256 of the rule ID, a NUL and the address. The one definition."""
    sha, prefix = hashlib.sha256, f"{rule_id}\0"
    return [sha((prefix + address).encode()).hexdigest()[:16] for address in addresses]


def ascending(values: Sequence[str], *, strict: bool = False) -> bool:
    """Whether `values` are in order (equal neighbours allowed unless `strict`), in one
    C-level pass."""
    return all(map(lt if strict else le, values, islice(values, 1, None)))


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no incidental whitespace: for hashes and caches."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
