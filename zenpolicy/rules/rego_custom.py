"""User Rego modules, conftest-style, evaluated beside the compiled catalogue.

A user module lives in a package under `zenpolicy.custom` and defines `deny`, a set of
messages, or of objects `{"msg": ..., "address": "kind.name"}` naming the resource at
fault. Its package METADATA gives the finding's rule ID and severity:

    # METADATA
    # title: No server exposes SSH to the internet
    # custom:
    #   id: ORG-SSH-01
    #   severity: high
    package zenpolicy.custom.ssh

    import rego.v1

    deny contains {"msg": msg, "address": concat(".", ["server", name])} if {
        some name, server in input.resources.server
        server.public_ssh == true
        msg := sprintf("server %s exposes SSH", [name])
    }

Every `deny` value becomes one `fail` finding. Without METADATA, the ID is the package
path below `zenpolicy.custom` and the severity `medium`. The package root is fixed so
that a module can never shadow or replace a compiled rule (`zenpolicy.rules.*`), and so
that all of them sit under the bundle root `zenpolicy`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zenpolicy.errors import InputError
from zenpolicy.model import Location, Problem, Severity

CUSTOM_PACKAGE = "zenpolicy.custom"
DEFAULT_SEVERITY = Severity.MEDIUM

_PACKAGE_RE = re.compile(r"^package[ \t]+([A-Za-z_][A-Za-z0-9_.]*)[ \t]*(#.*)?$", re.MULTILINE)
_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*\Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomModule:
    """One user Rego module and what its METADATA says."""

    path: str
    """The file, as given."""
    name: str
    """The package below `zenpolicy.custom` (`ssh`, or `team.ssh`)."""
    rule_id: str
    severity: Severity
    title: str
    source: str

    @property
    def policy_id(self) -> str:
        """The id it is uploaded under (`zenpolicy/custom/ssh`)."""
        return "zenpolicy/custom/" + self.name.replace(".", "/")


def load_custom_modules(paths: Sequence[Path], known_ids: Sequence[str] = ()) -> tuple[CustomModule, ...]:
    """Read and check every module; raises InputError listing every problem."""
    modules: list[CustomModule] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(_problem(path, 0, f"cannot read the Rego module: {exc.strerror or exc}"))
            continue
        except UnicodeDecodeError:
            problems.append(_problem(path, 0, "the Rego module is not UTF-8 text"))
            continue
        module = parse_custom_module(path, text, problems)
        if module is not None:
            modules.append(module)
    seen: dict[str, str] = {rule_id: "the rule catalogue" for rule_id in known_ids}
    names: dict[str, str] = {}
    for module in modules:
        where = seen.setdefault(module.rule_id, module.path)
        if where != module.path:
            problems.append(
                _problem(Path(module.path), 0, f"rule ID {module.rule_id} is already used by {where}")
            )
        other = names.setdefault(module.name, module.path)
        if other != module.path:
            problems.append(
                _problem(Path(module.path), 0, f"package {CUSTOM_PACKAGE}.{module.name} is also in {other}")
            )
    if problems:
        raise InputError(problems, what="Rego modules")
    return tuple(modules)


def parse_custom_module(path: Path, text: str, problems: list[Problem]) -> CustomModule | None:
    match = _PACKAGE_RE.search(text)
    if match is None:
        problems.append(_problem(path, 1, "no `package` line: a Rego module starts with one"))
        return None
    package = match.group(1)
    line = text.count("\n", 0, match.start()) + 1
    prefix = CUSTOM_PACKAGE + "."
    if not package.startswith(prefix) or len(package) == len(prefix):
        problems.append(
            _problem(path, line, f"package {package} must be under {prefix} (zenpolicy.custom.NAME)")
        )
        return None
    name = package[len(prefix) :]
    meta = _metadata(text[: match.start()])
    if isinstance(meta, str):
        problems.append(_problem(path, line, meta))
        return None
    found = meta.get("custom")
    custom: dict[str, Any] = found if isinstance(found, dict) else {}
    rule_id = custom.get("id", name)
    severity = custom.get("severity", str(DEFAULT_SEVERITY))
    if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
        problems.append(_problem(path, line, f"METADATA custom.id {rule_id!r} is not a rule ID (AUTH-03a)"))
        return None
    if not isinstance(severity, str) or severity.upper() not in Severity.__members__:
        shown = ", ".join(str(s) for s in sorted(Severity, reverse=True))
        problems.append(_problem(path, line, f"METADATA custom.severity {severity!r} is not one of {shown}"))
        return None
    title = meta.get("title")
    return CustomModule(
        path=path.as_posix(),
        name=name,
        rule_id=rule_id,
        severity=Severity.parse(severity),
        title=title if isinstance(title, str) else rule_id,
        source=text,
    )


def _metadata(before_package: str) -> dict[str, Any] | str:
    """The METADATA comment block right above `package` ({} when there is none), or a
    message saying why it is not YAML."""
    block: list[str] = []
    for line in reversed(before_package.rstrip("\n").split("\n")):
        if not line.startswith("#"):
            break
        block.append(line[1:].removeprefix(" "))
    block.reverse()
    if not block or block[0].strip() != "METADATA":
        return {}
    try:
        value = yaml.safe_load("\n".join(block[1:]))
    except yaml.YAMLError as exc:
        return f"METADATA is not valid YAML: {str(exc).splitlines()[0]}"
    return value if isinstance(value, dict) else {}


def _problem(path: Path, line: int, message: str) -> Problem:
    return Problem(
        location=Location(path=path.as_posix(), line=line, column=1 if line else 0), message=message
    )
