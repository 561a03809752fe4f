"""Where the shipped data lives: schemas and the built-in policies.

In a source checkout (and an editable install) they sit at the repository root; a
wheel carries them inside the package under `_data/` (see pyproject.toml).
"""

from __future__ import annotations

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
