"""Reading an inventory: load -> validate -> build, with every problem collected."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zenpolicy import timings
from zenpolicy.errors import InputError
from zenpolicy.gcpause import paused_gc
from zenpolicy.inventory import fastload
from zenpolicy.inventory.build import collect_document, link, merge_collected
from zenpolicy.inventory.config import Config, load_config
from zenpolicy.inventory.loader import load_each
from zenpolicy.inventory.model import Inventory, Resource
from zenpolicy.model import InputFile, Location, Problem

__all__ = ["Inventory", "LoadedInventory", "Resource", "load_inventory"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedInventory:
    inventory: Inventory
    config: Config
    inputs: tuple[InputFile, ...]
    """Every file read, with its hash: the exact inputs checked."""


def load_inventory(
    root: Path, *, jobs: int | None = None, meanwhile: Callable[[], object] | None = None
) -> LoadedInventory:
    """Load, validate and index the inventory at `root` (a directory or one file).

    Raises `InputError` with every problem found when anything is invalid. `jobs`:
    processes to parse files in (None: the default, see `zenpolicy.parallel`).
    `meanwhile`: work of the caller's, done while other processes parse (before the
    files are parsed when there are none); it may be called more than once, or not at
    all when the files cannot be found (it must give the same outcome each time), and
    what it raises is raised.
    """
    raised: list[BaseException] = []  # by `meanwhile`

    def noted() -> object:
        try:
            return None if meanwhile is None else meanwhile()
        except BaseException as exc:
            raised.append(exc)
            raise

    if fastload.enabled():
        try:
            return _load(root, fast=True, jobs=jobs, meanwhile=noted)
        except InputError:
            if raised:
                raise  # the caller's own error (a broken catalogue), not the inventory's
            # The fast path gives yaml12's values and positions, so the problems
            # would be the same; still, an invalid inventory is the rare, interactive
            # case, and there the reference path alone decides what the user reads.
    return _load(root, fast=False, jobs=jobs, meanwhile=noted)


def _load(
    root: Path, *, fast: bool, jobs: int | None, meanwhile: Callable[[], object] | None
) -> LoadedInventory:
    with timings.stage("load"):
        config, problems = load_config(root)
        # Each file's resources are gathered and checked against the schemas as the
        # file arrives, while other processes are still parsing.
        loaded, load_problems = load_each(root, collect_document, fast=fast, jobs=jobs, meanwhile=meanwhile)
    problems += load_problems
    documents = [doc for doc, _ in loaded]
    with paused_gc():
        with timings.stage("validate"):
            resources, found = merge_collected(collected for _, collected in loaded)
            problems += found
        with timings.stage("build"):
            anchor = config.location or Location(path=root.as_posix())
            inventory, link_problems = link(resources, anchor)
        if load_problems:
            # A reference into a file that could not be read would be reported as
            # "not declared", sending the user after the wrong problem: leave those out
            # until every file loads.
            link_problems = [p for p in link_problems if p.code != "dangling-reference"]
        problems += link_problems
    if not documents and not problems and root.is_dir():
        problems.append(
            Problem(
                location=Location(path=root.as_posix()),
                message="no inventory files (*.yaml, *.yml) in this directory",
                code="empty-inventory",
            )
        )
    if problems:
        raise InputError(sorted(problems, key=lambda p: (p.location, p.message)))
    inputs = [InputFile(path=d.path, sha256=d.sha256) for d in documents]
    if config.input_file is not None:
        inputs.append(config.input_file)
    return LoadedInventory(
        inventory=inventory, config=config, inputs=tuple(sorted(inputs, key=lambda i: i.path))
    )
