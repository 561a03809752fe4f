"""The parsed catalogue, kept between runs.

Loading the rules reads about a hundred YAML files with the reference parser, checks
each against the rule schema, parses its conditions and compiles its message template
with Jinja2: 0.2 to 0.3 s per run, for a result that depends on nothing but those
files and zenpolicy's own code. So a loaded `Catalogue` is stored, pickled, under a
SHA-256 of:

* the format of this file and zenpolicy's version, the Python version;
* zenpolicy's sources and schemas (their bytes);
* the libraries that read rules (PyYAML, Jinja2, jsonschema-rs, RE2): where they are
  installed, and their files' sizes and times;
* each rule directory (the built-in one first): its path, and every file below it
  (relative path and bytes).

Reading it back takes a few milliseconds. Only a catalogue that loaded without a
problem is stored; anything unexpected when reading (truncated, another format, a
directory others can write to) is a miss, and the rules are loaded from their files.
Entries live beside the result cache's directory (`zenpolicy.cache.cache_dir()`
followed by `-catalogue`); the 8 most recent are kept.

It is **off unless `ZENPOLICY_CATALOGUE_CACHE=1`**: unpickling runs code named by the
file, and a cache directory is not always the user's alone in practice (CI systems
restore caches saved by other branches' builds, so a poisoned entry would execute in
the next build). The result cache stores bytes and JSON only and stays on; this one
saves 0.2 s a run, which is not worth that risk by default.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenpolicy import __version__

if TYPE_CHECKING:
    from zenpolicy.rules.loader import Catalogue

FORMAT = 1
KEEP = 8
_LIBRARIES = ("yaml", "jinja2", "jsonschema_rs", "re2")
_PACKAGE = Path(__file__).resolve().parent.parent


def enabled() -> bool:
    return os.environ.get("ZENPOLICY_CATALOGUE_CACHE", "0") == "1"


def _directory() -> Path:
    """Beside the result cache (`~/.cache/zenpolicy-catalogue` by default), not in it:
    that one holds nothing but its own entries."""
    from zenpolicy.cache import cache_dir

    results = cache_dir()
    return results.with_name(results.name + "-catalogue")


def _tree(root: Path, suffixes: tuple[str, ...]) -> str:
    digest = hashlib.sha256()
    if root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.suffix in suffixes and "__pycache__" not in p.parts)
        for path in files:
            data = path.read_bytes()
            digest.update(f"{path.relative_to(root).as_posix()}\0{len(data)}\0".encode())
            digest.update(data)
    else:
        digest.update(b"missing")
    return digest.hexdigest()


def _library(name: str) -> str:
    """Where a library is installed, and when: a new version is new files."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return f"{name}:absent"
    origin = Path(spec.origin)
    stamps = [f"{p}:{s.st_size}:{s.st_mtime_ns}" for p in (origin, origin.parent) for s in (p.stat(),)]
    return f"{name}:{'|'.join(stamps)}"


def key(dirs: Sequence[Path]) -> str:
    """The key of the catalogue loaded from `dirs` (the built-in directory first)."""
    from zenpolicy.resources import schemas_dir

    parts = [
        f"format {FORMAT}",
        f"zenpolicy {__version__}",
        f"python {sys.version}",
        f"sources {_tree(_PACKAGE, ('.py',))}",
        f"schemas {_tree(schemas_dir(), ('.json',))}",
        *(_library(name) for name in _LIBRARIES),
        *(f"rules {d.resolve().as_posix()} {_tree(d, ('.yaml', '.yml'))}" for d in dirs),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(entry_key: str) -> Catalogue | None:
    """The catalogue stored under `entry_key`, with its messages' plans, or None."""
    from zenpolicy.rules import message
    from zenpolicy.rules.loader import Catalogue

    path = _directory() / f"{entry_key}.pickle"
    try:
        if not _private(path.parent):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    try:
        # Our own file, in a directory only this user can write to (checked above).
        stored: Any = pickle.loads(data)  # noqa: S301
        ok = (
            type(stored) is tuple
            and len(stored) == 3
            and stored[0] == entry_key
            and type(stored[1]) is Catalogue
            and type(stored[2]) is dict
        )
    except Exception:  # truncated, or written by other code: a miss
        ok = False
    if not ok:
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    message.remember_plans(stored[2])
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used
    catalogue: Catalogue = stored[1]
    return catalogue


def store(entry_key: str, catalogue: Catalogue) -> None:
    """Keep `catalogue` (and its messages' plans) for the next runs; never raises."""
    from zenpolicy.rules import message

    directory = _directory()
    plans = {rule.message: message.plan(rule.message) for rule in catalogue.rules}
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):
            return
        data = pickle.dumps((entry_key, catalogue, plans), protocol=pickle.HIGHEST_PROTOCOL)
        tmp = directory / f".tmp-{os.getpid()}-{entry_key}"
        tmp.write_bytes(data)
        os.replace(tmp, directory / f"{entry_key}.pickle")
        entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink()
    except Exception:  # a full disk, a read-only directory, a value pickle refuses
        return


def _private(directory: Path) -> bool:
    """Whether only this user can write to `directory` (where that can be asked)."""
    if not hasattr(os, "getuid"):
        return True
    status = directory.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
