"""The native engine: each rule compiled to closures for the run, evaluated over the
indexed inventory. Cost is linear: a rule visits the resources of its kind, and
relations go through the reverse-reference index, never through a scan of the
inventory.

Checks yield, the engine annotates: predicates return verdicts and values; this module
attaches rule ID, severity, location and message to make findings.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import IO, Any

from zenpolicy import parallel
from zenpolicy.engines.compile import Env, Leaf, Pred, compile_leaf, compile_pred
from zenpolicy.engines.select import Select, selector
from zenpolicy.engines.sweep import Sweep, sweeper
from zenpolicy.gcpause import paused_gc
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.model import Check, Finding, Location, Severity, Status, Tally
from zenpolicy.rules import ast
from zenpolicy.rules.leaves import failure_location, leaf_path, top_leaves
from zenpolicy.rules.message import renderer
from zenpolicy.rules.model import INVENTORY, INVENTORY_ADDRESS, Rule
from zenpolicy.rules.timeutil import AsOf


@dataclass(frozen=True, slots=True)
class _TopLeaf:
    text: str
    fn: Leaf
    path: tuple[str, ...] | None
    """The subject's attribute the leaf reads (for the finding's location)."""
    check: Callable[[bool, Any, Any], tuple[Check]]
    """(result, actual, expected) -> `(this leaf's Check,)` (see `checker`)."""


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    where: Pred | None
    select: Select | None
    """The resources of the rule's kind its `where` selects, all at once (see
    engines/select.py); None: `where` is tested resource by resource."""
    leaves: tuple[_TopLeaf, ...]
    combine: Callable[[Sequence[bool]], bool]
    """The require tree's verdict from its top-level leaves' results."""
    message: Callable[[str, Mapping[str, Any], Sequence[Check]], str]
    """The failure message, from the address, the attributes and the evidence."""
    judge: Judge
    """The finding on one subject (see `judge`)."""
    sweep: Sweep | None = None
    """When passes are not built: its subjects -> (those that pass, every other), the
    passes' evidence added where the judge adds it (see engines/sweep.py)."""


Judge = Callable[["Resource | None", str, Mapping[str, Any], Location], "Finding | None"]
"""(resource or None for the inventory, address, attributes, location) -> finding, or
None for a pass that is not to be built (see `judge`)."""


def combiner(cond: ast.Condition) -> Callable[[Sequence[bool]], bool]:
    """The verdict of `cond` from its top leaves' results, in `top_leaves` order."""
    part = _combiner(cond, [0])
    return itemgetter(part) if isinstance(part, int) else part


def _combiner(cond: ast.Condition, counter: list[int]) -> int | Callable[[Sequence[bool]], bool]:
    """A leaf's index, or a function of the results. Every leaf is evaluated already
    (evidence lists them all), so there is nothing left to short-circuit: C-level
    `all`/`any` over the results picked at once."""
    if isinstance(cond, ast.All | ast.Any_):
        fold = all if isinstance(cond, ast.All) else any
        parts = [_combiner(c, counter) for c in cond.items]
        if len(parts) == 1:
            return parts[0]  # all([x]) and any([x]) are x for a boolean x
        indexes = [p for p in parts if isinstance(p, int)]
        if len(indexes) == len(parts) >= 2:
            pick = itemgetter(*indexes)
            return lambda results: fold(pick(results))
        funcs = [itemgetter(p) if isinstance(p, int) else p for p in parts]
        return lambda results: fold([f(results) for f in funcs])
    if isinstance(cond, ast.Not):
        inner_part = _combiner(cond.item, counter)
        get = itemgetter(inner_part) if isinstance(inner_part, int) else inner_part
        return lambda results: not get(results)
    index = counter[0]
    counter[0] += 1
    return index


def compile_rule(
    rule: Rule,
    env: Env,
    shown: Mapping[str, Any],
    *,
    passes: bool = True,
    evidence: list[tuple[Check, ...]] | None = None,
) -> CompiledRule:
    """The rule bound to this run. `passes`, `evidence`: whether its judge builds
    passing findings, and where it puts their evidence when it does not (see `judge`)."""
    leaves = tuple(
        _TopLeaf(text=text, fn=compile_leaf(leaf, env), path=leaf_path(leaf), check=checker(text))
        for leaf in top_leaves(rule.require)
        for text in (ast.describe(leaf),)
    )
    combine, message = combiner(rule.require), renderer(rule.message, shown)
    sweep = None
    if not passes and rule.resource != INVENTORY:
        sweep = sweeper(rule.require, [(leaf.fn, leaf.check) for leaf in leaves], env, evidence)
    return CompiledRule(
        rule=rule,
        where=None if rule.where is None else compile_pred(rule.where, env),
        select=None if rule.where is None else selector(rule.where, rule.resource, env),
        leaves=leaves,
        combine=combine,
        message=message,
        judge=judge(rule, leaves, combine, message, passes=passes, evidence=evidence),
        sweep=sweep,
    )


class NativeEngine:
    """Evaluates rules; `display_params` are the values as written, for messages."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)

    def evaluate(
        self,
        inventory: Inventory,
        *,
        as_of: AsOf,
        params: Mapping[str, Any],
        display_params: Mapping[str, Any] | None = None,
        jobs: int | None = 1,
    ) -> list[Finding]:
        findings, _ = self.evaluate_kept(
            inventory, as_of=as_of, params=params, display_params=display_params, jobs=jobs
        )
        return findings

    def evaluate_kept(
        self,
        inventory: Inventory,
        *,
        as_of: AsOf,
        params: Mapping[str, Any],
        display_params: Mapping[str, Any] | None = None,
        jobs: int | None = 1,
        keep: frozenset[Status] | None = None,
    ) -> tuple[list[Finding], Tally | None]:
        """The findings whose status is in `keep` (None: all), unsorted; with `keep`,
        also the `Tally` of all of them (a format that lists only failures still counts
        the passes). Evaluated in other processes, the findings not kept never travel."""
        shown = display_params if display_params is not None else params
        env = Env(inventory=inventory, as_of=as_of, params=params)
        rules = self.rules
        jobs = parallel.effective_jobs(jobs) if len(inventory) >= PARALLEL_MIN_RESOURCES else 1
        # Evaluation allocates hundreds of thousands of findings that all stay alive:
        # the cyclic collector would walk them again and again for nothing.
        with paused_gc():
            if jobs > 1:
                return _evaluate_sharded(rules, env, shown, jobs, keep)
            return _evaluate_kept(rules, env, shown, keep)


SWEEP_MIN = 256
"""Subjects from which a rule is swept (engines/sweep.py): its loop's code costs about
0.15 ms to make, what judging about 150 subjects one by one saves (the example
estate's rules have 0 to 40 subjects each)."""

PARALLEL_MIN_RESOURCES = 20_000
"""Below this many resources, evaluating in several processes saves less than it costs."""


def evaluate_rules(
    rules: Iterable[Rule],
    env: Env,
    shown: Mapping[str, Any],
    *,
    passed: list[str] | None = None,
    evidence: list[tuple[Check, ...]] | None = None,
    located: list[Location] | None = None,
) -> list[Finding]:
    """Every finding of `rules`, in this process (unsorted), taking one rule at a time
    (`rules` may be drawn from a `parallel.TaskQueue`). With `passed`, passing findings
    are not built: their subjects' addresses are added to it instead (a report listing
    failures only counts the passes: 298k of 319k findings at 100k resources, 1 us each
    to build), and with `evidence` and `located` too, each one's evidence and location
    to those, in the same order (a report rendering the passes of one rule needs no
    more: see sharded.py)."""
    findings: list[Finding] = []
    sink = [] if passed is None else passed
    for rule in rules:
        compiled = compile_rule(rule, env, shown, passes=passed is None, evidence=evidence)
        _evaluate_rule(compiled, env, findings, sink, located)
    return findings


def _evaluate_kept(
    rules: Iterable[Rule], env: Env, shown: Mapping[str, Any], keep: frozenset[Status] | None
) -> tuple[list[Finding], Tally | None]:
    """`NativeEngine.evaluate_kept` in this process: the findings of `rules` whose
    status is in `keep` (None: all, and no tally), and the tally of them all; passes
    not kept are counted, not built."""
    if keep is None:
        return evaluate_rules(rules, env, shown), None
    passed: list[str] | None = None if Status.PASS in keep else []
    findings = evaluate_rules(rules, env, shown, passed=passed)
    return [f for f in findings if f.status in keep], Tally.of(findings, passed=passed or ())


def largest_first(rules: Sequence[Rule], inventory: Inventory) -> list[int]:
    """The rules' indexes in the order processes take them from a `parallel.TaskQueue`:
    the most candidates first. A rule's cost per resource varies tenfold, so a split
    made in advance leaves one process working long after the other; taken one at a
    time, the largest first, they end about together. The rules on one kind come
    together: evaluated one after the other, they find its resources still in the
    processor's caches (the one-process JSON report, `sharded.json_report_serial`, at
    100k: its evaluate stage 1.065 -> 1.028 s against the catalogue's order, medians
    of 8 alternated runs; 1.054 -> 1.027 s in `bench/compare.py`'s 10 rounds, lower in
    7; the run's wall time within the noise)."""
    size = _candidates(rules, inventory)
    return sorted(range(len(rules)), key=lambda i: (-size[i], rules[i].resource, i))


def _candidates(rules: Sequence[Rule], inventory: Inventory) -> list[int]:
    """For each rule, how many subjects it may have: its kind's resources (1 for a rule
    on the whole inventory)."""
    return [1 if rule.resource == INVENTORY else len(inventory.kind(rule.resource)) for rule in rules]


def by_kind(rules: Sequence[Rule], inventory: Inventory, count: int) -> list[list[int]]:
    """The rules' indexes in `count` queues, one per process (`parallel.TaskQueues`):
    the rules on one kind of resource in one queue, the kinds given out the costliest
    first (resources times rules) to the queue with the least so far, each queue the
    largest rule first. A process that keeps to its kinds touches only their pages:
    after the fork, each page either process writes (a reference count) is copied,
    then faults again in the other if it writes it too."""
    order = largest_first(rules, inventory)
    size = _candidates(rules, inventory)
    kinds: dict[str, list[int]] = {}
    for index in order:
        kinds.setdefault(rules[index].resource, []).append(index)
    cost = {kind: sum(size[i] for i in indexes) for kind, indexes in kinds.items()}
    queues: list[list[int]] = [[] for _ in range(count)]
    totals = [0] * count
    for kind in sorted(kinds, key=lambda k: (-cost[k], k)):
        least = totals.index(min(totals))
        queues[least] += kinds[kind]
        totals[least] += cost[kind]
    rank = {index: position for position, index in enumerate(order)}
    return [sorted(queue, key=rank.__getitem__) for queue in queues]


def _evaluate_sharded(
    rules: Sequence[Rule], env: Env, shown: Mapping[str, Any], jobs: int, keep: frozenset[Status] | None
) -> tuple[list[Finding], Tally | None]:
    """The rules shared among `jobs` processes (`zenpolicy.parallel`), taken one at a
    time from queues of rules grouped by kind (`by_kind`), the largest first. A child
    sends each rule's findings as plain values (`transfer`) as soon as it has
    evaluated it, and the parent rebuilds them between two of its own rules
    (`parallel.Records`), not after its last one; the list's order differs from the
    serial one, the findings do not (reports sort them). `keep`: see
    `NativeEngine.evaluate_kept`."""
    from zenpolicy.engines import transfer  # it builds on this module

    inventory = env.inventory
    records = parallel.Records()
    children = range(jobs - 1)

    def work(shard: int, out: IO[bytes]) -> None:
        # Each rule's kept findings as soon as they are known; at the end, the tally of
        # all the findings of the rules sent. A rule whose evidence holds a value
        # marshal cannot write (none of the inventory's or the built-in rules') is not
        # sent: the parent evaluates it again.
        counted: list[Finding] = []
        passed: list[str] | None = None if keep is None or Status.PASS in keep else []
        for index in queues.taking(shard):
            more: list[str] = []
            found = evaluate_rules([rules[index]], env, shown, passed=None if passed is None else more)
            kept = found if keep is None else [f for f in found if f.status in keep]
            try:
                data = transfer.dumps(kept, [index], None, rules, inventory)
            except ValueError:
                continue
            records.write(shard - 1, out, data)
            if keep is not None:
                counted += found
                if passed is not None:
                    passed += more
        if keep is not None:
            tally = Tally.of(counted, passed=passed or ())
            records.write(shard - 1, out, transfer.dumps([], [], tally, rules, inventory))

    received: list[list[tuple[list[Finding], list[int], Tally | None]]] = [[] for _ in children]

    def receive(child: int, data: list[memoryview]) -> None:
        received[child] += (transfer.loads(record, rules, inventory) for record in data)

    def taken(done: list[int]) -> Iterator[Rule]:
        for index in queues.taking(0):
            done.append(index)
            yield rules[index]
            # Between two rules: the findings the children have sent meanwhile.
            for child, data in records.arrived(outputs):
                receive(child, data)

    with parallel.TaskQueues(by_kind(rules, inventory, jobs)) as queues, records:
        with parallel.Forked(work, range(1, jobs)) as forked:
            outputs = [forked.output(child) for child in children]
            done: list[int] = []
            findings, tally = _evaluate_kept(taken(done), env, shown, keep)
            for child in children:
                if not forked.succeeded(child):
                    continue  # nothing it sent is used: its rules are done below
                receive(child, records.read(child, outputs[child], ended=True))
                for more, more_done, more_tally in received[child]:
                    findings += more
                    done += more_done
                    if tally is not None and more_tally is not None:
                        tally = tally.merge(more_tally)
        # The rules a process took but did not send (it failed, or a value marshal
        # cannot write) are evaluated here.
        left = set(range(len(rules))) - set(done)
        if left:
            lost, lost_tally = _evaluate_kept([rules[i] for i in sorted(left)], env, shown, keep)
            findings += lost
            if tally is not None and lost_tally is not None:
                tally = tally.merge(lost_tally)
    return findings, tally


def evaluate(
    rules: Sequence[Rule],
    inventory: Inventory,
    *,
    as_of: AsOf,
    params: Mapping[str, Any],
    display_params: Mapping[str, Any] | None = None,
    jobs: int | None = 1,
) -> list[Finding]:
    """Every finding of `rules` on `inventory` (unsorted; see model.sort_findings).
    `jobs`: processes to evaluate in (None: the default; see `zenpolicy.parallel`)."""
    return NativeEngine(rules).evaluate(
        inventory, as_of=as_of, params=params, display_params=display_params, jobs=jobs
    )


# ---- building findings ----------------------------------------------------------------
# `Check(...)` and `Finding(...)` set each field through the frozen dataclass's
# object.__setattr__: 1.2 us and 2.3 us here, 1.2 s at 100k resources. These set the
# same slots directly, and make the same objects (tests/test_engine.py checks it).

_new = object.__new__


def _slot(cls: type, name: str) -> Callable[[Any, Any], None]:
    setter: Callable[[Any, Any], None] = cls.__dict__[name].__set__
    return setter


_check_slots = tuple(_slot(Check, name) for name in ("test", "actual", "expected", "result"))
_finding_slots = tuple(
    _slot(Finding, name)
    for name in ("rule_id", "address", "status", "severity", "location", "message", "evidence")
)


def new_check(test: str, actual: Any, expected: Any, result: bool) -> Check:
    """`Check(test=test, actual=actual, expected=expected, result=result)`."""
    set_test, set_actual, set_expected, set_result = _check_slots
    check: Check = _new(Check)
    set_test(check, test)
    set_actual(check, actual)
    set_expected(check, expected)
    set_result(check, result)
    return check


_SHARED = frozenset({str, int, bool, type(None)})
"""Values a `Check` may be shared for: hashable, and equal only when identical in
JSON (not floats: -0.0 equals 0.0, NaN equals nothing)."""


def checker(test: str) -> Callable[[bool, Any, Any], tuple[Check]]:
    """The evidence of one leaf, `(check,)`, made once per distinct (result, actual,
    expected): most are alike (`status == active`: "active", "active", true), and a
    `Check` and a tuple are frozen. The evidence of a rule with one leaf is shared
    whole by its findings alike, so that a report renders it once per chunk."""
    made: dict[tuple[Any, ...], tuple[Check]] = {}

    def check(result: bool, actual: Any, expected: Any) -> tuple[Check]:
        kind, other = type(actual), type(expected)
        if kind not in _SHARED or other not in _SHARED:
            return (new_check(test, actual, expected, result),)
        key = (result, kind, actual, other, expected)  # the types: True, 1 are equal keys
        found = made.get(key)
        if found is None:
            found = made[key] = (new_check(test, actual, expected, result),)
        return found

    return check


def new_finding(
    rule_id: str,
    address: str,
    status: Status,
    severity: Severity,
    location: Location,
    message: str,
    evidence: tuple[Check, ...],
) -> Finding:
    """`Finding(rule_id=rule_id, address=address, ...)`, every field given."""
    s_rule, s_address, s_status, s_severity, s_location, s_message, s_evidence = _finding_slots
    finding: Finding = _new(Finding)
    s_rule(finding, rule_id)
    s_address(finding, address)
    s_status(finding, status)
    s_severity(finding, severity)
    s_location(finding, location)
    s_message(finding, message)
    s_evidence(finding, evidence)
    return finding


def _evaluate_rule(
    cr: CompiledRule, env: Env, out: list[Finding], passed: list[str], located: list[Location] | None = None
) -> None:
    """The rule's findings added to `out`, or, for the passes its judge does not build,
    their addresses to `passed` (and their locations to `located`: the resource's, or
    the inventory root's for an inventory-wide rule)."""
    rule, inv = cr.rule, env.inventory
    if rule.resource == INVENTORY:
        env.root = None
        found = cr.judge(None, INVENTORY_ADDRESS, {}, inv.root)
        if found is not None:
            out.append(found)
        else:
            passed.append(INVENTORY_ADDRESS)
            if located is not None:
                located.append(inv.root)
        return
    start, start_passed = len(out), len(passed)
    where, judge_one = cr.where, cr.judge
    candidates = inv.kind(rule.resource)
    if cr.select is not None:
        # When a predicate raises, `where` is tested one resource at a time below, and
        # each resource it fails on gets an error finding.
        with contextlib.suppress(Exception):
            candidates, where = cr.select(candidates), None
    if cr.sweep is not None and where is None and len(candidates) >= SWEEP_MIN:
        # The passes at once; the other subjects are judged below. If the loop raises,
        # every subject is (each error is then the judge's finding).
        with contextlib.suppress(Exception):
            swept, candidates = cr.sweep(candidates)
            passed += [res.address for res in swept]
            if located is not None:
                located += [res.location for res in swept]
    for res in candidates:
        attrs, address = res.attrs, res.address
        env.root = attrs
        if where is not None:
            try:
                if not where(attrs, address, None):
                    continue
            except Exception as exc:  # fail closed: an error finding, the run goes on
                out.append(_error(rule, address, res.location, exc))
                continue
        found = judge_one(res, address, attrs, res.location)
        if found is not None:
            out.append(found)
        else:
            passed.append(address)
            if located is not None:
                located.append(res.location)
    if len(out) == start and len(passed) == start_passed:
        out.append(
            new_finding(
                rule.id,
                INVENTORY_ADDRESS,
                Status.NOT_APPLICABLE,
                rule.severity,
                inv.root,
                rule.not_applicable_message(),
                (),
            )
        )


def judge(
    rule: Rule,
    leaves: tuple[_TopLeaf, ...],
    combine: Callable[[Sequence[bool]], bool],
    message: Callable[[str, Mapping[str, Any], Sequence[Check]], str],
    *,
    passes: bool = True,
    evidence: list[tuple[Check, ...]] | None = None,
) -> Judge:
    """The function giving the finding of `rule` on one subject: pass, fail, or error
    (for any exception: fail closed, the run goes on); without `passes`, None instead
    of a passing finding, and its evidence appended to `evidence` if given. Everything
    constant for the rule is bound here, once; a rule requiring one leaf (most) takes a
    shorter path."""
    rule_id, severity, title = rule.id, rule.severity, rule.title
    passed, failed = Status.PASS, Status.FAIL

    if isinstance(rule.require, ast.LEAVES):
        (only,) = leaves
        fn, path, make_check = only.fn, only.path, only.check

        def judge_one(
            res: Resource | None, address: str, attrs: Mapping[str, Any], location: Location
        ) -> Finding | None:
            try:
                result, actual, expected = fn(attrs, None if res is None else address, None)
                if result and not passes:
                    if evidence is not None:
                        evidence.append(make_check(result, actual, expected))
                    return None
                checks = make_check(result, actual, expected)
                if result:
                    return new_finding(rule_id, address, passed, severity, location, title, checks)
                text = message(address, attrs, checks)
                at = location if res is None or path is None else res.attribute_location(path)
                return new_finding(rule_id, address, failed, severity, at, text, checks)
            except Exception as exc:
                return _error(rule, address, location, exc)

        return judge_one

    paths = [leaf.path for leaf in leaves]

    def judge_all(
        res: Resource | None, address: str, attrs: Mapping[str, Any], location: Location
    ) -> Finding | None:
        subject = None if res is None else address
        try:
            checks: list[Check] = []
            results = []
            for leaf in leaves:
                result, actual, expected = leaf.fn(attrs, subject, None)
                checks += leaf.check(result, actual, expected)
                results.append(result)
            if combine(results):
                if not passes:
                    if evidence is not None:
                        evidence.append(tuple(checks))
                    return None
                return new_finding(rule_id, address, passed, severity, location, title, tuple(checks))
            shown = tuple(checks)
            text = message(address, attrs, shown)
            at = failure_location(paths, shown, res, location)
            return new_finding(rule_id, address, failed, severity, at, text, shown)
        except Exception as exc:
            return _error(rule, address, location, exc)

    return judge_all


def _error(rule: Rule, address: str, location: Location, exc: Exception) -> Finding:
    return Finding(
        rule_id=rule.id,
        address=address,
        status=Status.ERROR,
        severity=rule.severity,
        location=location,
        message=f"rule could not be evaluated: {type(exc).__name__}: {exc}",
    )
