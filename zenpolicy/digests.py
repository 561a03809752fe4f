"""What identifies this installation and a tree of files, as SHA-256 digests.

The result cache (`zenpolicy.cache`) and the stored catalogue (`rules/stored.py`) key
their entries on these, so that an entry is never trusted once the tool, a library
that decides values or an input has changed. Here, apart from both, so that the rule
language can key its store without importing the result cache (which imports the
inventory loader and the report model's codecs).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from zenpolicy import __version__
from zenpolicy.model import canonical_json
from zenpolicy.resources import policies_dir, schemas_dir

LIBRARIES = ("yaml_rs", "yaml", "jsonschema", "jsonschema_rs", "cronsim", "jinja2", "re2", "orjson", "click")
"""The libraries whose behaviour reaches a report (by import name)."""


def _digest_files(paths: Iterable[Path], base: Path) -> list[tuple[str, str]]:
    out = []
    for path in paths:
        rel = path.relative_to(base).as_posix()
        out.append((rel, hashlib.sha256(path.read_bytes()).hexdigest()))
    return sorted(out)


def library_stamp(name: str) -> str:
    """Where a library is installed, and when (sizes and times of its module and its
    directory): another version is other files. Found without importing the library
    and without `importlib.metadata`, whose import and scan of every installed
    distribution cost more than the rest of a small check's key."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        return f"{name}:absent"
    origin = Path(spec.origin)
    stamps = [f"{p}:{s.st_size}:{s.st_mtime_ns}" for p in (origin, origin.parent) for s in (p.stat(),)]
    return f"{name}:{'|'.join(stamps)}"


def tree_digest(root: Path, suffixes: tuple[str, ...] = ()) -> str:
    """SHA-256 over the relative paths and contents of the files below `root`."""
    if not root.exists():
        return "missing"
    if root.is_file():
        return hashlib.sha256(root.read_bytes()).hexdigest()
    files = [
        p
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and (not suffixes or p.name.endswith(suffixes))
    ]
    return hashlib.sha256(canonical_json(_digest_files(files, root)).encode()).hexdigest()


@cache
def install_digests() -> tuple[str, str]:
    """The digests of this installation's Python sources and of its schemas: they
    change only with the installation, so once per process (the stored catalogue's key
    and the result cache's both hold them)."""
    return tree_digest(Path(__file__).resolve().parent, (".py",)), tree_digest(schemas_dir())


@cache
def tool_fingerprint() -> str:
    """What identifies this installation's behaviour (computed once per process)."""
    sources, schemas = install_digests()
    libraries = {name: library_stamp(name) for name in LIBRARIES}
    parts = {
        "zenpolicy": __version__,
        "source": sources,
        "schemas": schemas,
        "policies": tree_digest(policies_dir()),
        "libraries": libraries,
        "python": sys.version,
        "fast_yaml": os.environ.get("ZENPOLICY_FAST_YAML", "1"),
    }
    return hashlib.sha256(canonical_json(parts).encode()).hexdigest()
