"""A large JSON report, rendered by the processes that evaluate its findings.

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

The bytes are `formats.json.stream`'s for the same report, whatever the number of
processes (tests compare); a process that fails has its rules done again by the parent
(`parallel.Forked`).
"""

from __future__ import annotations

import io
import marshal
import tempfile
from collections.abc import Iterator
from itertools import islice
from operator import itemgetter, le
from typing import IO, TYPE_CHECKING

from zenpolicy import parallel, timings
from zenpolicy.engines import native
from zenpolicy.engines.compile import Env
from zenpolicy.formats import json as json_format
from zenpolicy.model import PASS_RANK, BlockKey, Check, Finding, Report, Tally, blocks

if TYPE_CHECKING:
    from zenpolicy.check import Prepared

_TRAILER_LENGTH = 8
_PIECE = 1 << 20
"""Bytes copied at a time from a process's file to the report."""

MIN_RESOURCES = 5_000
"""Below this many resources, forking costs about what sharing the work saves
(measured on two cores: even at 3k resources, 0.13 s saved of 0.85 s at 10k)."""

Block = tuple[BlockKey, int, int]
"""(sort key of its findings' status, severity and rule; offset; length) in a file."""


def shards(prepared: Prepared, format_: str) -> int:
    """How many processes render this run's report: 1 (the usual path) unless it is a
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


def json_report(prepared: Prepared, count: int) -> tuple[Report, Tally, Iterator[bytes]]:
    """The report without its findings, their tally, and the JSON report's bytes
    (consumed once), evaluated and rendered by `count` processes."""
    inventory, params = prepared.loaded.inventory, prepared.params
    env = Env(inventory=inventory, as_of=prepared.as_of, params=params.values)
    rules = prepared.catalogue.rules
    queue = parallel.TaskQueue(native.largest_first(rules, inventory))
    resource, root = inventory.by_address.get, inventory.root

    def work(_: int, out: IO[bytes]) -> None:
        written: list[Block] = []
        done: list[Finding] = []
        passed: list[str] = []
        offset = 0

        def put(key: BlockKey, items: Iterator[bytes]) -> None:
            nonlocal offset
            data = b"".join(items)
            out.write(data)
            written.append((key, offset, len(data)))
            offset += len(data)

        for index in queue:
            rule = rules[index]
            # Passing findings are rendered from their subjects and evidence, never
            # built (1 us each: 0.3 s for the 298k passes of a 100k estate); the others
            # go through `blocks`.
            addresses: list[str] = []
            evidence: list[tuple[Check, ...]] = []
            findings = native.evaluate_rules([rule], env, params.display, passed=addresses, evidence=evidence)
            for key, run in blocks(findings):
                put(key, json_format.render_items(run))
            if addresses:
                # A pass's location is its resource's (the inventory root's for an
                # inventory-wide rule).
                locations = [root if (res := resource(a)) is None else res.location for a in addresses]
                if not all(map(le, addresses, islice(addresses, 1, None))):
                    # Not in address order (a kind's resources always are): as `blocks`.
                    rows = sorted(zip(addresses, locations, evidence, strict=True), key=itemgetter(0))
                    addresses, locations, evidence = (list(column) for column in zip(*rows, strict=True))
                key = (PASS_RANK, -rule.severity, rule.id)
                put(key, json_format.render_passes(rule.info(), addresses, locations, evidence))
                passed += addresses
            done += findings
        trailer = marshal.dumps((written, Tally.of(done, passed=passed).to_plain()))
        out.write(trailer)
        out.write(len(trailer).to_bytes(_TRAILER_LENGTH, "little"))

    # The parent's own parts go to temporary files too: at 1M resources they are 1 GB,
    # better in the page cache than in this process's memory.
    own: list[IO[bytes]] = []
    with timings.stage("evaluate+render"):
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
                queue.refill(missing)
                work(0, own[-1])
                files.append(own[-1])
                indexes.append(_read_trailer(own[-1]))
        except BaseException:
            forked.close()
            for out in own:
                out.close()
            raise
        finally:
            queue.close()
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
    for index, (_, n, offset, length) in enumerate(order):
        if index:
            yield b",\n"
        source = files[n]
        source.seek(offset)
        while length > 0:
            data = source.read(min(length, _PIECE))
            if not data:
                raise AssertionError("a process's report file is shorter than its index says")
            length -= len(data)
            yield data


def _read_trailer(source: IO[bytes]) -> tuple[list[Block], Tally]:
    source.seek(-_TRAILER_LENGTH, io.SEEK_END)
    length = int.from_bytes(source.read(_TRAILER_LENGTH), "little")
    source.seek(-_TRAILER_LENGTH - length, io.SEEK_END)
    # Our own child's bytes, from a file with no name that only this process tree holds.
    blocks, plain = marshal.loads(source.read(length))  # noqa: S302
    return [(tuple(key), offset, size) for key, offset, size in blocks], Tally.from_plain(plain)
