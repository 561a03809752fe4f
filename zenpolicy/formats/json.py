"""The JSON report: the whole `Report`, deterministic, described by schemas/report.schema.json.

Byte-identical reruns are a promise (CI diffs reports, caches key on them): keys are
sorted, list orders come from the report (findings from `sort_findings`, rules by ID,
inputs by path), and the one clock-dependent field, `generated_at`, appears only when
the user asks for it.

The bytes are those of the reference, `json.dumps(value, indent=2, sort_keys=True,
ensure_ascii=False) + "\\n"`, written faster: orjson renders the same text in C (the
standard library's `indent` makes it fall back to its pure-Python encoder: 9.4 s for
the 353,000 findings of a 100k-resource estate, against 0.3 s). orjson writes some
values differently: a float in exponent form (`1e-7`, not `1e-07`), NaN and infinities
(`null`), integers beyond 64 bits (an error). Whatever holds such a value, or any type
other than str, int, float, bool, None, list, tuple and dict with str keys, is rendered
by the reference encoder instead: a chunk of findings, or the report's head.

The report is produced in chunks (`stream`), findings a few thousand at a time, so that
writing it never holds the whole text (about 195 MB at 100k resources) nor one dict per
finding at once.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import orjson

from zenpolicy import parallel
from zenpolicy.gcpause import paused_gc
from zenpolicy.model import (
    Check,
    Finding,
    Location,
    Report,
    RuleInfo,
    Severity,
    Status,
    fingerprints,
    rule_fingerprints,
)

if TYPE_CHECKING:
    from zenpolicy.formats import RenderOptions

REPORT_VERSION = 1
"""Bumped when a consumer of the JSON would have to change (a key renamed or removed)."""

CHUNK = 2048
"""Findings rendered at a time (about 1.3 MB of JSON)."""

_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
_SEVERITY = {s: str(s) for s in Severity}
_STATUS = {s: str(s) for s in Status}
_PLAIN = frozenset({str, int, bool, type(None)})
"""Types orjson writes exactly as the reference does (an int beyond 64 bits raises)."""
_FINDINGS_KEY = b'\n  "findings": []'
_CHUNK_HEAD = b'{\n  "findings": [\n'
_CHUNK_TAIL = b"\n  ]\n}"


def rule_to_dict(rule: RuleInfo) -> dict[str, Any]:
    return {
        "id": rule.id,
        "control": rule.control,
        "title": rule.title,
        "severity": str(rule.severity),
        "domain": rule.domain,
        "clause": {"source": rule.clause.source, "ref": rule.clause.ref, "text": rule.clause.text},
        "frameworks": {name: list(refs) for name, refs in rule.frameworks.items()},
        "remediation": rule.remediation,
    }


def report_to_dict(
    report: Report, *, findings: bool = True, counts: dict[str, int] | None = None
) -> dict[str, Any]:
    """The whole report as JSON values (`findings=False`: with an empty findings list;
    `counts`: the findings' counts, when they are not in `report`)."""
    out: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "tool_version": report.tool_version,
        "as_of": report.as_of,
        "engine": report.engine,
        "inventory": report.inventory,
        "inputs": [{"path": i.path, "sha256": i.sha256} for i in report.inputs],
        "resources": report.resources,
        "params": dict(report.params),
        "rules": [rule_to_dict(r) for r in report.rules],
        "findings": [f.to_dict() for f in report.findings] if findings else [],
        "counts": report.counts() if counts is None else counts,
    }
    if report.generated_at is not None:
        out["generated_at"] = report.generated_at
    return out


def exact(value: Any) -> bool:
    """Whether orjson writes `value` exactly as the reference encoder does."""
    kind = type(value)
    if kind in _PLAIN:
        return kind is not int or -(2**63) <= value < 2**64
    if kind is float:
        # The reference writes repr(); orjson agrees except for some exponents, NaN, inf.
        return orjson.dumps(value) == float.__repr__(value).encode()
    if kind is list or kind is tuple:
        return all(exact(v) for v in value)
    if kind is dict:
        return all(type(k) is str and exact(v) for k, v in value.items())
    return False


def _reference(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _encode(value: Any, *, is_exact: bool | None = None) -> bytes:
    """`value` as indented JSON, UTF-8, without the final newline. `is_exact`: what
    `exact(value)` would say, when the caller knows it."""
    if exact(value) if is_exact is None else is_exact:
        # orjson still refuses an integer beyond 64 bits, or a string with a lone
        # surrogate: then the reference encoder decides.
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(value, option=_OPTIONS)
    return _reference(value).encode("utf-8")


def dumps(value: Any) -> str:
    """The one JSON style of every zenpolicy output: sorted, indented, UTF-8, final newline."""
    if exact(value):
        with contextlib.suppress(orjson.JSONEncodeError):
            return orjson.dumps(value, option=_OPTIONS).decode("utf-8") + "\n"
    return _reference(value) + "\n"


class _Evidence:
    """The evidence of one chunk's findings as JSON values, each check and each
    evidence tuple turned into its dict or list once: the engine makes one check per
    distinct value of a rule's test, and one evidence tuple per distinct check of a
    one-leaf rule, and orjson writes the same dict or list wherever it appears."""

    __slots__ = ("listed", "odd", "shown")

    def __init__(self) -> None:
        self.shown: dict[int, dict[str, Any]] = {}
        """id() of a check of this chunk -> its dict (the checks are alive meanwhile)."""
        self.listed: dict[int, list[dict[str, Any]]] = {}
        """id() of an evidence tuple of this chunk -> its list (alive meanwhile)."""
        self.odd: list[Any] = []
        """The checks' values of other types than str, int, bool and None."""

    def of(self, checks: tuple[Check, ...]) -> list[dict[str, Any]]:
        """The list for `checks`, the first time it is seen (then `listed` has it)."""
        shown, odd = self.shown, self.odd
        made: list[dict[str, Any]] = []
        for c in checks:
            one = shown.get(id(c))
            if one is None:
                one = shown[id(c)] = {
                    "actual": c.actual,
                    "expected": c.expected,
                    "result": c.result,
                    "test": c.test,
                }
                odd.extend(v for v in (c.actual, c.expected) if type(v) not in _PLAIN)
            made.append(one)
        self.listed[id(checks)] = made
        return made


def _findings(findings: Sequence[Finding]) -> bytes:
    """Findings as the items of the report's `findings` array: each object indented by
    four spaces, separated by `,\\n`, without the brackets. Equal, finding by finding, to
    `Finding.to_dict` (tests/test_formats_json.py), without its method calls."""
    severity, status = _SEVERITY, _STATUS
    evidence = _Evidence()
    listed, of = evidence.listed, evidence.of
    with paused_gc():
        items = [
            {
                "address": f.address,
                "evidence": listed.get(id(f.evidence)) or of(f.evidence),
                "fingerprint": fingerprint,
                "location": {"column": f.location.column, "line": f.location.line, "path": f.location.path},
                "message": f.message,
                "rule_id": f.rule_id,
                "severity": severity[f.severity],
                "status": status[f.status],
            }
            for f, fingerprint in zip(findings, fingerprints(findings), strict=True)
        ]
        return _items_bytes(items, evidence)


def _passes(
    rule: RuleInfo,
    addresses: Sequence[str],
    locations: Sequence[Location],
    checks: Sequence[tuple[Check, ...]],
) -> bytes:
    """`_findings` of passing findings of `rule`, from what makes them: each one's
    address, location and evidence (its message is the rule's title). The same bytes,
    without a `Finding` built for each (sharded.py)."""
    severity, passed, title, rule_id = _SEVERITY[rule.severity], _STATUS[Status.PASS], rule.title, rule.id
    evidence = _Evidence()
    listed, of = evidence.listed, evidence.of
    with paused_gc():
        items = [
            {
                "address": address,
                "evidence": listed.get(id(found)) or of(found),
                "fingerprint": fingerprint,
                "location": {"column": at.column, "line": at.line, "path": at.path},
                "message": title,
                "rule_id": rule_id,
                "severity": severity,
                "status": passed,
            }
            for address, at, found, fingerprint in zip(
                addresses, locations, checks, rule_fingerprints(rule_id, addresses), strict=True
            )
        ]
        return _items_bytes(items, evidence)


def _items_bytes(items: list[dict[str, Any]], evidence: _Evidence) -> bytes:
    # Rendered as the value of a top-level key, the items get the indentation they
    # have in the report; the framing is cut off below.
    wrapper = {"findings": items}
    # The other fields are str, int and bool by construction; the evidence holds
    # what was read from the inventory and parameters.
    data = _encode(wrapper, is_exact=all(map(exact, evidence.odd)))
    del wrapper, items
    if not (data.startswith(_CHUNK_HEAD) and data.endswith(_CHUNK_TAIL)):
        raise AssertionError("unexpected framing of a findings chunk")
    return data[len(_CHUNK_HEAD) : -len(_CHUNK_TAIL)]


PARALLEL_MIN_FINDINGS = 50_000
"""Below this many findings, rendering in several processes saves less than it costs."""


def stream(report: Report, options: RenderOptions) -> Iterator[bytes]:
    """The report as UTF-8 chunks; joined, they are `dumps(report_to_dict(report))`.

    With `options.jobs`, forked processes render runs of findings meanwhile
    (`zenpolicy.parallel`); verbosity is a text-format concern (JSON has every finding).
    """
    findings = report.findings
    if not findings:
        yield _encode(report_to_dict(report, findings=False)) + b"\n"
        return
    starts = range(0, len(findings), CHUNK)
    jobs = parallel.effective_jobs(options.jobs) if len(findings) >= PARALLEL_MIN_FINDINGS else 1
    # Runs of whole chunks: a finding renders the same in any chunk, so the joined
    # runs are the serial text.
    runs = [[starts[i] for i in run] for run in parallel.split_evenly([1] * len(starts), jobs)]

    def items(run: list[int]) -> Iterator[bytes]:
        # A run starts on a chunk boundary: its chunks are the report's.
        if run[0]:
            yield b",\n"
        yield from render_items(findings[run[0] : run[-1] + CHUNK])

    def work(run: list[int], out: IO[bytes]) -> None:
        for data in items(run):
            out.write(data)

    yield from framed(report, None, parallel.in_order(work, runs, items))


def framed(report: Report, counts: dict[str, int] | None, items: Iterable[bytes]) -> Iterator[bytes]:
    """The report around its findings' `items` (at least one, as `_findings` renders
    them, `,\\n` between): the head (`counts` given, or the report's), then the items."""
    head = _encode(report_to_dict(report, findings=False, counts=counts)) + b"\n"
    before, found, after = head.partition(_FINDINGS_KEY)
    if not found:
        raise AssertionError("no findings key in the report's head")
    yield before + b'\n  "findings": [\n'
    yield from items
    yield b"\n  ]" + after


def render_items(findings: Sequence[Finding]) -> Iterator[bytes]:
    """`findings` as items of the report's `findings` array, `,\\n` between them."""
    for start in range(0, len(findings), CHUNK):
        if start:
            yield b",\n"
        yield _findings(findings[start : start + CHUNK])


def render_passes(
    rule: RuleInfo,
    addresses: Sequence[str],
    locations: Sequence[Location],
    checks: Sequence[tuple[Check, ...]],
) -> Iterator[bytes]:
    """`render_items` of passing findings of `rule` in address order, from each one's
    address, location and evidence (see `_passes`)."""
    for start in range(0, len(addresses), CHUNK):
        if start:
            yield b",\n"
        end = start + CHUNK
        yield _passes(rule, addresses[start:end], locations[start:end], checks[start:end])


def render(report: Report, options: RenderOptions) -> str:
    """The whole report as one string (`stream` joined)."""
    return b"".join(stream(report, options)).decode("utf-8")
