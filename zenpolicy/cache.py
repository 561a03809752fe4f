"""The result cache: an unchanged rerun of `check` reprints the previous result.

`check` uses it through zenpolicy/cli_report.py: key, replay, else run and record.

What is cached: the finished output of a run (the rendered report, or a `Report`), keyed
by a SHA-256 of everything that can change it:

* the tool: zenpolicy's version *and* a hash of its own source files and shipped data
  (schemas, built-in policies), the versions of the libraries that decide values
  (yaml-rs, PyYAML, jsonschema, jsonschema-rs, cronsim, Jinja2) and of Python: a
  development checkout that edits one line gets a new key, as does any upgrade;
* the rules: the content of every file below each custom `--policies` directory;
* the inputs: every inventory file and the configuration file, path and SHA-256;
* the options: as_of (resolved: a default of "today" changes the key every day),
  parameter overrides, --select/--skip, the engine, and whatever the caller adds (the
  output format and its rendering options).

Why not cache parsed documents per file, so that a one-file change reparses only that
file? Measured at 100k resources: `marshal.loads` of the parsed documents takes as long
as parsing them with the fast path (0.74 s vs 0.8 s), because building the Python objects
is the cost either way; evaluation is not per file (references cross files). So a
changed file means a full, fast recomputation, and an unchanged inventory means none.

Where: `$ZENPOLICY_CACHE_DIR`, else `$XDG_CACHE_HOME/zenpolicy`, else
`~/.cache/zenpolicy`, never inside the inventory: a checkout under review must not be
able to plant a cache entry that the tool then trusts. Safe to delete at any time. Each
entry is one file written atomically (temporary file, then rename), holding a header
with the key, the payload's length and CRC-32, then the payload: an entry that is
truncated, corrupted or written for another key is ignored and removed. The CRC guards
against accidents (a full disk, a killed process), not against someone who can write
to your cache directory, which is created private (0700). The directory keeps the most
recently used entries, within `MAX_ENTRIES` and `MAX_BYTES`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import os
import queue
import tempfile
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, BinaryIO

from zenpolicy.digests import tool_fingerprint, tree_digest
from zenpolicy.model import (
    Check,
    Clause,
    Finding,
    InputFile,
    Location,
    Report,
    RuleInfo,
    Severity,
    Status,
    canonical_json,
)
from zenpolicy.options import CheckOptions
from zenpolicy.resources import cache_dir

CACHE_FORMAT = 1
"""Bumped when the layout of an entry changes; part of every key."""

MAX_ENTRIES = 16
MAX_BYTES = 2 * 1024**3
"""Older entries are removed beyond these (a 100k-resource JSON report is about 195 MB)."""

_MAGIC = b"zenpolicy-cache\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One cached result."""

    payload: bytes
    """The result itself (a rendered report, or `report_to_bytes`)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Small JSON facts the caller needs without decoding the payload (exit code...)."""


# ---- keys -------------------------------------------------------------------------------


def input_files(root: Path) -> list[InputFile]:
    """Every file `load_inventory(root)` reads, with its SHA-256, sorted by path."""
    from zenpolicy.inventory.loader import CONFIG_NAME, discover, display_path

    files = [] if not root.exists() else discover(root)
    out = [
        InputFile(path=display_path(p, root), sha256=hashlib.sha256(p.read_bytes()).hexdigest())
        for p in files
    ]
    config = root / CONFIG_NAME
    if root.is_dir() and config.is_file():
        out.append(InputFile(path=config.as_posix(), sha256=hashlib.sha256(config.read_bytes()).hexdigest()))
    return sorted(out, key=lambda i: i.path)


def make_key(
    *,
    inputs: Sequence[InputFile],
    policies: Sequence[Path] = (),
    options: Mapping[str, Any],
) -> str:
    """The cache key of a run. `options` must hold every other thing the result depends
    on (as_of resolved, params, select, skip, engine, format...), JSON-serialisable."""
    parts = {
        "format": CACHE_FORMAT,
        "tool": tool_fingerprint(),
        "inputs": [[i.path, i.sha256] for i in inputs],
        "policies": [[p.as_posix(), tree_digest(p)] for p in policies],
        "options": options,
    }
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()


def cacheable(options: CheckOptions) -> bool:
    """False for `--no-cache`, a timestamped report, and the OPA engine (the server holds
    state we cannot hash)."""
    extra = options.extra
    return options.engine == "native" and not extra.get("no_cache") and not extra.get("generated_at")


def pin_as_of(options: CheckOptions) -> CheckOptions:
    """`options` with as_of resolved as `check` resolves it (the configuration's, else
    today in UTC), so that the key and the run agree on the date even across midnight.
    Unchanged when the run is not cacheable or the configuration is invalid (the run
    reports it)."""
    from zenpolicy.inventory.config import load_config
    from zenpolicy.rules.timeutil import today

    if options.as_of is not None or not cacheable(options):
        return options
    config, problems = load_config(options.path)
    if problems:
        return options
    return replace(options, as_of=config.as_of or today())


def check_key(
    options: CheckOptions,
    *,
    render: Mapping[str, Any] | None = None,
    inputs: Sequence[InputFile] | None = None,
) -> str | None:
    """The key of a `check` run, or None when its result must not be cached (see
    `cacheable`), or when the configuration is invalid or an input cannot be read (the
    run will report it). `render`: the output format and its options, when the payload
    is rendered text. `inputs`: the files as a run read them (`Report.inputs`), instead
    of reading them now: a key made after a run must equal the one made before it for
    the run's result to be stored."""
    from zenpolicy.inventory.config import load_config
    from zenpolicy.rules.timeutil import today

    if not cacheable(options):
        return None
    as_of = options.as_of
    try:
        if as_of is None:
            config, problems = load_config(options.path)
            if problems:
                return None
            as_of = config.as_of or today()
        return make_key(
            inputs=input_files(options.path) if inputs is None else inputs,
            policies=options.policies,
            options={
                "inventory": options.path.as_posix(),
                "as_of": as_of,
                "params": dict(options.params),
                "select": list(options.select),
                "skip": list(options.skip),
                "engine": options.engine,
                "render": dict(render or {}),
            },
        )
    except OSError:
        return None


# ---- entries ----------------------------------------------------------------------------


def _entry_path(key: str) -> Path:
    return cache_dir() / f"{key}.entry"


def load(key: str) -> Entry | None:
    """The entry stored under `key`, or None (absent, or not intact: then removed)."""
    path = _entry_path(key)
    try:
        with path.open("rb") as handle:
            data = handle.read()
    except OSError:
        return None
    entry = _decode(data, key)
    if entry is None:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used: pruned last
    return entry


def _decode(data: bytes, key: str) -> Entry | None:
    if not data.startswith(_MAGIC):
        return None
    end = data.find(b"\n", len(_MAGIC))
    if end < 0:
        return None
    header = _header(data[len(_MAGIC) : end], key)
    payload = data[end + 1 :]
    if header is None or header["length"] != len(payload) or header["crc32"] != zlib.crc32(payload):
        return None
    return Entry(payload=payload, meta=header["meta"])


def store(key: str, entry: Entry) -> bool:
    """Store `entry` under `key`, atomically; False if it could not be written (a cache
    is an optimisation: a read-only or full disk never fails a run)."""
    with Recorder(key) as recorder:
        recorder.write(entry.payload)
        return recorder.commit(entry.meta)


_PENDING = 8
"""Chunks (1 MB each, or a few MB) waiting for the recorder's writer thread, at most."""

_HEADER_ROOM = 4096
"""Bytes kept for the header line, so that a payload can be written before its length
and CRC-32 are known: the header is written over the room at the end, padded with
spaces (which JSON ignores)."""


class Recorder:
    """Writes an entry while its payload is produced, chunk by chunk (a 195 MB report is
    stored without being held in memory), into a temporary file that `commit` renames
    into place. Never raises for the cache's own failures: it stops recording instead.

    The chunks are written, and their CRC-32 computed, by a thread of their own (both
    release the GIL): a first run at 100k resources (every CI job in a fresh container)
    paid 0.15 s for them in its report stage, while the report itself was being written.
    At most `_PENDING` chunks wait for it. While it runs, `parallel` does not fork (a
    threaded process): the reports `check` caches are rendered before their first chunk
    is written, or in this process (a renderer that forked while its report streams,
    as `formats.json.stream` does for the OPA engine, would render alone here).

        with Recorder(key) as recorder:
            for chunk in recorder.tee(chunks):
                ...
            recorder.commit(meta)

    Leaving the `with` block without `commit` (an exception, a failed run) removes the
    temporary file.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        self.length = 0
        self.crc32 = 0
        self._handle: BinaryIO | None = None
        self._tmp: str | None = None
        self._pending: queue.Queue[bytes | None] = queue.Queue(maxsize=_PENDING)
        self._writer: threading.Thread | None = None
        self._failed = False
        directory = cache_dir()
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".entry")
            self._handle = os.fdopen(fd, "wb")
            self._handle.write(_MAGIC + b" " * (_HEADER_ROOM - 1) + b"\n")
        except OSError:
            self.abort()

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()

    @property
    def recording(self) -> bool:
        return self._handle is not None

    def write(self, chunk: bytes) -> None:
        if self._handle is None:
            return
        if self._writer is None:
            self._writer = threading.Thread(target=self._drain, args=(self._handle,), daemon=True)
            self._writer.start()
        self._pending.put(chunk)

    def _drain(self, handle: BinaryIO) -> None:
        """The writer thread: each chunk written and counted, until None. After a failure
        the rest is only taken off the queue (`commit` then gives up)."""
        while (chunk := self._pending.get()) is not None:
            if self._failed:
                continue
            try:
                handle.write(chunk)
                self.crc32 = zlib.crc32(chunk, self.crc32)
            except Exception:  # a cache never fails a run: it stops recording
                self._failed = True
                continue
            self.length += len(chunk)

    def _written(self) -> bool:
        """Wait for the writer thread to write what it was given; whether all of it was."""
        writer, self._writer = self._writer, None
        if writer is not None:
            self._pending.put(None)
            writer.join()
        return not self._failed

    def tee(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Pass `chunks` on, recording each."""
        for chunk in chunks:
            self.write(chunk)
            yield chunk

    def commit(self, meta: Mapping[str, Any]) -> bool:
        """Make the entry visible under its key; False if it could not be."""
        if self._handle is None or self._tmp is None:
            return False
        if not self._written():
            self.abort()
            return False
        header = {
            "format": CACHE_FORMAT,
            "key": self.key,
            "length": self.length,
            "crc32": self.crc32,
            "meta": dict(meta),
        }
        line = json.dumps(header, sort_keys=True).encode()
        if len(line) >= _HEADER_ROOM or b"\n" in line:
            self.abort()
            return False
        try:
            self._handle.seek(len(_MAGIC))
            self._handle.write(line.ljust(_HEADER_ROOM - 1))
            self._handle.close()
            os.replace(self._tmp, _entry_path(self.key))
        except OSError:
            self.abort()
            return False
        self._handle = self._tmp = None
        prune()
        return True

    def abort(self) -> None:
        """Stop recording and remove the temporary file (nothing once committed)."""
        self._written()  # the writer thread done with the file first
        handle, tmp = self._handle, self._tmp
        self._handle = self._tmp = None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class _Damaged(Exception):
    """The entry's payload does not match its header's CRC-32."""


_BLOCK = 16 * 1024 * 1024


def _open(key: str, accept: Callable[[dict[str, Any]], bool]) -> tuple[BinaryIO, dict[str, Any]] | None:
    """The entry's file, positioned at its payload, and its header; None when there is no
    entry, or none whose header and size are intact and whose meta `accept` takes (then
    it is removed)."""
    path = _entry_path(key)
    try:
        handle = path.open("rb")
    except OSError:
        return None
    try:
        magic = handle.read(len(_MAGIC))
        header = _header(handle.readline(), key) if magic == _MAGIC else None
        if (
            header is not None
            and os.fstat(handle.fileno()).st_size == handle.tell() + header["length"]
            and accept(header["meta"])
        ):
            return handle, header
    except OSError:
        pass
    handle.close()
    _remove(key)
    return None


def _remove(key: str) -> None:
    with contextlib.suppress(OSError):
        _entry_path(key).unlink()


def _used(key: str) -> None:
    with contextlib.suppress(OSError):
        os.utime(_entry_path(key))  # most recently used: pruned last


def _payload(handle: BinaryIO, header: Mapping[str, Any]) -> Iterator[bytes]:
    """The payload in blocks; raises _Damaged after the last one if its CRC-32 is wrong."""
    crc = 0
    while block := handle.read(_BLOCK):
        crc = zlib.crc32(block, crc)
        yield block
    if crc != header["crc32"]:
        raise _Damaged


def replay(
    key: str, target: Path, accept: Callable[[dict[str, Any]], bool] = lambda meta: True
) -> dict[str, Any] | None:
    """Make the file `target` hold the output cached under `key`; return its meta, or
    None when there is no intact entry, or `accept` refuses its meta (then nothing was
    written).

    When `target` already holds exactly that output (same length, same CRC-32, as after
    the previous run), it is not written again, only its modification time set (as a
    rewrite would): at 100k resources the report is about 195 MB, and writing it again costs
    more than the rest of a cached run. Otherwise it is replaced atomically as the entry
    is read, and left as it was if the entry proves damaged on the way.

    Raises OutputError when `target` could not be written (even when it holds the output
    already: as a rewrite would).
    """
    from zenpolicy.output import check_writable, write_atomic_chunks

    opened = _open(key, accept)
    if opened is None:
        return None
    handle, header = opened
    with handle:
        check_writable(target)  # fail where a rewrite would, even if the file is up to date
        if _file_crc32(target, header["length"]) == header["crc32"]:
            with contextlib.suppress(OSError):
                os.utime(target)
        else:
            try:
                write_atomic_chunks(target, _payload(handle, header))
            except _Damaged:
                _remove(key)
                return None
    _used(key)
    return dict(header["meta"])


def replay_to(
    key: str, write: Callable[[bytes], None], accept: Callable[[dict[str, Any]], bool] = lambda meta: True
) -> dict[str, Any] | None:
    """Pass the output cached under `key` to `write`, in blocks; return its meta, or None
    when there is no intact entry, or `accept` refuses its meta (then `write` was not
    called). The payload is checked
    whole before the first block is passed on (read twice: the OS caches it)."""
    opened = _open(key, accept)
    if opened is None:
        return None
    handle, header = opened
    with handle:
        start = handle.tell()
        try:
            for _ in _payload(handle, header):
                pass
            handle.seek(start)
        except _Damaged:
            _remove(key)
            return None
        except OSError:
            return None
        for block in _payload(handle, header):
            write(block)
    _used(key)
    return dict(header["meta"])


def _header(line: bytes, key: str) -> dict[str, Any] | None:
    try:
        header = json.loads(line)
    except ValueError:
        return None
    ok = (
        isinstance(header, dict)
        and header.get("format") == CACHE_FORMAT
        and header.get("key") == key
        and isinstance(header.get("length"), int)
        and isinstance(header.get("crc32"), int)
        and isinstance(header.get("meta"), dict)
    )
    return header if ok else None


def _file_crc32(path: Path, length: int) -> int | None:
    """The CRC-32 of a file of exactly `length` bytes, else None."""
    try:
        if path.stat().st_size != length:
            return None
        crc = 0
        with path.open("rb") as handle:
            while chunk := handle.read(_BLOCK):
                crc = zlib.crc32(chunk, crc)
        return crc
    except OSError:
        return None


def prune(max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
    """Remove the least recently used entries beyond the limits, and stale temporaries."""
    try:
        found = []
        for path in cache_dir().iterdir():
            stat = path.stat()
            if path.name.endswith(".entry") and not path.name.startswith(".tmp-"):
                found.append((stat.st_mtime, stat.st_size, path))
            elif path.name.startswith(".tmp-") and stat.st_mtime < _now() - 3600:
                path.unlink()  # left behind by a process killed while writing
    except OSError:
        return
    found.sort(reverse=True)
    total = 0
    for index, (_, size, path) in enumerate(found):
        total += size
        if index >= max_entries or total > max_bytes:
            with contextlib.suppress(OSError):
                path.unlink()


def _now() -> float:
    import time

    return time.time()


# ---- reports as payloads ----------------------------------------------------------------
# A Report as plain values for marshal: exact (tuples stay tuples, 1 stays apart from
# 1.0 and True, NaN survives) and faster to load than JSON. Generic over the model's
# dataclasses, so that a field added to Report or Finding is carried without a change
# here; every tuple is tagged, so that a dataclass and a tuple cannot be confused.

_CLASSES: dict[str, Any] = {
    cls.__name__: cls for cls in (Report, RuleInfo, Clause, Finding, Check, Location, InputFile)
}
_ENUMS: dict[str, Any] = {cls.__name__: cls for cls in (Severity, Status)}
_FIELDS = {name: tuple(f.name for f in fields(cls)) for name, cls in _CLASSES.items()}
_PLAIN = (str, int, float, bool, type(None), bytes)


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    name = kind.__name__
    if name in _FIELDS and kind is _CLASSES[name]:
        return ("D", name, tuple(_encode(getattr(value, f)) for f in _FIELDS[name]))
    if name in _ENUMS and kind is _ENUMS[name]:
        return ("E", name, value.value)
    if kind is tuple:
        return ("T", tuple(_encode(v) for v in value))
    if kind is list:
        return [_encode(v) for v in value]
    if kind is dict:
        return {k: _encode(v) for k, v in value.items()}
    raise ValueError(f"cannot cache a value of type {name}")


def _decode_value(value: Any) -> Any:
    kind = type(value)
    if kind is tuple:
        tag = value[0]
        if tag == "D":
            cls, names = _CLASSES[value[1]], _FIELDS[value[1]]
            return cls(**{n: _decode_value(v) for n, v in zip(names, value[2], strict=True)})
        if tag == "E":
            return _ENUMS[value[1]](value[2])
        if tag == "T":
            return tuple(_decode_value(v) for v in value[1])
        raise ValueError(f"unknown tag {tag!r}")
    if kind is list:
        return [_decode_value(v) for v in value]
    if kind is dict:
        return {k: _decode_value(v) for k, v in value.items()}
    return value


def report_to_bytes(report: Report) -> bytes:
    """The report as a payload. Raises ValueError for a value that is not plain data."""
    return marshal.dumps(_encode(report))


def report_from_bytes(data: bytes) -> Report | None:
    """The report `report_to_bytes` wrote, or None if the bytes are not one."""
    try:
        report = _decode_value(marshal.loads(data))  # noqa: S302 - our own entry, CRC-checked, in a private directory
    except (ValueError, TypeError, EOFError, IndexError, KeyError):
        return None
    return report if isinstance(report, Report) else None
