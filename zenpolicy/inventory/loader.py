"""Discover an inventory's files, read them safely, and parse them into documents.

A document is one file's value (kind -> name -> attributes) with its source map. The
order of documents never depends on the file system: files are sorted by their path
relative to the inventory root.
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from zenpolicy import parallel
from zenpolicy.gcpause import paused_gc
from zenpolicy.inventory.fastload import LazySourceMap, parse_fast
from zenpolicy.inventory.yaml12 import SourceMap, YamlError, parse_yaml
from zenpolicy.model import Location, Problem

CONFIG_NAME = "zenpolicy.yaml"
"""The optional configuration file at the inventory root; never a resource file."""

MAX_FILE_BYTES = 64 * 1024 * 1024
"""Larger files are refused before they are read: split the inventory instead."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One parsed inventory file."""

    path: str
    """Path relative to the inventory root, `/`-separated (what locations show)."""
    value: Any
    source_map: SourceMap
    sha256: str


def display_path(path: Path, root: Path) -> str:
    """The path as the user would open it: the root as given, then the relative part.

    Findings print `inventory/servers.yaml:3:5`, which a terminal or editor can open.
    """
    return path.as_posix() if path == root else (root / path.relative_to(root)).as_posix()


def discover(root: Path) -> list[Path]:
    """All `*.yaml`/`*.yml` files below `root` (or `root` itself when it is a file),
    hidden files and directories excluded, sorted by relative path."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or not name.endswith((".yaml", ".yml")):
                continue
            path = Path(dirpath) / name
            if path.parent == root and name == CONFIG_NAME:
                continue
            found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_text(path: Path, shown: str) -> tuple[str, str]:
    """Read a file as UTF-8 (a byte-order mark is allowed); return text and sha256.

    Raises `Problem`-carrying `LoadError` for unreadable, oversized or non-UTF-8 files.
    """
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LoadError(
                Problem(
                    location=Location(path=shown),
                    message=f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit; split it",
                    code="file-too-large",
                )
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(
            Problem(
                location=Location(path=shown),
                message=f"cannot read file: {exc.strerror or exc}",
                code="unreadable",
            )
        ) from None
    digest = hashlib.sha256(data).hexdigest()
    try:
        return data.decode("utf-8-sig"), digest
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise LoadError(
            Problem(
                location=Location(path=shown, line=line, column=column),
                message=f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8",
                code="encoding",
            )
        ) from None


class LoadError(Exception):
    """One file could not be loaded; carries the problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


FastParser = Callable[[str], "tuple[Any, SourceMap] | None"]
"""A text's value and source map, exactly yaml12's, or None when only yaml12 can say."""


def load_file(path: Path, shown: str, *, parser: FastParser | None = None) -> Document:
    """Read and parse one file. With `parser` (`fastload.parse_fast` for inventory
    files, `parse_value` or `rules.fastparse.parse_rule_file` for others), yaml-rs
    parses it when its result is provably yaml12's; otherwise, and for every error,
    yaml12 does."""
    text, digest = read_text(path, shown)
    if parser is not None:
        parsed = parser(text)
        if parsed is not None:
            return Document(path=shown, value=parsed[0], source_map=parsed[1], sha256=digest)
    try:
        value, source_map = parse_yaml(text)
    except YamlError as exc:
        raise LoadError(
            Problem(
                location=Location(path=shown, line=exc.line, column=exc.column),
                message=exc.message,
                code=exc.code,
            )
        ) from None
    return Document(path=shown, value=value, source_map=source_map, sha256=digest)


PARALLEL_MIN_BYTES = 1024 * 1024
"""Below this much YAML (about 4k resources), parsing in several processes saves less
than starting them costs: with two jobs, 1.0 MB loads in 0.052 s either way, 2.4 MB
(10k resources) in 0.089 s against 0.106 s in one process (medians of 8 interleaved;
4 MB was the break-even before files were handed out from a queue)."""


def load_documents(
    root: Path, *, fast: bool = False, jobs: int | None = 1
) -> tuple[list[Document], list[Problem]]:
    """Load every file below `root`. Problems are collected, never raised, so that a
    user sees every broken file at once. `fast`: see `load_file`. `jobs`: processes
    to parse in (None: the default, see `zenpolicy.parallel`); the result is the same."""
    loaded, problems = load_each(root, _nothing, fast=fast, jobs=jobs)
    return [doc for doc, _ in loaded], problems


def _nothing(_: Document) -> None:
    return None


R = TypeVar("R")


def load_each(
    root: Path,
    process: Callable[[Document], R],
    *,
    fast: bool = False,
    jobs: int | None = 1,
    meanwhile: Callable[[], object] | None = None,
) -> tuple[list[tuple[Document, R]], list[Problem]]:
    """`load_documents`, each document with what `process` made of it. `process` runs
    on each document as soon as it is loaded, while other processes may still be
    parsing (in no set order, and again for a file loaded again): its work is shared
    with theirs instead of waiting for them. The result is in file order, the same
    for any number of jobs. `meanwhile` is called once the files are found, when the
    other processes have started parsing (first, when there are none)."""
    documents: list[tuple[Document, R]] = []
    problems: list[Problem] = []
    if not root.exists():
        problems.append(
            Problem(location=Location(path=str(root)), message="no such file or directory", code="missing")
        )
        return documents, problems
    files = [(path, display_path(path, root)) for path in discover(root)]
    done: dict[int, tuple[Document, R] | Problem] = {}
    with paused_gc():
        for index, loaded in _load_files(
            files, fast=fast, jobs=parallel.effective_jobs(jobs), meanwhile=meanwhile
        ):
            done[index] = (loaded, process(loaded)) if isinstance(loaded, Document) else loaded
    for index in range(len(files)):
        item = done[index]
        if isinstance(item, Problem):
            problems.append(item)
        else:
            documents.append(item)
    return documents, problems


def _load_one(path: Path, shown: str, fast: bool) -> Document | Problem:
    try:
        return load_file(path, shown, parser=parse_fast if fast else None)
    except LoadError as exc:
        return exc.problem


def _load_files(
    files: list[tuple[Path, str]], *, fast: bool, jobs: int, meanwhile: Callable[[], object] | None = None
) -> Iterator[tuple[int, Document | Problem]]:
    """Each file loaded, with its index, by `jobs` processes when there is enough to
    parse: the parent's files as it parses them, its children's as it finds them
    written (`parallel.Records`), so that its caller works on them meanwhile. A file
    may come twice (the second is the one): the files a child that failed had sent
    or taken are loaded again by the parent at the end.

    Files are handed out one at a time (a `parallel.TaskQueue`, the largest first), not
    cut into equal shares beforehand: the parent also works on every file, and the
    second core of a busy two-core machine is slower, so with equal shares one process
    waited 0.1 to 0.4 s for the other at 100k resources."""
    sizes = [_size(path) for path, _ in files] if jobs > 1 and len(files) > 1 else []
    if not sizes or sum(sizes) < PARALLEL_MIN_BYTES:
        if meanwhile is not None:
            meanwhile()
        for index, (path, shown) in enumerate(files):
            yield index, _load_one(path, shown, fast)
        return
    # Tasks of about equal weight: a file, or a run of small consecutive files (and no
    # more tasks than a queue holds).
    tasks = parallel.split_evenly(sizes, min(len(files), parallel.TaskQueue.MAX))
    weight = [sum(sizes[i] for i in task) for task in tasks]
    queue = parallel.TaskQueue(sorted(range(len(tasks)), key=lambda t: (-weight[t], t)))
    records = parallel.Records()
    children = range(jobs - 1)

    def taken() -> Iterator[tuple[int, Document | Problem]]:
        for task in queue:
            for index in tasks[task]:
                path, shown = files[index]
                yield index, _load_one(path, shown, fast)

    def work(shard: int, out: IO[bytes]) -> None:
        # Each file's record as soon as it is parsed: the parent reads it while this
        # child parses the next one.
        for index, loaded in taken():
            records.write(shard - 1, out, marshal.dumps((index, _to_plain(loaded))))

    done: set[int] = set()
    sent: list[list[int]] = [[] for _ in children]

    def received(child: int, data: list[memoryview]) -> Iterator[tuple[int, Document | Problem]]:
        for record in data:
            # Our own child's bytes, from a file with no name only this process tree
            # holds.
            index, plain = marshal.loads(record)  # noqa: S302
            sent[child].append(index)
            yield index, _from_plain(plain)

    with queue, records, parallel.Forked(work, range(1, jobs)) as forked:
        outputs = [forked.output(child) for child in children]
        if meanwhile is not None:
            meanwhile()  # the children parse meanwhile
        for index, loaded in taken():
            done.add(index)
            yield index, loaded
            for child, data in records.arrived(outputs):
                yield from received(child, data)
        for child in children:
            if forked.succeeded(child):
                yield from received(child, records.read(child, outputs[child], ended=True))
                done.update(sent[child])
    for index, (path, shown) in enumerate(files):
        # Taken by a process that failed (or sent by it: not trusted): loaded now.
        if index not in done:
            yield index, _load_one(path, shown, fast)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # load_file reports it


# A loaded file as plain values (marshal's: built-in types only, no code), and back.
# Parsed YAML holds only dicts, lists, strings, numbers, booleans and None.


def _to_plain(loaded: Document | Problem) -> tuple[Any, ...]:
    if isinstance(loaded, Problem):
        at = loaded.location
        return ("problem", at.path, at.line, at.column, loaded.message, loaded.code)
    source_map = loaded.source_map
    if isinstance(source_map, LazySourceMap):
        return ("lazy", loaded.path, loaded.sha256, loaded.value, source_map.state())
    return ("plain", loaded.path, loaded.sha256, loaded.value, source_map.positions)


def _from_plain(plain: tuple[Any, ...]) -> Document | Problem:
    tag = plain[0]
    if tag == "problem":
        _, path, line, column, message, code = plain
        return Problem(location=Location(path=path, line=line, column=column), message=message, code=code)
    _, path, digest, value, state = plain
    source_map = LazySourceMap.from_state(state, value) if tag == "lazy" else SourceMap(positions=state)
    return Document(path=path, value=value, source_map=source_map, sha256=digest)
