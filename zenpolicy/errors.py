"""One exception hierarchy for the tool's own failures, caught only in the CLI.

Problems in the user's *data* are `Problem`s or findings, not exceptions; these are for
what stops the tool: unreadable input as a whole, a bad option, an unreachable engine.
Each maps to one exit code.
"""

from __future__ import annotations

from collections.abc import Sequence

from zenpolicy.model import Problem

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INVALID = 2
EXIT_TOOL = 3
EXIT_INTERRUPTED = 130
"""Interrupted (Ctrl-C): 128 + SIGINT, as shells report a process killed by it."""


class ZenpolicyError(Exception):
    """Base class; `exit_code` says how the CLI ends."""

    exit_code = EXIT_TOOL


class UsageError(ZenpolicyError):
    """A bad option or argument."""

    exit_code = EXIT_INVALID


class InputError(ZenpolicyError):
    """The inventory (or a rule file) is invalid: carries every problem found."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: Sequence[Problem], what: str = "inventory") -> None:
        self.problems = tuple(problems)
        self.what = what
        super().__init__(f"{len(self.problems)} problem(s) in the {what}")


class RuleError(InputError):
    """A rule file is invalid (built-in or custom)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(problems, what="rules")


class EngineError(ZenpolicyError):
    """The evaluation engine could not run (OPA unreachable, bad answer...)."""

    exit_code = EXIT_TOOL
