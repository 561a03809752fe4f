"""The tool's own failures: one line on stderr, the documented exit code, no traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from zenpolicy import cli as cli_module
from zenpolicy import cli_report
from zenpolicy.api import CheckOptions
from zenpolicy.errors import EngineError, InputError, RuleError, UsageError, ZenpolicyError
from zenpolicy.model import Location, Problem

ROOT = Path(__file__).parents[1]
PROBLEM = Problem(location=Location(path="inv/a.yaml", line=2, column=3), message="expected a string")


def invoke_with(monkeypatch: Any, exc: BaseException, *args: str) -> Any:
    def raising(options: CheckOptions, *rendering: Any) -> Any:
        raise exc

    monkeypatch.setattr(cli_report, "run_check_rendered", raising)
    monkeypatch.chdir(ROOT)
    return CliRunner().invoke(cli_module.cli, ["check", "inventory", *args])


@pytest.mark.parametrize(
    ("exc", "code", "stderr"),
    [
        (UsageError("bad option"), 2, "zenpolicy: error: bad option\n"),
        (EngineError("OPA answered 500"), 3, "zenpolicy: error: OPA answered 500\n"),
        (ZenpolicyError("something broke"), 3, "zenpolicy: error: something broke\n"),
        (InputError([PROBLEM]), 2, "zenpolicy: error: 1 problem(s) in the inventory\n"),
        (RuleError([PROBLEM]), 2, "zenpolicy: error: 1 problem(s) in the rules\n"),
        (
            KeyError("x"),
            3,
            "zenpolicy: error: unexpected KeyError: 'x' (set ZENPOLICY_DEBUG=1 for the traceback)\n",
        ),
        (KeyboardInterrupt(), 130, "zenpolicy: interrupted\n"),
    ],
)
def test_failures_map_to_one_line_and_exit_code(
    monkeypatch: Any, exc: BaseException, code: int, stderr: str
) -> None:
    monkeypatch.delenv("ZENPOLICY_DEBUG", raising=False)
    result = invoke_with(monkeypatch, exc)
    assert (result.exit_code, result.stderr) == (code, stderr)
    if isinstance(exc, InputError):
        assert (
            result.stdout
            == f"inv/a.yaml:2:3: expected a string\n1 problem in the {exc.what}; nothing was checked.\n"
        )
    else:
        assert result.stdout == ""


@pytest.mark.parametrize("value", ["1", "yes"])
def test_debug_reraises(monkeypatch: Any, value: str) -> None:
    monkeypatch.setenv("ZENPOLICY_DEBUG", value)
    result = invoke_with(monkeypatch, KeyError("x"))
    assert isinstance(result.exception, KeyError)


def test_debug_zero_is_off(monkeypatch: Any) -> None:
    monkeypatch.setenv("ZENPOLICY_DEBUG", "0")
    result = invoke_with(monkeypatch, KeyError("x"))
    assert result.exit_code == 3
    assert not isinstance(result.exception, KeyError)


def test_secret_is_scrubbed_from_error_lines(monkeypatch: Any) -> None:
    """Even if an engine's message quoted the token, it is not printed."""
    monkeypatch.delenv("ZENPOLICY_DEBUG", raising=False)
    result = invoke_with(
        monkeypatch,
        EngineError("OPA refused token tok-123"),
        "--engine", "opa", "--opa-url", "http://opa", "--opa-token", "tok-123",
    )  # fmt: skip
    assert (result.exit_code, result.stderr) == (3, "zenpolicy: error: OPA refused token ***\n")


def test_opa_options_reach_the_api(monkeypatch: Any, tmp_path: Path) -> None:
    seen: list[CheckOptions] = []

    def capture(options: CheckOptions, *rendering: Any) -> Any:
        seen.append(options)
        raise EngineError("stop here")

    monkeypatch.setattr(cli_report, "run_check_rendered", capture)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("ZENPOLICY_OPA_TOKEN", "from-env")
    ca = tmp_path / "ca.pem"
    ca.write_text("x", encoding="utf-8")
    rego = tmp_path / "deny.rego"
    rego.write_text("package x", encoding="utf-8")
    result = CliRunner().invoke(
        cli_module.cli,
        ["check", "inventory", "--engine", "opa", "--opa-url", "https://opa:8181", "--opa-ca-file", str(ca),
         "--opa-insecure", "--opa-timeout", "2.5", "--opa-use-bundle", "--rego", str(rego), "--rego", str(rego),
         "--no-cache", "--timestamp", "--param", "a=1", "--param", "b = 2", "--as-of", "2026-01-02",
         "--policies", str(tmp_path), "--select", "A,B", "--skip", "C"],
    )  # fmt: skip
    assert result.exit_code == 3
    assert result.stderr.splitlines() == [
        "zenpolicy: warning: --opa-insecure: the OPA server's certificate is not verified",
        "zenpolicy: error: stop here",
    ]
    (options,) = seen
    assert options.opa is not None
    assert (options.opa.url, options.opa.token, options.opa.ca_file) == (
        "https://opa:8181",
        "from-env",
        str(ca),
    )
    assert (options.opa.insecure, options.opa.timeout, options.opa.use_bundle) == (True, 2.5, True)
    assert (options.opa.client_cert, options.opa.client_key) == (None, None)
    assert options.rego_modules == (rego, rego)
    assert options.extra == {"no_cache": True, "generated_at": True}
    assert options.params == {"a": "1", "b": "2"}
    assert (options.as_of, options.policies, options.select, options.skip) == (
        "2026-01-02", (tmp_path,), ("A", "B"), ("C",),
    )  # fmt: skip


def test_native_engine_gets_no_opa_options(monkeypatch: Any) -> None:
    seen: list[CheckOptions] = []

    def capture(options: CheckOptions, *rendering: Any) -> Any:
        seen.append(options)
        raise EngineError("stop here")

    monkeypatch.setattr(cli_report, "run_check_rendered", capture)
    monkeypatch.setenv("ZENPOLICY_OPA_TOKEN", "from-env")  # set globally in CI: not an error
    monkeypatch.chdir(ROOT)
    CliRunner().invoke(cli_module.cli, ["check", "inventory"])
    assert (seen[0].engine, seen[0].opa, seen[0].extra) == ("native", None, {})
