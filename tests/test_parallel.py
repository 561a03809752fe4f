"""Sharing work among forked processes (`zenpolicy.parallel`): the same results as one
process, byte for byte, including when a child fails; and the stages that use it
(parsing, evaluation, the JSON report) give what they give serially.

The size thresholds below which the stages stay serial are lowered here so that small
estates take the parallel paths."""

from __future__ import annotations

import hashlib
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from engine_helpers import generated_estate

from zenpolicy import check, cli_report, inventory, parallel, sharded
from zenpolicy.api import CheckOptions, OpaOptions, run_check
from zenpolicy.check import run_rendered
from zenpolicy.cli import cli
from zenpolicy.engines import native, transfer
from zenpolicy.errors import InputError, UsageError
from zenpolicy.formats import FORMATS, RenderOptions, render
from zenpolicy.formats import json as json_format
from zenpolicy.inventory import load_inventory
from zenpolicy.inventory import loader as inventory_loader
from zenpolicy.model import Check, Finding, Location, Report, Severity, Status, Tally, sort_findings
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.timeutil import parse_as_of

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    # Forking is refused while another thread runs: an earlier test's leftover thread
    # would make every test here pass serially, proving nothing. (A thread just joined
    # can stay listed in /proc for a moment: give the kernel that moment.)
    for _ in range(200):
        if parallel.can_fork():
            break
        time.sleep(0.005)
    assert parallel.can_fork(), f"threads left running: {threading.enumerate()}"
    monkeypatch.setattr(inventory_loader, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(native, "PARALLEL_MIN_RESOURCES", 0)
    monkeypatch.setattr(sharded, "MIN_RESOURCES", 0)
    monkeypatch.setattr(json_format, "PARALLEL_MIN_FINDINGS", 0)
    monkeypatch.setattr(json_format, "CHUNK", 7)  # several chunks per process


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generated_estate(tmp_path_factory.mktemp("estate"), 1500, 9, 3)


# ---- the primitives ---------------------------------------------------------------------


def test_split_evenly_keeps_order_and_balances() -> None:
    runs = parallel.split_evenly([5, 1, 1, 1, 1, 1, 5, 1], 3)
    assert [i for run in runs for i in run] == list(range(8))
    assert [sum([5, 1, 1, 1, 1, 1, 5, 1][i] for i in run) for run in runs] == [5, 5, 6]
    assert parallel.split_evenly([1, 1], 4) == [[0], [1]]
    assert parallel.split_evenly([], 3) == []
    assert parallel.split_evenly([0, 0, 0], 2) == [[0, 1, 2]]
    assert parallel.split_evenly([1] * 10, 3) == [[0, 1, 2], [3, 4, 5, 6], [7, 8, 9]]


def _square(shard: int, out: IO[bytes]) -> None:
    out.write(str(shard * shard).encode())


def test_forked_results_in_order() -> None:
    with parallel.Forked(_square, [3, 4, 5]) as forked:
        assert [forked.result(i).read() for i in range(3)] == [b"9", b"16", b"25"]


def test_a_child_that_dies_has_its_shard_done_by_the_parent() -> None:
    parent = os.getpid()

    def work(shard: int, out: IO[bytes]) -> None:
        if os.getpid() != parent:
            out.write(b"partial")
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        out.write(str(shard).encode())

    with parallel.Forked(work, [1, 2]) as forked:
        assert forked.result(0).read() == b"1"
        assert forked.result(1).read() == b"2"


def test_an_exception_in_the_work_is_raised_in_the_parent() -> None:
    def work(shard: int, out: IO[bytes]) -> None:
        raise KeyError(shard)

    with parallel.Forked(work, [7]) as forked, pytest.raises(KeyError, match="7"):
        forked.result(0)


def test_children_left_running_are_killed_on_exit() -> None:
    pids: list[int] = []

    def work(shard: int, out: IO[bytes]) -> None:
        signal.pause()  # never ends on its own

    with parallel.Forked(work, [1]) as forked:
        pids = [pid for pid in forked._pids if pid is not None]
    assert len(pids) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(pids[0], os.WNOHANG)  # reaped already


@pytest.mark.parametrize("call", ["fork", "pipe"])
def test_without_a_process_or_a_pipe_the_parent_does_the_shards(
    monkeypatch: pytest.MonkeyPatch, call: str
) -> None:
    def refuse() -> None:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, call, refuse)
    with parallel.Forked(_square, [3, 4]) as forked:
        assert forked._pids == [None, None]
        assert [forked.result(i).read() for i in range(2)] == [b"9", b"16"]


def test_children_that_did_their_shard_are_reaped_on_exit() -> None:
    # Their results are read as soon as they say they are done, before they have
    # exited: none is left a zombie for all that.
    with parallel.Forked(_square, [3, 4]) as forked:
        pids = [pid for pid in forked._pids if pid is not None]
        assert [forked.result(i).read() for i in range(2)] == [b"9", b"16"]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def test_records_are_read_while_the_child_writes() -> None:
    go_on_read, go_on_write = os.pipe()

    def work(shard: int, out: IO[bytes]) -> None:
        records.write(0, out, b"first")
        records.write(0, out, b"second record")
        os.read(go_on_read, 1)  # until the parent has read those two
        records.write(0, out, b"")
        records.write(0, out, b"last")

    with parallel.Records() as records, parallel.Forked(work, [1]) as forked:
        out = forked.output(0)
        seen: list[memoryview] = []
        for _ in range(2000):
            records.poll()
            seen += records.read(0, out)
            if len(seen) == 2:
                break
            time.sleep(0.005)
        assert seen == [b"first", b"second record"]
        assert records.read(0, out) == []  # nothing new announced: nothing read twice
        os.write(go_on_write, b"x")
        assert forked.succeeded(0)
        assert records.read(0, out, ended=True) == [b"", b"last"]
    os.close(go_on_read)
    os.close(go_on_write)


def test_a_child_never_waits_for_its_parent_to_read_announcements() -> None:
    # More records than the pipe holds announcements (64 KiB, 4,096 of them), and a
    # parent that reads none until the child has ended: the child does not block.
    def work(shard: int, out: IO[bytes]) -> None:
        for n in range(6000):
            records.write(0, out, n.to_bytes(2, "little"))

    with parallel.Records() as records, parallel.Forked(work, [1]) as forked:
        assert forked.succeeded(0)
        records.poll()
        early = records.read(0, forked.output(0))
        rest = records.read(0, forked.output(0), ended=True)
    assert 0 < len(early) < 6000
    assert [int.from_bytes(r, "little") for r in early + rest] == list(range(6000))


def test_in_order_joins_shards() -> None:
    def local(shard: int) -> list[bytes]:
        return [str(shard * shard).encode()]

    assert b"".join(parallel.in_order(_square, [1, 2, 3, 4], lambda s: iter(local(s)))) == b"14916"


def test_jobs_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENPOLICY_JOBS", "3")
    assert parallel.default_jobs() == 3
    monkeypatch.delenv("ZENPOLICY_JOBS")
    assert 1 <= parallel.default_jobs() <= parallel.DEFAULT_MAX_JOBS
    for bad in ("0", "-2", "two", "1.5"):
        monkeypatch.setenv("ZENPOLICY_JOBS", bad)
        with pytest.raises(UsageError, match=rf"ZENPOLICY_JOBS='{bad}': expected a positive integer"):
            parallel.default_jobs()


def test_no_fork_while_another_thread_runs() -> None:
    assert parallel.effective_jobs(3) == 3
    assert parallel.effective_jobs(400) == parallel.MAX_JOBS
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert parallel.effective_jobs(3) == 1
    finally:
        release.set()
        thread.join()
    assert parallel.effective_jobs(1) == 1


# ---- the stages -------------------------------------------------------------------------


@pytest.mark.usefixtures("always_parallel")
def test_parsing_in_processes_gives_the_same_documents(estate: Path) -> None:
    serial, serial_problems = inventory_loader.load_documents(estate, fast=True, jobs=1)
    shared, shared_problems = inventory_loader.load_documents(estate, fast=True, jobs=3)
    assert serial_problems == shared_problems == []
    assert [(d.path, d.sha256, d.value) for d in serial] == [(d.path, d.sha256, d.value) for d in shared]
    # Positions, including the deep ones worked out on demand from the text.
    for mine, theirs in zip(serial, shared, strict=True):
        for kind, named in mine.value.items():
            for name, attrs in named.items():
                for key in attrs:
                    path = (kind, name, key)
                    assert mine.source_map.get(path) == theirs.source_map.get(path)


@pytest.mark.usefixtures("always_parallel")
def test_files_taken_by_a_process_that_dies_are_loaded_by_the_parent(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, _ = inventory_loader.load_documents(estate, fast=True, jobs=1)
    parent = os.getpid()
    real = inventory_loader._load_one
    in_parent: list[str] = []
    taken = tmp_path / "taken"

    def dies_on_its_first_file(path: Path, shown: str, fast: bool) -> Any:
        if os.getpid() != parent:
            taken.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # having taken a file from the queue
        for _ in range(2000):  # the parent starts once the child has taken its file
            if taken.exists():
                break
            time.sleep(0.005)
        in_parent.append(shown)
        return real(path, shown, fast)

    monkeypatch.setattr(inventory_loader, "_load_one", dies_on_its_first_file)
    shared, problems = inventory_loader.load_documents(estate, fast=True, jobs=2)
    assert problems == []
    assert [(d.path, d.sha256, d.value) for d in shared] == [(d.path, d.sha256, d.value) for d in serial]
    # Every file was loaded here, once: the one the child took and lost, after the rest.
    assert sorted(in_parent) == sorted(d.path for d in serial)
    assert in_parent != [d.path for d in serial]


def _dies_on_its_second_call(real: Any, parent: int, sent: Path) -> Any:
    """`real`, except that a child calling it a second time (having sent what its first
    call made) touches `sent` and is killed, and the parent's first call waits for that.
    (Only the parent waits: when a child's first call waited too, the parent could stop
    waiting first, take every task left, and the child, finding none, lived on to have
    what it sent trusted: a failure one run in twenty or so, and 10 s per test.)"""
    calls: list[int] = []

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            calls.append(1)
            if len(calls) == 2:
                sent.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        for _ in range(2000):
            if sent.exists():
                break
            time.sleep(0.005)
        return real(*args, **kwargs)

    return wrapper


@pytest.mark.usefixtures("always_parallel")
def test_files_sent_by_a_process_that_then_dies_are_loaded_again(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial, _ = inventory_loader.load_documents(estate, fast=True, jobs=1)
    parent = os.getpid()
    real_load, real_plain = inventory_loader._load_one, inventory_loader._to_plain
    sent = tmp_path / "sent"

    def garbled(loaded: Any) -> tuple[Any, ...]:
        tag, path, digest, _, state = real_plain(loaded)
        return tag, path, digest, {"server": {"garbled": {}}}, state

    monkeypatch.setattr(inventory_loader, "_load_one", _dies_on_its_second_call(real_load, parent, sent))
    monkeypatch.setattr(inventory_loader, "_to_plain", garbled)  # used in the child only
    seen: list[Any] = []
    loaded, problems = inventory_loader.load_each(
        estate, lambda doc: seen.append(doc.value), fast=True, jobs=2
    )
    assert problems == []
    assert [(d.path, d.sha256, d.value) for d, _ in loaded] == [(d.path, d.sha256, d.value) for d in serial]
    # The child's file was read while the parent still parsed, then loaded again.
    assert {"server": {"garbled": {}}} in seen
    assert len(seen) == len(serial) + 1


@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("fast", [True, False])
def test_problems_found_in_a_child_are_the_same(tmp_path: Path, fast: bool) -> None:
    for index in range(6):
        (tmp_path / f"f{index}.yaml").write_text(f"server:\n  s{index}:\n    os: linux\n")
    (tmp_path / "f4.yaml").write_text("server:\n  s4:\n    os: [linux\n")  # in the last shard
    (tmp_path / "f5.yaml").write_bytes(b"server:\n  s5:\n    os: \xff\n")
    serial = inventory_loader.load_documents(tmp_path, fast=fast, jobs=1)
    shared = inventory_loader.load_documents(tmp_path, fast=fast, jobs=3)
    assert [str(p) for p in shared[1]] == [str(p) for p in serial[1]]
    assert [str(p) for p in shared[1]][-1] == f"{tmp_path.as_posix()}/f5.yaml:3:9: " + (
        "file is not valid UTF-8 (byte 0xff); save it as UTF-8"
    )
    assert [d.path for d in shared[0]] == [d.path for d in serial[0]]


def _findings(root: Path, jobs: int) -> tuple[Finding, ...]:
    loaded = load_inventory(root, jobs=1)
    catalogue = load_catalogue(())
    params = resolve_params(catalogue.params, loaded.config.params, {})
    return sort_findings(
        native.evaluate(
            catalogue.rules,
            loaded.inventory,
            as_of=parse_as_of("2026-11-26"),
            params=params.values,
            display_params=params.display,
            jobs=jobs,
        )
    )


@pytest.mark.usefixtures("always_parallel")
def test_evaluating_in_processes_gives_the_same_findings(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serial = _findings(estate, 1)
    assert {f.status for f in serial} >= {Status.PASS, Status.FAIL, Status.NOT_APPLICABLE}
    received: list[tuple[int, list[int]]] = []
    real_loads = transfer.loads

    def loads(*args: Any) -> tuple[list[Finding], list[int], Tally | None]:
        found, done, tally = real_loads(*args)
        received.append((len(found), done))
        assert tally is None  # every finding sent: no tally
        return found, done, tally

    monkeypatch.setattr(transfer, "loads", loads)
    for jobs in (2, 3):
        received.clear()
        shared = _findings(estate, jobs)
        # repr, not ==: 1, 1.0 and True are equal values but not the same evidence.
        assert [repr(f) for f in shared] == [repr(f) for f in serial]
        # The other processes did evaluate rules (95 rules, taken one at a time), and
        # sent each one's findings on its own as soon as it had them.
        assert received
        assert all(count >= 1 and len(done) == 1 for count, done in received)
        sent = [done[0] for _, done in received]
        assert len(set(sent)) == len(sent)


@pytest.mark.usefixtures("always_parallel")
def test_findings_marshal_cannot_write_are_evaluated_by_the_parent(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> bytes:
        raise ValueError("unmarshallable object")

    serial = _findings(estate, 1)
    monkeypatch.setattr(transfer, "dumps", refuse)
    assert [repr(f) for f in _findings(estate, 2)] == [repr(f) for f in serial]


@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("text", [False, True], ids=["all findings", "failures and a tally"])
def test_rules_sent_by_a_process_that_then_dies_are_evaluated_again(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: bool
) -> None:
    loaded = load_inventory(estate, jobs=1)
    rules = load_catalogue(()).rules
    params = resolve_params(load_catalogue(()).params, loaded.config.params, {})
    keep = frozenset({Status.FAIL, Status.ERROR}) if text else None

    def run(jobs: int) -> tuple[list[str], Tally | None]:
        found, tally = native.NativeEngine(rules).evaluate_kept(
            loaded.inventory,
            as_of=parse_as_of("2026-11-26"),
            params=params.values,
            display_params=params.display,
            jobs=jobs,
            keep=keep,
        )
        return [repr(f) for f in sort_findings(found)], tally

    serial = run(1)
    parent = os.getpid()
    real_evaluate, real_dumps = native.evaluate_rules, transfer.dumps
    sent = tmp_path / "sent"

    def without_findings(findings: Any, done: Any, tally: Any, *rest: Any) -> bytes:
        return real_dumps([], done, tally, *rest)  # its rule said done, its findings lost

    monkeypatch.setattr(native, "evaluate_rules", _dies_on_its_second_call(real_evaluate, parent, sent))
    monkeypatch.setattr(transfer, "dumps", without_findings)  # in the child only
    assert run(2) == serial
    assert sent.exists()


def test_transfer_refuses_values_marshal_cannot_write() -> None:
    rule = load_catalogue(()).rules[0]
    odd = Finding(
        rule_id=rule.id,
        address="inventory",
        status=Status.FAIL,
        severity=Severity.LOW,
        location=Location(path="x"),
        message="m",
        evidence=(Check(test="t", actual=object(), expected=1, result=False),),
    )
    with pytest.raises(ValueError, match="unmarshallable"):
        transfer.dumps([odd], [0], None, [rule], load_inventory(REPO / "inventory", jobs=1).inventory)


@pytest.mark.usefixtures("always_parallel")
def test_the_json_report_is_the_same_bytes(estate: Path) -> None:
    report = Report(
        tool_version="t",
        as_of="2026-11-26",
        engine="native",
        inventory="inv",
        inputs=(),
        params={},
        rules=(),
        findings=_findings(estate, 1),
    )
    serial = render("json", report, RenderOptions(jobs=1))
    for jobs in (2, 3, 5):
        assert render("json", report, RenderOptions(jobs=jobs)) == serial


@pytest.mark.usefixtures("always_parallel")
def test_check_command_output_does_not_depend_on_jobs(estate: Path, tmp_path: Path) -> None:
    digests = set()
    for jobs in ("1", "2", "3"):
        out = tmp_path / f"report-{jobs}.json"
        result = CliRunner().invoke(
            cli,
            ["check", str(estate), "--format", "json", "-o", str(out), "--no-cache", "--jobs", jobs],
        )
        assert result.exit_code == 1, result.output
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
    assert len(digests) == 1


def test_jobs_must_be_positive(estate: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(estate), "--jobs", "0"])
    assert result.exit_code == 2
    assert "Invalid value for '--jobs' / '-j': 0 is not in the range x>=1." in result.output


def test_a_bad_jobs_variable_is_a_usage_error(estate: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(estate)], env={"ZENPOLICY_JOBS": "many"})
    assert result.exit_code == 2
    assert (
        result.output
        == "zenpolicy: error: ZENPOLICY_JOBS='many': expected a positive integer (1: no other process)\n"
    )


# ---- the JSON report rendered where it is evaluated (zenpolicy/sharded.py) --------------


def _rendered(root: Path, jobs: int) -> tuple[Tally, bytes]:
    options = CheckOptions(path=root, as_of="2026-11-26", jobs=jobs)
    _, tally, chunks = run_rendered(options, "json", RenderOptions(jobs=jobs))
    return tally, b"".join(chunks)


@pytest.mark.usefixtures("always_parallel")
def test_sharded_json_report_is_the_report_of_all_findings(estate: Path) -> None:
    report = run_check(CheckOptions(path=estate, as_of="2026-11-26", jobs=1))
    expected = b"".join(FORMATS["json"](report, RenderOptions(jobs=1)))
    assert sharded.shards(check._prepare(CheckOptions(path=estate, jobs=3)), "json") == 3
    for jobs in (2, 3):
        tally, data = _rendered(estate, jobs)
        assert data == expected
        assert tally == report.tally()
    # Every process rendered some rules (the queue hands them out one at a time).
    taken = []
    real_trailer = sharded._read_trailer

    def read_trailer(source: IO[bytes]) -> Any:
        blocks, tally = real_trailer(source)
        taken.append(len(blocks))
        return blocks, tally

    sharded._read_trailer = read_trailer
    try:
        _rendered(estate, 3)
    finally:
        sharded._read_trailer = real_trailer
    assert len(taken) == 3
    assert all(taken)
    assert _rendered(estate, 1) == (report.tally(), expected)  # the usual path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="holes are punched on Linux")
@pytest.mark.parametrize("piece", [3, 1 << 20])
def test_processes_files_are_given_back_as_the_report_is_copied(
    monkeypatch: pytest.MonkeyPatch, piece: int
) -> None:
    # The blocks of two processes' files, copied in the report's order, each piece's
    # pages freed once it is consumed (zenpolicy/holes.py): the report's bytes are
    # those of the blocks, and each file reads as zeros where its blocks were, not
    # before the consumer has taken them.
    monkeypatch.setattr(sharded, "_PIECE", piece)
    with tempfile.TemporaryFile() as first, tempfile.TemporaryFile() as second:
        first.write(b"AAAAAAAbbbbbbbbbb-trailer")
        second.write(b"CCCCdddddd")
        first.flush()
        second.flush()
        key = (0, 0, "R")
        order = [(key, 1, 0, 4), (key, 0, 0, 7), (key, 1, 4, 6), (key, 0, 7, 10)]
        items = sharded._items([first, second], order)
        consumed = next(items)
        # The first piece is not given back while the consumer holds it.
        assert os.pread(second.fileno(), 4, 0) == b"CCCC"
        consumed += b"".join(items)
        assert consumed == b"CCCC,\nAAAAAAA,\ndddddd,\nbbbbbbbbbb"
        assert os.pread(first.fileno(), 100, 0) == bytes(17) + b"-trailer"
        assert os.pread(second.fileno(), 100, 0) == bytes(10)


@pytest.mark.usefixtures("always_parallel")
def test_rules_taken_by_a_process_that_dies_are_done_by_the_parent(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, expected = _rendered(estate, 1)
    parent = os.getpid()
    real = native.evaluate_rules
    evaluated: list[str] = []  # by the parent

    def dies_on_its_first_rule(rules: Any, *args: Any, **kwargs: Any) -> Any:
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # having taken a rule from its queue
        evaluated.extend(rule.id for rule in rules)
        return real(rules, *args, **kwargs)

    monkeypatch.setattr(native, "evaluate_rules", dies_on_its_first_rule)
    assert _rendered(estate, 2)[1] == expected
    # The child finished no rule: the parent evaluated every one, the one the child
    # took and lost among them, and none twice.
    assert sorted(evaluated) == sorted(rule.id for rule in load_catalogue(()).rules)


@pytest.mark.parametrize(
    ("select", "skip"), [((), ()), (("AUTH-02", "BAK-09"), ()), (("AUTH-02",), ("AUTH-02",))]
)
def test_one_process_json_report_is_the_report_of_all_findings(
    select: tuple[str, ...], skip: tuple[str, ...]
) -> None:
    # One process renders a JSON report from its rules' blocks, in order, without
    # building the passes: the bytes of the whole `Report` rendered, with any number
    # of rules (none at all: `"findings": []`).
    options = CheckOptions(path=REPO / "inventory", as_of="2026-11-26", jobs=1, select=select, skip=skip)
    report = run_check(options)
    expected = b"".join(FORMATS["json"](report, RenderOptions(jobs=1)))
    _, tally, chunks = run_rendered(options, "json", RenderOptions(jobs=1))
    assert b"".join(chunks) == expected
    assert tally == report.tally()
    assert (b'"findings": []' in expected) is (not report.findings)


@pytest.mark.usefixtures("always_parallel")
def test_passes_given_out_of_address_order_are_rendered_in_it(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process renders a rule's passes from their addresses, evidence and locations,
    # in the order the engine visits subjects (a kind's, sorted by address); in any
    # other order they are sorted first, as `model.blocks` sorts the other findings.
    _, expected = _rendered(estate, 1)
    real = native.evaluate_rules
    reversed_rules: list[str] = []

    def passes_backwards(rules: Any, *args: Any, **kwargs: Any) -> Any:
        rules = list(rules)
        found = real(rules, *args, **kwargs)
        passed, evidence, located = kwargs.get("passed"), kwargs.get("evidence"), kwargs.get("located")
        if passed is not None and evidence is not None and located is not None and len(passed) > 1:
            passed.reverse()
            evidence.reverse()
            located.reverse()
            reversed_rules.extend(rule.id for rule in rules)
        return found

    monkeypatch.setattr(native, "evaluate_rules", passes_backwards)
    assert _rendered(estate, 2)[1] == expected
    assert reversed_rules  # in the parent at least (the child's list is its own)


def test_sharding_is_for_large_json_reports_of_the_native_engine(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared = check._prepare(CheckOptions(path=estate, jobs=2))
    assert len(prepared.loaded.inventory) < sharded.MIN_RESOURCES
    assert sharded.shards(prepared, "json") == 1  # too small
    monkeypatch.setattr(sharded, "MIN_RESOURCES", 0)
    assert sharded.shards(prepared, "json") == 2
    assert sharded.shards(prepared, "text") == 1
    assert sharded.shards(check._prepare(CheckOptions(path=estate, jobs=1)), "json") == 1
    opa = check._prepare(CheckOptions(path=estate, jobs=2, engine="opa", opa=OpaOptions(url="http://x")))
    assert sharded.shards(opa, "json") == 1


def test_rule_queue_hands_each_index_out_once() -> None:
    queue = parallel.TaskQueue([5, 3, 9])
    try:

        def work(_: int, out: IO[bytes]) -> None:
            out.write(bytes(list(queue)))

        with parallel.Forked(work, [0]) as forked:
            mine = list(queue)
            theirs = list(forked.result(0).read())
        assert sorted(mine + theirs) == [3, 5, 9]
        queue.refill([1])
        assert list(queue) == [1]
        assert list(queue) == []
    finally:
        queue.close()


def test_each_process_takes_from_its_own_queue_first_then_from_the_others() -> None:
    queues = parallel.TaskQueues([[5, 3], [9, 7, 1]])
    go_on_read, go_on_write = os.pipe()
    try:

        def work(_: int, out: IO[bytes]) -> None:
            os.read(go_on_read, 1)  # once the parent has taken its first index
            out.write(bytes(queues.taking(1)))

        with parallel.Forked(work, [0]) as forked:
            mine = queues.taking(0)
            first = next(mine)
            os.write(go_on_write, b"x")
            theirs = list(forked.result(0).read())
            rest = list(mine)
        # The child took its own queue, then what the parent had left of its own.
        assert (first, theirs, rest) == (5, [9, 7, 1, 3], [])
    finally:
        queues.close()
        os.close(go_on_read)
        os.close(go_on_write)
    alone = parallel.TaskQueues([[5, 3], [9, 7, 1], [2]])
    with alone:
        # With nobody else taking, a process steals the others' queues in turn.
        assert list(alone.taking(1)) == [9, 7, 1, 2, 5, 3]


def test_rules_are_queued_by_kind_the_costliest_kinds_spread() -> None:
    inventory = load_inventory(REPO / "inventory", jobs=1).inventory
    rules = load_catalogue(()).rules
    order = native.largest_first(rules, inventory)
    for count in (1, 2, 3):
        queues = native.by_kind(rules, inventory, count)
        assert sorted(i for queue in queues for i in queue) == list(range(len(rules)))
        kinds = [{rules[i].resource for i in queue} for queue in queues]
        # A kind's rules in one queue only, each queue in the order of largest_first.
        assert sum(len(k) for k in kinds) == len({rule.resource for rule in rules})
        assert all(queue == [i for i in order if i in set(queue)] for queue in queues)
    # The kinds are given out the costliest first (resources times rules) to the queue
    # with the least so far: the two costliest go to two different queues.
    size = [1 if r.resource == "inventory" else len(inventory.kind(r.resource)) for r in rules]
    cost = {
        r.resource: sum(n for q, n in zip(rules, size, strict=True) if q.resource == r.resource)
        for r in rules
    }
    costliest, second = sorted(cost, key=lambda kind: (-cost[kind], kind))[:2]
    first, other = native.by_kind(rules, inventory, 2)
    assert costliest in {rules[i].resource for i in first}
    assert second in {rules[i].resource for i in other}


@pytest.mark.usefixtures("always_parallel")
def test_a_sharded_report_is_cached_and_replayed_as_is(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "report.json"
    args = ["check", str(estate), "--format", "json", "-o", str(out), "--jobs", "2"]
    first = CliRunner().invoke(cli, args)
    written = out.read_bytes()
    out.unlink()
    ran: list[object] = []
    monkeypatch.setattr(cli_report, "run_check_rendered", lambda *a: ran.append(a))
    again = CliRunner().invoke(cli, args)
    assert ran == []  # answered from the cache
    assert (again.exit_code, again.output) == (first.exit_code, first.output)
    assert first.exit_code == 1
    assert out.read_bytes() == written == _rendered(estate, 1)[1]


@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_catalogue_is_read_while_children_parse(
    estate: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """`check` reads its catalogue once the loader's children are parsing (before any
    file is parsed when there are none), in this process, once."""
    events: list[str] = []
    parent = os.getpid()
    real_forked, real_catalogue, real_load = (
        parallel.Forked.__init__,
        load_catalogue,
        inventory_loader._load_one,
    )

    def forked(self: Any, *args: Any, **kwargs: Any) -> None:
        events.append("forked")
        real_forked(self, *args, **kwargs)

    def catalogue(*args: Any, **kwargs: Any) -> Any:
        events.append(f"catalogue in {'parent' if os.getpid() == parent else 'child'}")
        return real_catalogue(*args, **kwargs)

    def load_one(path: Path, shown: str, fast: bool) -> Any:
        events.append("parsed")  # a child's own list is its copy: the parent's only
        return real_load(path, shown, fast)

    monkeypatch.setattr(parallel.Forked, "__init__", forked)
    monkeypatch.setattr(check, "load_catalogue", catalogue)
    monkeypatch.setattr(inventory_loader, "_load_one", load_one)
    check._prepare(CheckOptions(path=estate, jobs=jobs, extra={"no_cache": True}))
    # With a child, the parent may parse nothing: the child took every file meanwhile.
    before = events[: events.index("parsed")] if "parsed" in events else events
    assert before == (["catalogue in parent"] if jobs == 1 else ["forked", "catalogue in parent"])
    assert events.count("catalogue in parent") == 1


@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("jobs", [1, 2])
def test_a_broken_catalogue_is_not_taken_for_a_broken_inventory(
    estate: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    """A catalogue's problems are an `InputError` too, raised from inside the load:
    the inventory is not read again by the reference path on their account."""
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "x.yaml").write_text("id: X-1\ntitle: t\n", encoding="utf-8")
    paths: list[bool] = []
    real = inventory._load

    def load(root: Path, *, fast: bool, **kwargs: Any) -> Any:
        paths.append(fast)
        return real(root, fast=fast, **kwargs)

    monkeypatch.setattr(inventory, "_load", load)
    with pytest.raises(InputError) as raised:
        check._prepare(CheckOptions(path=estate, jobs=jobs, policies=(rules,), extra={"no_cache": True}))
    assert raised.value.what == "rules"
    assert str(raised.value.problems[0]).startswith(f"{rules.as_posix()}/x.yaml:1:1: rule: missing required")
    assert paths == [True]


@pytest.mark.usefixtures("always_parallel")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_catalogue_error_is_said_before_the_inventory_problems(
    estate: Path, tmp_path: Path, jobs: str
) -> None:
    """Read while the files are parsed, the catalogue still fails first, as when it was
    read before them: its error alone, whether the inventory is valid or not."""
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in sorted(estate.rglob("*.yaml"))[:4]:
        (broken / path.name).write_bytes(path.read_bytes())
    (broken / "zz.yaml").write_text("server:\n  s1:\n    os: [linux\n")
    unknown = "zenpolicy: error: rule pattern 'NOPE-1' matches no rule (see `zenpolicy rules`)\n"
    for root in (estate, broken):
        result = CliRunner().invoke(
            cli, ["check", str(root), "--no-cache", "--jobs", jobs, "--select", "NOPE-1"]
        )
        assert (result.exit_code, result.output) == (2, unknown)
    result = CliRunner().invoke(cli, ["check", str(broken), "--no-cache", "--jobs", jobs])
    assert result.exit_code == 2
    assert f"{broken.as_posix()}/zz.yaml:4:1: did not find expected ',' or ']'\n" in result.output


@pytest.mark.usefixtures("always_parallel")
def test_validate_prints_the_same_problems_whatever_the_jobs(tmp_path: Path) -> None:
    person = "person:\n  p{0}:\n    full_name: Person {0}\n    status: active\n"
    for index in range(8):
        (tmp_path / f"f{index}.yaml").write_text(person.format(index))
    (tmp_path / "f0.yaml").write_text("person:\n  p0:\n    full_name: [Anne\n")  # first shard
    (tmp_path / "f6.yaml").write_text(person.format(6) + "    colour: blue\n")  # last shard
    (tmp_path / "f7.yaml").write_text(person.format(1))  # a duplicate, across shards
    outputs = set()
    for jobs in ("1", "2", "4"):
        result = CliRunner().invoke(cli, ["validate", str(tmp_path), "--jobs", jobs])
        assert result.exit_code == 2
        outputs.add(result.output)
    (output,) = outputs
    root = tmp_path.as_posix()
    assert output.splitlines() == [
        f"{root}/f0.yaml:4:1: did not find expected ',' or ']'",
        f"{root}/f6.yaml:5:5: person.p6: unknown attribute 'colour' for person",
        f"{root}/f7.yaml:2:3: duplicate address person.p1 (first declared at {root}/f1.yaml:2:3)",
        "3 problems in the inventory; nothing was checked.",
    ]


@pytest.mark.usefixtures("always_parallel")
def test_only_the_findings_a_format_lists_come_back(estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = run_check(CheckOptions(path=estate, as_of="2026-11-26", jobs=1))
    listed = [f for f in report.findings if f.status in (Status.FAIL, Status.ERROR)]
    sent: list[int] = []
    real_dumps = transfer.dumps

    def dumps(findings: list[Finding], *rest: Any) -> bytes:
        sent.extend(1 for f in findings if f.status not in (Status.FAIL, Status.ERROR))
        return real_dumps(findings, *rest)

    monkeypatch.setattr(transfer, "dumps", dumps)
    for jobs in (1, 2, 3):
        options = CheckOptions(path=estate, as_of="2026-11-26", jobs=jobs)
        head, tally, chunks = run_rendered(options, "text", RenderOptions(jobs=jobs))
        assert [repr(f) for f in head.findings] == [repr(f) for f in listed]
        assert tally == report.tally()
        assert b"".join(chunks) == b"".join(FORMATS["text"](report, RenderOptions()))
    assert sent == []  # no pass and no not_applicable finding crossed between processes
    verbose = run_rendered(
        CheckOptions(path=estate, as_of="2026-11-26", jobs=2), "text", RenderOptions(verbose=True)
    )
    assert verbose[0].findings == report.findings  # --verbose lists them all
