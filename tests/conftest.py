"""Fixtures for the inventory-language tests (test_validate.py, test_yaml12.py).

Every inventory case is checked twice: through the library (`load_inventory`, reading
`InputError.problems`) and through the real command line in a subprocess
(`python -m zenpolicy validate PATH`), so that locations, messages and exit codes are
asserted exactly as a user sees them.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from zenpolicy.errors import InputError
from zenpolicy.inventory import load_inventory

# Property tests draw the same examples on every run (derived from each test's name):
# the suite gates every change, and a failure must be one the next run reproduces, not
# a draw a clean clone happens to make. Exploring is a separate act, with new examples
# each time and more of them: `pytest --hypothesis-profile=explore` (README), 20 times
# each test's own number (tests/budget.py), or `soak`, 100 times (hours).
settings.register_profile("deterministic", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=2000)
settings.register_profile("soak", derandomize=False, max_examples=10_000)
settings.load_profile("deterministic")

InventoryProblem = tuple[str, int, int, str, str]
"""(path, line, column, message, code): one expected problem; line 0 = the whole file."""

# The fixtures below, as test functions declare them.
MakeInventory = Callable[..., Path]
AssertInvalid = Callable[[Path, list[InventoryProblem]], None]
AssertValid = Callable[[Path], list[str]]
LibraryProblems = Callable[[Path], list[InventoryProblem]]
RunValidate = Callable[..., "CliResult"]
CliLines = Callable[[list[InventoryProblem]], list[str]]

# Runs the CLI with loader.MAX_FILE_BYTES lowered: argv[1] is the limit, argv[2] the path.
_CLI_WITH_SIZE_LIMIT = (
    "import sys\n"
    "import zenpolicy.inventory.loader as loader\n"
    "loader.MAX_FILE_BYTES = int(sys.argv[1])\n"
    "from zenpolicy.cli import main\n"
    "sys.argv = ['zenpolicy', 'validate', sys.argv[2]]\n"
    "main()\n"
)


@dataclass(frozen=True, slots=True)
class CliResult:
    """What `zenpolicy validate` did: its exit code and what it printed."""

    returncode: int
    lines: list[str]
    """Standard output, line by line."""
    output: str
    """Standard output and standard error together."""


def inventory_problems(path: Path) -> list[InventoryProblem]:
    """The library's verdict: every problem as a tuple, or [] when the inventory is valid."""
    try:
        load_inventory(path)
    except InputError as exc:
        return [
            (p.location.path, p.location.line, p.location.column, p.message, p.code) for p in exc.problems
        ]
    return []


def cli_line(problem: InventoryProblem) -> str:
    """The documented output format: `file:line:col: message`, or `file: message` for a
    problem about a whole file (line 0)."""
    path, line, column, message, _ = problem
    return f"{path}:{line}:{column}: {message}" if line else f"{path}: {message}"


def invalid_summary(count: int) -> str:
    return f"{count} problem{'s' if count != 1 else ''} in the inventory; nothing was checked."


def run_validate_cli(path: Path, cwd: Path, *, max_file_bytes: int | None = None) -> CliResult:
    if max_file_bytes is None:
        argv = [sys.executable, "-m", "zenpolicy", "validate", str(path)]
    else:
        argv = [sys.executable, "-c", _CLI_WITH_SIZE_LIMIT, str(max_file_bytes), str(path)]
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    return CliResult(
        returncode=done.returncode, lines=done.stdout.splitlines(), output=done.stdout + done.stderr
    )


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test starts with an empty result cache of its own (`check` uses the cache by
    default; CLI subprocesses inherit the variable), never the user's; and without the
    stored catalogue."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("ZENPOLICY_CACHE_DIR", str(directory))
    # The stored catalogue (on by default) is tested in test_stored.py; elsewhere the
    # rules are read from their files, as a first run reads them.
    monkeypatch.setenv("ZENPOLICY_CATALOGUE_CACHE", "0")
    return directory


@pytest.fixture
def inventory_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeInventory:
    """Write files (relative path -> text, or bytes written as is) under `inv/` in a
    fresh directory that is also the current one, and return the relative path `inv`,
    so that library and CLI both show locations as `inv/...`."""
    monkeypatch.chdir(tmp_path)

    def write(files: Mapping[str, str | bytes], root: str = "inv") -> Path:
        base = Path(root)
        base.mkdir(exist_ok=True)
        for rel, content in files.items():
            target = base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return base

    return write


@pytest.fixture
def assert_invalid_inventory(tmp_path: Path) -> AssertInvalid:
    """Assert that library and CLI both report exactly `expected`, in order, with exit
    code 2 and no traceback. Use with `inventory_dir` (the current directory is tmp_path)."""

    def check(path: Path, expected: list[InventoryProblem]) -> None:
        assert inventory_problems(path) == expected
        result = run_validate_cli(path, tmp_path)
        assert "Traceback" not in result.output
        assert result.lines == [cli_line(p) for p in expected] + [invalid_summary(len(expected))]
        assert result.returncode == 2

    return check


@pytest.fixture
def assert_valid_inventory(tmp_path: Path) -> AssertValid:
    """Assert that library and CLI both accept the inventory (exit code 0, one summary
    line); return the addresses of its resources in the inventory's order."""

    def check(path: Path) -> list[str]:
        assert inventory_problems(path) == []
        loaded = load_inventory(path)
        inv = loaded.inventory
        result = run_validate_cli(path, tmp_path)
        assert "Traceback" not in result.output
        assert result.lines == [
            f"{path.as_posix()}: valid, {len(inv)} resources of {len(inv.by_kind)} kinds"
            f" in {len(loaded.inputs)} files."
        ]
        assert result.returncode == 0
        return [r.address for r in inv.resources()]

    return check


@pytest.fixture
def library_problems() -> LibraryProblems:
    """`load_inventory`'s problems as (path, line, column, message, code) tuples."""
    return inventory_problems


@pytest.fixture
def validate_cli(tmp_path: Path) -> RunValidate:
    """Run `zenpolicy validate PATH` in tmp_path (`max_file_bytes=` lowers the size limit)."""

    def run(path: Path, *, max_file_bytes: int | None = None) -> CliResult:
        return run_validate_cli(path, tmp_path, max_file_bytes=max_file_bytes)

    return run


@pytest.fixture
def expected_cli_lines() -> CliLines:
    """What `validate` prints for these problems: one line each, then the summary."""

    def lines(problems: list[InventoryProblem]) -> list[str]:
        return [cli_line(p) for p in problems] + [invalid_summary(len(problems))]

    return lines
