"""The JSON report of the native engine, rendered from each rule's blocks by the
processes that evaluate them (or by one, `json_report_serial`).

The findings of a JSON report are sorted by status, severity, rule, then address
(`model.sort_findings`), so they form one block per (status, severity, rule): all of
one rule's findings of one status. With the rules shared among processes
(`zenpolicy.parallel`), each process evaluates its rules, splits each rule's findings
into its blocks (`model.blocks`), renders them, and writes the bytes with an index and
the findings' `Tally`. A rule's passes (nine findings in ten) are never built as
`Finding`s: their addresses and evidence are enough to render them
(`formats.json.render_passes`). The parent renders the head from the merged tallies,
then copies the blocks in the global order. No process ever holds all the findings,
and none is sent to another: the only
costs added to the serial run are forking and copying bytes (at 100k resources, the
transfer of findings that `--jobs` otherwise does cost more than evaluating them).

In one process (`--jobs 1`, or an estate under `MIN_RESOURCES`) the blocks are kept
as they are made (the failures' `Finding`s, the passes' addresses and evidence: a few
MB at 100k resources) and rendered in the report's order as the bytes are written: no
file between, and still no passing finding built (at 100k, one process, 3.37 -> 2.88
s for evaluating and rendering, 8 rounds interleaved).

The bytes are `formats.json.stream`'s for the same report, whatever the number of
processes (tests compare); a process that fails has its rules done again by the parent
(`parallel.Forked`).
"""

from __future__ import annotations

import io
import marshal
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import partial
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any

from zenpolicy import parallel, timings
from zenpolicy.engines import native
from zenpolicy.engines.compile import Env
from zenpolicy.formats import RenderOptions
from zenpolicy.formats import json as json_format
from zenpolicy.holes import Puncher
from zenpolicy.model import (
    BlockKey,
    Check,
    Finding,
    Location,
    Report,
    Status,
    Tally,
    ascending,
    block_key,
    blocks,
)

if TYPE_CHECKING:
    from zenpolicy.check import Prepared
    from zenpolicy.rules.model import Rule

_TRAILER_LENGTH = 8
_PIECE = 1 << 20
"""Bytes copied at a time from a process's file to the report."""

MIN_RESOURCES = 5_000
"""Below this many resources, forking costs about what sharing the work saves
(measured on two cores: even at 3k resources, 0.13 s saved of 0.85 s at 10k)."""

Block = tuple[BlockKey, int, int]
"""(sort key of its findings' status, severity and rule; offset; length) in a file."""


def shards(prepared: Prepared, format_: str) -> int:
    """How many processes render this run's report: 1 (`json_report_serial` for a JSON
    report of the native engine, another format's own path otherwise) unless it is a
    large JSON report of the native engine and several jobs may run."""
    if format_ != "json" or prepared.options.engine != "native":
        return 1
    if len(prepared.loaded.inventory) < MIN_RESOURCES:
        return 1
    if len(prepared.catalogue.rules) > parallel.TaskQueue.MAX:
        return 1
    # The check's jobs decide (evaluation is what is shared); `render.jobs` is for a
    # formatter sharing its own work, and the command line sets both alike.
    return min(parallel.effective_jobs(prepared.options.jobs), len(prepared.catalogue.rules))


Part = tuple[BlockKey, Callable[[], Iterator[bytes]]]
"""A block of the report: its sort key, and what renders it."""


def _rule_parts(
    rule: Rule, env: Env, shown: Mapping[str, Any]
) -> tuple[list[Finding], list[str], list[Part]]:
    """One rule evaluated: its findings other than passes, its passes' addresses, and
    its blocks. Passing findings are never built (1 us each: 0.3 s for the 298k passes
    of a 100k estate): their addresses, locations and evidence render them."""
    addresses: list[str] = []
    evidence: list[tuple[Check, ...]] = []
    locations: list[Location] = []
    findings = native.evaluate_rules(
        [rule], env, shown, passed=addresses, evidence=evidence, located=locations
    )
    parts: list[Part] = [(key, partial(json_format.render_items, run)) for key, run in blocks(findings)]
    if addresses:
        if not ascending(addresses):
            # Not in address order (a kind's resources always are): as `blocks`.
            rows = sorted(zip(addresses, locations, evidence, strict=True), key=itemgetter(0))
            addresses, locations, evidence = (list(column) for column in zip(*rows, strict=True))
        render = partial(json_format.render_passes, rule.info(), addresses, locations, evidence)
        parts.append((block_key(Status.PASS, rule.severity, rule.id), render))
    return findings, addresses, parts


def json_report_serial(prepared: Prepared) -> tuple[Report, Tally, Iterator[bytes]]:
    """`json_report` in this process: the rules evaluated one by one into their blocks,
    which are rendered in the report's order as the bytes are consumed. Nothing goes
    through a file, and the passes are never built (the text or the API's `Report`
    would need them; a JSON report does not)."""
    inventory, params = prepared.loaded.inventory, prepared.params
    env = Env(inventory=inventory, as_of=prepared.as_of, params=params.values)
    parts: list[Part] = []
    done: list[Finding] = []
    passed: list[str] = []
    with timings.stage("evaluate"):
        rules = prepared.catalogue.rules
        for index in native.largest_first(rules, inventory):  # a kind's rules together
            findings, addresses, more = _rule_parts(rules[index], env, params.display)
            parts += more
            done += findings
            passed += addresses
        tally = Tally.of(done, passed=passed)
        del done, passed
    with timings.stage("sort"):
        parts.sort(key=itemgetter(0))  # one block per key: a rule's blocks differ in status
    head = prepared.report(())
    if not parts:  # no rule at all: the report of no findings
        return head, tally, json_format.stream(head, RenderOptions())
    return head, tally, json_format.framed(head, tally.counts, _rendered(parts))


def _rendered(parts: list[Part]) -> Iterator[bytes]:
    for index, (_, render) in enumerate(parts):
        if index:
            yield b",\n"
        yield from render()


def json_report(prepared: Prepared, count: int) -> tuple[Report, Tally, Iterator[bytes]]:
    """The report without its findings, their tally, and the JSON report's bytes
    (consumed once), evaluated and rendered by `count` processes."""
    inventory, params = prepared.loaded.inventory, prepared.params
    env = Env(inventory=inventory, as_of=prepared.as_of, params=params.values)
    rules = prepared.catalogue.rules
    queues = parallel.TaskQueues(native.by_kind(rules, inventory, count))

    def work(process: int, out: IO[bytes]) -> None:
        write_rules(queues.taking(process), out)

    def write_rules(taken: Iterable[int], out: IO[bytes]) -> None:
        # Each rule's blocks, then the index of them all and the findings' tally.
        written: list[Block] = []
        done: list[Finding] = []
        passed: list[str] = []
        offset = 0
        for index in taken:
            findings, addresses, parts = _rule_parts(rules[index], env, params.display)
            for key, render in parts:
                start = offset
                for data in render():  # not joined: a rule's passes can be 20 MB
                    out.write(data)
                    offset += len(data)
                written.append((key, start, offset - start))
            done += findings
            passed += addresses
        trailer = marshal.dumps((written, Tally.of(done, passed=passed).to_plain()))
        out.write(trailer)
        out.write(len(trailer).to_bytes(_TRAILER_LENGTH, "little"))

    # The parent's own parts go to temporary files too: at 1M resources they are 1 GB,
    # better in the page cache than in this process's memory.
    own: list[IO[bytes]] = []
    with queues, timings.stage("evaluate+render"):  # the queues closed whatever happens
        forked = parallel.Forked(work, range(1, count))
        try:
            own.append(tempfile.TemporaryFile())  # noqa: SIM115 - closed by _chunks
            work(0, own[0])
            files = [own[0], *(forked.result(i) for i in range(count - 1))]
            indexes = [_read_trailer(f) for f in files]
            # A process that failed took rules from the queue and wrote nothing: every
            # rule has at least one finding (not_applicable at least), so the rules
            # without a block are its; they are done here.
            covered = {key[2] for blocks, _ in indexes for key, _, _ in blocks}
            missing = [i for i, rule in enumerate(rules) if rule.id not in covered]
            if missing:
                own.append(tempfile.TemporaryFile())  # noqa: SIM115 - closed by _chunks
                write_rules(missing, own[-1])
                files.append(own[-1])
                indexes.append(_read_trailer(own[-1]))
        except BaseException:
            forked.close()
            for out in own:
                out.close()
            raise
    tally = indexes[0][1]
    for _, more in indexes[1:]:
        tally = tally.merge(more)
    order = sorted(
        (key, n, offset, length) for n, (blocks, _) in enumerate(indexes) for key, offset, length in blocks
    )
    head = prepared.report(())
    return head, tally, _chunks(head, tally, files, order, forked, own)


def _chunks(
    head: Report,
    tally: Tally,
    files: list[IO[bytes]],
    order: list[tuple[BlockKey, int, int, int]],
    forked: parallel.Forked[int],
    own: list[IO[bytes]],
) -> Iterator[bytes]:
    try:
        # Never empty: `shards` asks for two rules at least, and every rule has a block.
        yield from json_format.framed(head, tally.counts, _items(files, order))
    finally:
        forked.close()
        for out in own:
            out.close()


def _items(files: list[IO[bytes]], order: list[tuple[BlockKey, int, int, int]]) -> Iterator[bytes]:
    # Each piece's pages are freed once it is consumed (written to the report): the
    # report's pages are then those, not new ones (see holes.py).
    puncher = Puncher()
    for index, (_, n, offset, length) in enumerate(order):
        if index:
            yield b",\n"
        source = files[n]
        source.seek(offset)
        while length > 0:
            data = source.read(min(length, _PIECE))
            if not data:
                raise AssertionError("a process's report file is shorter than its index says")
            yield data
            puncher.punch(source.fileno(), offset, len(data))
            offset += len(data)
            length -= len(data)


def _read_trailer(source: IO[bytes]) -> tuple[list[Block], Tally]:
    source.seek(-_TRAILER_LENGTH, io.SEEK_END)
    length = int.from_bytes(source.read(_TRAILER_LENGTH), "little")
    source.seek(-_TRAILER_LENGTH - length, io.SEEK_END)
    # Our own child's bytes, from a file with no name that only this process tree holds.
    blocks, plain = marshal.loads(source.read(length))  # noqa: S302
    return [(tuple(key), offset, size) for key, offset, size in blocks], Tally.from_plain(plain)
