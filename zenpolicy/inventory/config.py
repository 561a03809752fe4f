"""The inventory's optional configuration file (`zenpolicy.yaml` at the root)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

from zenpolicy.inventory.fastload import parse_value
from zenpolicy.inventory.loader import CONFIG_NAME, LoadError, load_file
from zenpolicy.inventory.schema import KindValidator
from zenpolicy.inventory.yaml12 import SourceMap
from zenpolicy.model import InputFile, Location, Problem
from zenpolicy.resources import schemas_dir


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    organisation: str | None = None
    as_of: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    location: Location | None = None
    """Where the file is (None when there is none)."""
    input_file: InputFile | None = None
    source_map: SourceMap | None = field(default=None, compare=False, repr=False)
    """Positions in the file: asked only to point at a problem, and read on demand
    (a valid configuration is never parsed by yaml12, nor PyYAML imported for it)."""

    def param_location(self, name: str) -> Location | None:
        """Where parameter `name` is set in the file (None: not set there)."""
        if self.location is None or self.source_map is None:
            return None
        pos = self.source_map.get(("params", name))
        return None if pos is None else Location(path=self.location.path, line=pos[0], column=pos[1])


def load_config(root: Path) -> tuple[Config, list[Problem]]:
    path = root / CONFIG_NAME
    if not root.is_dir() or not path.is_file():
        return Config(), []
    shown = path.as_posix()
    try:
        # A valid configuration's positions are not needed (yaml12 gives them on demand).
        doc = load_file(path, shown, parser=parse_value)
    except LoadError as exc:
        return Config(), [exc.problem]
    value = doc.value if doc.value is not None else {}
    schema = json.loads((schemas_dir() / "config.schema.json").read_text(encoding="utf-8"))
    if not jsonschema_rs.validator_for(schema, validate_formats=True).is_valid(value):
        problems = []
        for sp in KindValidator("configuration", schema).problems(value):
            line, column = doc.source_map.get(tuple(sp.path)) or (1, 1)
            problems.append(
                Problem(
                    location=Location(path=shown, line=line, column=column),
                    message=sp.message,
                    code=sp.code,
                )
            )
        return Config(), problems
    return Config(
        organisation=value.get("organisation"),
        as_of=value.get("as_of"),
        params=dict(value.get("params", {})),
        location=Location(path=shown, line=1, column=1),
        input_file=InputFile(path=shown, sha256=doc.sha256),
        source_map=doc.source_map,
    ), []
