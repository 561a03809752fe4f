"""The parsed catalogue, kept between runs.

Loading the rules reads about a hundred YAML files with the reference parser, checks
each against the rule schema, parses its conditions and compiles its message template
templates without a plan with Jinja2: about 0.15 s per run, for a result that depends
on nothing but those
files and zenpolicy's own code. So a loaded `Catalogue` is stored, as JSON, under a
SHA-256 of:

* the format of this file and zenpolicy's version, the Python version;
* zenpolicy's sources and schemas (their bytes);
* the libraries that read rules (PyYAML, yaml-rs, Jinja2, jsonschema-rs, RE2): where they are
  installed, and their files' sizes and times;
* each rule directory (the built-in one first): its path, and every file below it
  (relative path and bytes).

Reading it back takes about 25 ms (JSON, then the dataclasses), and the key 10 ms.
Only a catalogue that loaded without a
problem is stored; anything unexpected when reading (truncated, another format, a
directory others can write to) is a miss, and the rules are loaded from their files.
Entries live beside the result cache's directory (`zenpolicy.resources.cache_dir()`
followed by `-catalogue`); the 8 most recent are kept.

Reading an entry runs no code: it is JSON, and the decoder builds only the rule
language's own frozen dataclasses (an allow-list), from their fields; plain values
(a rule file's content, examples, literals) stay the JSON values they were written as.

It is **on by default**, like the result cache, and off with `--no-cache` or
`ZENPOLICY_CATALOGUE_CACHE=0`. It was opt-in while entries were pickles (unpickling
runs code, and a cache directory is not always the user's alone: CI systems restore
caches saved by other branches' builds). What remains is the result cache's own risk,
which the default already accepts: an entry planted in the user's cache directory
changes what is checked. It saves 60-70 ms a run, a fifth of a check of the example
estate.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zenpolicy import __version__
from zenpolicy.digests import install_digests, library_stamp, tree_digest
from zenpolicy.resources import cache_dir

if TYPE_CHECKING:
    from zenpolicy.rules.loader import Catalogue

FORMAT = 2
KEEP = 8
_LIBRARIES = ("yaml", "yaml_rs", "jinja2", "jsonschema_rs", "re2")


def enabled() -> bool:
    """On unless `ZENPOLICY_CATALOGUE_CACHE=0` (`--no-cache` is the caller's to honour)."""
    return os.environ.get("ZENPOLICY_CATALOGUE_CACHE", "1").strip() != "0"


def _directory() -> Path:
    """Beside the result cache (`~/.cache/zenpolicy-catalogue` by default), not in it:
    that one holds nothing but its own entries."""
    results = cache_dir()
    return results.with_name(results.name + "-catalogue")


def key(dirs: Sequence[Path]) -> str:
    """The key of the catalogue loaded from `dirs` (the built-in directory first)."""
    sources, schemas = install_digests()
    parts = [
        f"format {FORMAT}",
        f"zenpolicy {__version__}",
        f"python {sys.version}",
        f"sources {sources}",
        f"schemas {schemas}",
        *(library_stamp(name) for name in _LIBRARIES),
        *(f"rules {d.resolve().as_posix()} {tree_digest(d, ('.yaml', '.yml'))}" for d in dirs),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def load(entry_key: str) -> Catalogue | None:
    """The catalogue stored under `entry_key`, with its messages' plans, or None."""
    from zenpolicy.rules import message
    from zenpolicy.rules.loader import Catalogue

    path = _directory() / f"{entry_key}.json"
    try:
        if not _private(path.parent):
            return None
        data = path.read_bytes()
    except OSError:
        return None
    try:
        stored = json.loads(data)
        if stored.get("format") != FORMAT or stored.get("key") != entry_key:
            raise ValueError("another entry")
        catalogue = decode(stored["catalogue"])
        plans = decode(stored["plans"])
        if type(catalogue) is not Catalogue or type(plans) is not dict:
            raise ValueError("not a catalogue")
    except Exception:  # truncated, another format, another key, a class not allowed: a miss
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    message.remember_plans(plans)
    with contextlib.suppress(OSError):
        os.utime(path)  # most recently used
    return catalogue


def store(entry_key: str, catalogue: Catalogue) -> None:
    """Keep `catalogue` (and its messages' plans) for the next runs; never raises."""
    from zenpolicy.rules import message

    directory = _directory()
    try:
        plans = {rule.message: message.plan(rule.message) for rule in catalogue.rules}
        data = json.dumps(
            {"format": FORMAT, "key": entry_key, "catalogue": encode(catalogue), "plans": encode(plans)},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _private(directory):
            return
        tmp = directory / f".tmp-{os.getpid()}-{entry_key}"
        tmp.write_bytes(data)
        os.replace(tmp, directory / f"{entry_key}.json")
        entries = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in entries[KEEP:]:
            old.unlink()
    except Exception:  # a full disk, a read-only directory, a value JSON cannot hold
        return


# ---- the format: JSON, tagged where JSON has no such value --------------------------------
# ["D", class, [fields]] a dataclass of the allow-list; ["T", [...]] a tuple; ["S", n] a
# Severity; ["M", {...}] a dict; ["L", [...]] a list; ["J", value] plain JSON (dicts with
# text keys, lists, text, numbers, booleans, null) taken as it is. Scalars stand alone.


@cache
def _classes() -> dict[str, tuple[type, tuple[str, ...]]]:
    """The dataclasses an entry may hold, by name, with their fields' names."""
    from zenpolicy.model import Clause, Location
    from zenpolicy.rules import ast
    from zenpolicy.rules.loader import Catalogue
    from zenpolicy.rules.model import Example, ParamSpec, Rule

    nodes = [getattr(ast, name) for name in dir(ast)]
    allowed = [cls for cls in nodes if isinstance(cls, type) and dataclasses.is_dataclass(cls)]
    allowed += [Catalogue, Rule, Example, ParamSpec, Clause, Location]
    return {cls.__name__: (cls, tuple(f.name for f in dataclasses.fields(cls))) for cls in allowed}


def _plain(value: Any) -> bool:
    """Whether JSON gives `value` back exactly as it is."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return True  # repr round-trips; NaN and infinities are written as JSON allows
    if kind is list:
        return all(_plain(v) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain(v) for k, v in value.items())
    return False


def encode(value: Any) -> Any:
    from zenpolicy.model import Severity

    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if kind is Severity:
        return ["S", int(value)]
    if kind is tuple:
        return ["T", [encode(v) for v in value]]
    if (kind is list or kind is dict) and _plain(value):
        return ["J", value]
    if kind is list:
        return ["L", [encode(v) for v in value]]
    if kind is dict and all(type(k) is str for k in value):
        return ["M", {k: encode(v) for k, v in value.items()}]
    allowed = _classes().get(kind.__name__)
    if allowed is not None and allowed[0] is kind:
        return ["D", kind.__name__, [encode(getattr(value, name)) for name in allowed[1]]]
    raise TypeError(f"cannot store a {kind.__name__}")


def decode(value: Any) -> Any:
    """The value `encode` gave; raises for anything it could not have given (a class
    that is not allowed, a tag it does not write, a wrong number of fields)."""
    from zenpolicy.model import Severity

    classes = _classes()

    def back(value: Any) -> Any:
        if type(value) is not list:
            if type(value) is dict:
                raise ValueError("an untagged mapping")
            return value
        tag, body = value[0], value[1]
        if tag == "D":
            cls, names = classes[body]  # KeyError for a class not allowed
            fields = value[2]
            if len(fields) != len(names):
                raise ValueError(f"{body}: {len(fields)} fields")
            return cls(**{name: back(v) for name, v in zip(names, fields, strict=True)})
        if tag == "J":
            return body
        if tag == "T":
            return tuple([back(v) for v in body])
        if tag == "M":
            return {k: back(v) for k, v in body.items()}
        if tag == "L":
            return [back(v) for v in body]
        if tag == "S":
            return Severity(body)
        raise ValueError(f"unknown tag {tag!r}")

    return back(value)


def _private(directory: Path) -> bool:
    """Whether only this user can write to `directory` (where that can be asked)."""
    if not hasattr(os, "getuid"):
        return True
    status = directory.stat()
    return status.st_uid == os.getuid() and not status.st_mode & 0o022
