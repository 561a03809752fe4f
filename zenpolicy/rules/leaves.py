"""A rule's top-level leaves: the tests its findings' evidence lists, in order, and the
attribute each one reads, which is where a failing finding points.

One definition for both engines: the native engine (engines/native.py, whose judge of a
one-leaf rule inlines `failure_location`) and the reader of the compiled Rego's answer
(rules/rego_findings.py), so that their findings agree field for field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from zenpolicy.rules import ast

if TYPE_CHECKING:
    from zenpolicy.inventory.model import Resource
    from zenpolicy.model import Check, Location


def top_leaves(cond: ast.Condition) -> list[ast.Condition]:
    """The leaves of `cond` not nested under a quantifier, relation or `exists`, in order."""
    if isinstance(cond, ast.All | ast.Any_):
        return [leaf for c in cond.items for leaf in top_leaves(c)]
    if isinstance(cond, ast.Not):
        return top_leaves(cond.item)
    return [cond]


def leaf_path(leaf: ast.Condition) -> tuple[str, ...] | None:
    """The plain attribute of the subject a leaf reads, if any."""
    path: ast.Path | None = None
    if isinstance(leaf, ast.Duration):
        path = leaf.end
    elif isinstance(
        leaf, ast.Compare | ast.Exists | ast.Age | ast.CronMaxGap | ast.Every | ast.Some | ast.Follow
    ):
        path = leaf.path
    if path is None or path.scope != "self" or not path.parts:
        return None
    return path.parts


def failure_location(
    paths: Sequence[tuple[str, ...] | None],
    evidence: Sequence[Check],
    resource: Resource | None,
    fallback: Location,
) -> Location:
    """Where a finding points: the attribute read by the first failing leaf (`paths`
    are the leaves' `leaf_path`s, in evidence order), else the resource, else
    `fallback` (the inventory root)."""
    if resource is None:
        return fallback
    for path, check in zip(paths, evidence, strict=False):
        if not check.result and path is not None:
            return resource.attribute_location(path)
    return resource.location
