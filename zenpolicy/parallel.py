"""Sharing a stage among forked processes, without changing one byte of its result.

The stages that split cleanly (parsing files, evaluating rules, rendering findings) are
divided into shards: forked children each do one shard and write its result, as bytes,
to an unlinked temporary file; the parent does the first shard itself meanwhile, then
reads the others back. Joined in shard order (or, for rules handed out one at a time
by a `TaskQueue`, put back in the report's order), the results are the serial result,
so reports are byte-identical whatever the number of jobs (tests compare). Where the
parent has work to do on what children send (rebuilding parsed files or findings),
they write it as `Records` that the parent reads while they are still running.

Why fork, and not a pool of spawned workers: the inventory, the compiled rules and the
findings are millions of Python objects. A forked child sees them as they are
(copy-on-write), where a spawned worker would have them pickled across first, which
costs more than the work saved.

Fail-safe by construction: a child that fails for any reason (an exception, a signal,
running out of memory) has its shard done again by the parent, so the outcome is the
serial outcome, only slower; an exception the work itself raises is then raised in the
parent, as it would have been without jobs. Nothing partial is ever used (records read
from a child that then fails are thrown away, and its work done again).

Who decides: the entry points (the command line, `CheckOptions.jobs`, `load_inventory`)
use the default number of jobs unless told; the building blocks (`load_documents`,
`engines.native.evaluate`, `RenderOptions.jobs`) use one process unless told, so that
a caller composing them forks only when it asks to.

Fork is used only where it is safe: on POSIX systems, in a process with one thread
(forking a threaded process can leave the child waiting forever on a lock another
thread held: a crash is redone by the parent, a hang would not be).
Elsewhere everything runs in the parent. Children end with `os._exit`: no atexit
handler runs twice, and the parent's buffered output is not flushed again.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Generic, TypeVar

from zenpolicy.cpulimit import cgroup_cpu_limit
from zenpolicy.errors import UsageError

S = TypeVar("S")

JOBS_ENV = "ZENPOLICY_JOBS"
DEFAULT_MAX_JOBS = 4
"""The default is one job per usable CPU (`usable_cpus`), at most this many: more
processes than that mostly add memory (each child's copy-on-write pages) for little
time."""
MAX_JOBS = 64
"""Whatever is asked, at most this many processes (a typo of `--jobs 400` must not
fork hundreds of copies of a large inventory)."""

Work = Callable[[S, IO[bytes]], None]
"""Does one shard, writing its result to the file."""


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity), at most the CPU time its
    cgroups allow, rounded up (a container limited to 1.5 CPUs: 2)."""
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        count = os.cpu_count() or 1
    limit = _cpu_limit()
    return count if limit is None else max(1, min(count, math.ceil(limit)))


_cpu_limit = functools.cache(cgroup_cpu_limit)
"""The process's cgroup limit, read once: each stage asks for the default jobs."""


def default_jobs() -> int:
    """`ZENPOLICY_JOBS` when set (a positive integer), else the usable CPUs, capped."""
    text = os.environ.get(JOBS_ENV, "").strip()
    if not text:
        return max(1, min(usable_cpus(), DEFAULT_MAX_JOBS))
    if not (text.isascii() and text.isdigit() and int(text) >= 1):
        raise UsageError(f"{JOBS_ENV}={text!r}: expected a positive integer (1: no other process)")
    return int(text)


def can_fork() -> bool:
    """Whether forking is available and safe here and now: one thread in the process,
    counting the threads native libraries start (Linux lists them all in /proc),
    not only Python's."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:  # no /proc: Python's own count is all there is
        return True


def effective_jobs(jobs: int | None) -> int:
    """The number of shards to cut: `jobs` (None: the default), at most `MAX_JOBS`, or
    1 where forking is not possible."""
    wanted = min(default_jobs() if jobs is None else jobs, MAX_JOBS)
    return wanted if wanted > 1 and can_fork() else 1


def split_evenly(weights: Sequence[int], parts: int) -> list[list[int]]:
    """Indices `0..len(weights)-1` cut into at most `parts` contiguous runs of about
    equal total weight (order kept: results are joined back in order)."""
    total = sum(weights)
    runs: list[list[int]] = []
    current: list[int] = []
    done = 0
    target = total / parts if parts > 0 else total
    for index, weight in enumerate(weights):
        # Close the run here when taking this item would overshoot its share by more
        # than stopping short of it.
        if current and len(runs) < parts - 1 and done + weight - target > target - done:
            runs.append(current)
            current = []
            target = total * (len(runs) + 1) / parts
        current.append(index)
        done += weight
    if current:
        runs.append(current)
    return runs


class Forked(Generic[S]):
    """Children doing `work` on each of `shards`, started at once; `result(i)` waits
    for shard `i` and returns its file, positioned at the start. Use as a context
    manager: on leaving, children still running are killed and every file is closed."""

    def __init__(self, work: Work[S], shards: Sequence[S]) -> None:
        self._work = work
        self._shards = list(shards)
        self._files: list[IO[bytes]] = []
        self._pids: list[int | None] = []
        self._ok: list[bool] = []
        self._done: list[int | None] = []
        """For each child not heard from yet, the pipe on which it says it is done."""
        try:
            for shard in self._shards:
                # In $TMPDIR, unlinked at once (O_TMPFILE on Linux): only this process
                # tree holds it. At 1M resources, a child's part of a report is 1 GB.
                self._files.append(tempfile.TemporaryFile())  # noqa: SIM115 - closed in close()
                self._ok.append(False)
                pid, done = self._start(shard, self._files[-1])
                self._pids.append(pid)
                self._done.append(done)
        except BaseException:
            self.close()  # no child left running, no file left open
            raise

    def _start(self, shard: S, out: IO[bytes]) -> tuple[int | None, int | None]:
        """The child's pid and the pipe on which it says it is done (None, None: no
        child, the parent will do this shard)."""
        try:
            done, say_done = os.pipe()
        except OSError:
            return None, None  # no descriptor to be had: as with no process, below
        try:
            pid = os.fork()
        except OSError:
            os.close(done)
            os.close(say_done)
            return None, None
        if pid:
            # The child holds the only writing end: the pipe ends when the child does.
            os.close(say_done)
            return pid, done
        # The child: do the shard, and leave without running anything of the parent's.
        code = 1
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            gc.disable()  # short-lived; and collections would touch the parent's pages
            self._work(shard, out)
            out.flush()
            # Said once the shard is in the file: the parent goes on reading it while
            # this process's exit frees its memory (0.01-0.02 s at 100k resources).
            os.write(say_done, b"\1")
            code = 0
        finally:
            os._exit(code)

    def output(self, index: int) -> IO[bytes]:
        """Child `index`'s file, as it is being written (read it with `os.pread`: its
        offset is the child's)."""
        return self._files[index]

    def succeeded(self, index: int) -> bool:
        """Wait for child `index` to say that it did its shard, or to end without
        saying so: whether it did (a failed child's file is not to be read; `result`
        does its shard again). A child that did is left to exit, and reaped by `close`."""
        done = self._done[index]
        if done is not None:
            said = os.read(done, 1)  # b"" once the child has ended without a word
            os.close(done)
            self._done[index] = None
            self._ok[index] = said == b"\1"
            pid = self._pids[index]
            if not self._ok[index] and pid is not None:
                os.waitpid(pid, 0)
                self._pids[index] = None
        return self._ok[index]

    def result(self, index: int) -> IO[bytes]:
        out = self._files[index]
        if not self.succeeded(index):
            # The child failed, or never started: do its shard here, from scratch.
            out.seek(0)
            out.truncate()
            self._work(self._shards[index], out)
            out.flush()
        out.seek(0)
        return out

    def __enter__(self) -> Forked[S]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Kill the children still running (not those that did their shard: they are
        exiting), reap them all, and close every file."""
        for index, pid in enumerate(self._pids):
            if pid is not None:
                if not self._ok[index]:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(OSError):
                    os.waitpid(pid, 0)
                self._pids[index] = None
        for index, done in enumerate(self._done):
            if done is not None:
                os.close(done)
                self._done[index] = None
        for out in self._files:
            out.close()


class Records:
    """Records that forked children append to their `Forked` files one at a time, and
    that the parent reads as they come instead of once the children have ended (to
    work on them while the children go on).

    A child writes a record whole (length first, flushed: the file's `write()` has
    returned), then announces its file's new length on a pipe. A read below an
    announced length gets what the child wrote (POSIX orders a read after the write
    that returned), never a record half-written. An announcement is 16 bytes (atomic
    on a pipe) and never blocks: when the pipe is full the child goes on, and a later
    announcement covers its records, or the parent reads the rest once the child has
    ended well (`Forked.succeeded`; a failed child's records are not to be trusted)."""

    _ANNOUNCEMENT = 16

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)
        self._announced: dict[int, int] = {}
        self._consumed: dict[int, int] = {}

    def write(self, child: int, out: IO[bytes], record: bytes) -> None:
        """In child number `child` (0 for `Forked.output(0)`): append `record` to `out`."""
        out.write(len(record).to_bytes(8, "little"))
        out.write(record)
        out.flush()
        with contextlib.suppress(BlockingIOError):
            os.write(self._write, child.to_bytes(8, "little") + out.tell().to_bytes(8, "little"))

    def poll(self) -> None:
        """In the parent: take note of the announcements made so far."""
        while True:
            try:
                data = os.read(self._read, 1 << 16)
            except BlockingIOError:
                return
            if not data:
                return
            step = self._ANNOUNCEMENT
            for at in range(0, len(data), step):
                child = int.from_bytes(data[at : at + 8], "little")
                end = int.from_bytes(data[at + 8 : at + step], "little")
                self._announced[child] = max(end, self._announced.get(child, 0))

    def arrived(self, outputs: Sequence[IO[bytes]]) -> list[tuple[int, list[memoryview]]]:
        """In the parent: the records each child (`outputs[child]`, its file) announced
        since the last call, for the children that announced any."""
        self.poll()
        found = [(child, self.read(child, out)) for child, out in enumerate(outputs)]
        return [(child, records) for child, records in found if records]

    def read(self, child: int, out: IO[bytes], *, ended: bool = False) -> list[memoryview]:
        """In the parent: the records of `child` in `out` not read yet, up to its last
        announcement, or all of them once it has `ended` well."""
        start = self._consumed.get(child, 0)
        fd = out.fileno()
        stop = os.fstat(fd).st_size if ended else self._announced.get(child, 0)
        records: list[memoryview] = []
        if stop <= start:
            return records
        data = _pread(fd, stop - start, start)
        view = memoryview(data)
        at = 0
        while at + 8 <= len(data):
            length = int.from_bytes(view[at : at + 8], "little")
            if at + 8 + length > len(data):
                break
            records.append(view[at + 8 : at + 8 + length])
            at += 8 + length
        if ended and at != len(data):
            raise AssertionError("a process's records end in the middle of one")
        self._consumed[child] = start + at
        return records

    def close(self) -> None:
        for fd in (self._read, self._write):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._read = self._write = -1

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _pread(fd: int, size: int, offset: int) -> bytes:
    """`size` bytes of `fd` from `offset` (fewer only at its end)."""
    pieces = []
    while size > 0:
        data = os.pread(fd, size, offset)
        if not data:
            break
        pieces.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(pieces)


class TaskQueue:
    """Task indexes that processes take one at a time, whichever is free: work of
    uneven, unpredictable cost (rules: 1 to 15 us per resource) ends about together.

    A pipe holding two bytes per index, filled before the fork and closed for writing:
    a read of two bytes gets one whole index (reads of up to PIPE_BUF bytes from a pipe
    are atomic) or the end. Filled at most `MAX` indexes at a time (32 KiB, within the
    64 KiB a Linux pipe holds, as nobody reads it yet)."""

    MAX = 16_384

    def __init__(self, indexes: Sequence[int]) -> None:
        self._read = -1
        self.refill(indexes)

    def refill(self, indexes: Sequence[int]) -> None:
        """Replace what is left by `indexes` (before forking: children read the pipe
        they inherited)."""
        self.close()
        if len(indexes) > self.MAX:
            raise ValueError(f"a task queue holds at most {self.MAX} tasks")
        data = b"".join(i.to_bytes(2, "little") for i in indexes)
        self._read, write = os.pipe()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)

    def __iter__(self) -> Iterator[int]:
        """The indexes this process takes, until none is left."""
        while len(data := os.read(self._read, 2)) == 2:
            yield int.from_bytes(data, "little")

    def close(self) -> None:
        if self._read >= 0:
            os.close(self._read)
            self._read = -1

    def __enter__(self) -> TaskQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class TaskQueues:
    """One `TaskQueue` per process, each process taking from its own first, then from
    the others' in turn (work stealing), so that work with an affinity (rules on one
    kind of resource: the same pages read) stays in one process while it can, and all
    processes still end about together."""

    def __init__(self, groups: Sequence[Sequence[int]]) -> None:
        self._queues: list[TaskQueue] = []
        try:
            for group in groups:
                self._queues.append(TaskQueue(group))
        except BaseException:
            self.close()
            raise

    def taking(self, process: int) -> Iterator[int]:
        """The indexes process number `process` takes, until none is left anywhere."""
        count = len(self._queues)
        for step in range(count):
            yield from self._queues[(process + step) % count]

    def close(self) -> None:
        for queue in self._queues:
            queue.close()

    def __enter__(self) -> TaskQueues:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def in_order(
    work: Work[S], shards: Sequence[S], local: Callable[[S], Iterator[bytes]], *, piece: int = 1 << 20
) -> Iterator[bytes]:
    """The bytes of every shard, in order: the first made here by `local` while
    children make the others with `work`, whose files are then read back in pieces."""
    if not shards:
        return
    with Forked(work, shards[1:]) as forked:
        yield from local(shards[0])
        for index in range(len(shards) - 1):
            out = forked.result(index)
            while data := out.read(piece):
                yield data
