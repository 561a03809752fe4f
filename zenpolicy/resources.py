"""Where the shipped data lives (schemas and the built-in policies), and where the
caches go.

In a source checkout (and an editable install) the data sits at the repository root; a
wheel carries it inside the package under `_data/` (see pyproject.toml).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def data_dir(name: str) -> Path:
    """The directory `schemas` or `policies`, wherever this installation keeps it."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"zenpolicy's {name}/ directory is missing from this installation")


def schemas_dir() -> Path:
    return data_dir("schemas")


def policies_dir() -> Path:
    return data_dir("policies")


def cache_dir() -> Path:
    """Where the result cache's entries live (not created until something is stored);
    the stored catalogue keeps its own beside it (`rules/stored.py`)."""
    explicit = os.environ.get("ZENPOLICY_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zenpolicy"
