"""Rego evaluated in-process by regopy (the Python binding of rego-cpp).

The test suite's way to run the compiled Rego without an OPA binary: the parity tests
call it directly, and tests/opa_standin.py (a STAND-IN for an OPA server, not OPA)
answers REST queries with it. regopy is a test dependency (`.[test]`), imported only
when this module is.

rego-cpp is not OPA: it lacks a few built-ins' corner cases (zenpolicy.lib avoids them,
see rules/rego_lib.py) and is much slower on big inputs, so keep inputs small.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

# RE2 first: loading regopy's native library before google-re2's corrupts the heap
# ("munmap_chunk(): invalid pointer", then an abort at the first re2.compile).
import re2  # noqa: F401  # isort: skip
import regopy
from regopy.rego_shared import (
    rego_free_output,
    rego_output_ok,
    rego_output_string,
    rego_query,
)


class LocalRegoError(Exception):
    """A module that does not compile, or a query that fails."""


class LocalRego:
    """A set of Rego modules (and optional base data), queried with one input at a time.

    Queries are serialised: one rego-cpp interpreter is not safe to share between
    threads, and the stand-in server answers from several."""

    def __init__(self, modules: Mapping[str, str], data: Mapping[str, Any] | None = None) -> None:
        self._lock = threading.Lock()
        self._interpreter = regopy.Interpreter()
        for name in sorted(modules):
            try:
                self._interpreter.add_module(name, modules[name])
            except regopy.RegoError as exc:
                raise LocalRegoError(f"{name}: {_first_line(str(exc))}") from None
        if data:
            self._interpreter.add_data_json(json.dumps(data))

    def query(self, path: str, input_value: Any) -> Any:
        """The value of `data.<path>` (dots) for `input_value`; None when undefined."""
        with self._lock:
            self._interpreter.set_input(regopy.Input(input_value))
            impl = rego_query(self._interpreter._impl, f"result := data.{path}")
            try:
                text = rego_output_string(impl)
                if not rego_output_ok(impl):
                    raise LocalRegoError(_first_line(text))
            finally:
                rego_free_output(impl)
        if text == "undefined":
            return None
        # rego-cpp writes strings that came from the input without escaping them: control
        # characters are let through (strict=False), but a `"` or `\\` in an input value
        # breaks the text, and its node API is no better (strings that built-ins return
        # keep their quotes). Say so rather than guess.
        try:
            answer = json.loads(text, strict=False)
        except ValueError:
            raise LocalRegoError(
                'rego-cpp wrote an answer that is not JSON (an input string with " or \\ in it?)'
            ) from None
        results = answer if isinstance(answer, list) else [answer]
        return results[0].get("bindings", {}).get("result") if results else None


def evaluate_findings(
    modules: Mapping[str, str], input_value: Mapping[str, Any], data: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`data.zenpolicy.findings` for one input (a fresh interpreter each call)."""
    result = LocalRego(modules, data).query("zenpolicy.findings", input_value)
    return list(result or [])


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip() and line.strip() != "Errors:"]
    return lines[0] if lines else "rego evaluation failed"
