"""Other YAML parsers against the one zenpolicy's fast path uses (yaml-rs): how fast,
and whether what they return could be trusted there.

    python bench/parsers.py --setup bench/out/100000 --runs 5

The parse is the largest single cost of a large `check` (docs/performance.md), so a
faster parser is the first lever to look for; a faster one that returns other values
than YAML 1.2 core, silently, is worse than none. For each candidate installed, this
prints:

* its parse time over every file of the estate, to Python values (median of `--runs`
  rounds, the candidates taken in turn within each round so that the host's drift
  falls on all of them; the cyclic garbage collector paused, as zenpolicy's loader
  does), and whether each file's value is exactly zenpolicy's (`fastload.same_value`);
* the probes: small documents on which parsers are known to read YAML otherwise than
  YAML 1.2 core (zenpolicy's reference parser, `inventory/yaml12.py`). A candidate may
  refuse one (zenpolicy would fall back to the reference: speed lost, nothing else);
  it may not return another value, or a value where the reference refuses the text.
  Each such probe is run again through the fast path's own guards (the text
  pre-check, the key and depth walk) with the candidate in yaml-rs's place: what gets
  through them is what adopting the candidate would ship. yaml-rs must show none.

`--setup` installs the candidates, at the versions measured, into `bench/out/parsers/`
(`pip install --target`, git-ignored), which is put on the path after the project's
own packages. None of them is a dependency of zenpolicy.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from run import REPO, cores_text, machine  # bench/run.py, beside this file

TARGET = REPO / "bench" / "out" / "parsers"

sys.path.insert(0, str(REPO))
from zenpolicy.inventory import fastload  # noqa: E402 - after the repository is on the path
from zenpolicy.inventory.loader import discover  # noqa: E402
from zenpolicy.inventory.yaml12 import YamlError, parse_yaml  # noqa: E402

Loads = Callable[[str], Any]


@dataclass(frozen=True)
class Candidate:
    name: str
    """The distribution on PyPI, pinned to the version measured."""
    module: str
    call: Callable[[Any], Loads]
    """The module to its `text -> value` function."""
    note: str = ""


CANDIDATES = (
    Candidate("yaml-rs==0.1.6", "yaml_rs", lambda m: lambda text: m.loads(text, parse_datetime=False)),
    Candidate("rs-turboyaml==0.2.1", "turboyaml", lambda m: lambda text: m.load(text, strict=True)),
    Candidate("pyfastyaml==0.2.0", "pyfastyaml", lambda m: m.loads),
    Candidate("oryaml==0.1.0", "oryaml", lambda m: m.loads),
    Candidate("py-yaml12==0.2.0", "yaml12", lambda m: m.parse_yaml),
    Candidate(
        "libfyaml==1.0.0b2",
        "libfyaml",
        lambda m: m.loads,
        "returns its own lazy value objects, not dicts: no file or probe compares equal, and "
        "the time is before any conversion",
    ),
    Candidate("fastyaml-rs==0.7.0", "fast_yaml", lambda m: m.safe_load),
    Candidate("ryaml==0.5.1", "ryaml", lambda m: m.loads),
    Candidate("rustyyaml==0.1.7", "rustyyaml", lambda m: m.safe_load),
)

PROBES = {
    "core booleans only (True)": "k: True\n",
    "core booleans only (TRUE)": "k: TRUE\n",
    "YAML 1.1 boolean (yes)": "k: yes\n",
    "digit separators (1_000)": "k: 1_000\n",
    "hexadecimal (0x1F)": "k: 0x1F\n",
    "signed hexadecimal (-0x1)": "k: -0x1\n",
    "binary (0b101)": "k: 0b101\n",
    "NaN spelt .NaN": "k: .NaN\n",
    "integer past 64 bits": "k: 99999999999999999999\n",
    "integer below -2**63": "k: -9223372036854775809\n",
    "exponent without a dot (1e3)": "k: 1e3\n",
    "leading zero (012)": "k: 012\n",
    "date stays text": "k: 2026-01-01\n",
    "date-time stays text": "k: 2026-01-01T10:00:00Z\n",
    "sexagesimal stays text": "k: 12:30:00\n",
    "integer key stays text": "1: a\n",
    "two quoted keys, null values": "\"qk\":\n'q k':\n",
    "duplicate key": "a: 1\na: 2\n",
    "duplicate key, one quoted": 'a: 1\n"a": 2\n',
    "reserved indicator @": "k: @x\n",
    "reserved indicator `": "k: `x\n",
    "directive indicator % in a value": "k: %x\n",
    "block entry as a value": "k: - x\n",
    "tab before a value": "k:\t1\n",
    "empty block scalar at the end": "k: |\n",
    "folded block scalar": "k: >\n  a\n  b\n",
    "multi-line plain scalar": "k: a\n  b\n",
    "four-space indentation": "a:\n    b: 1\n",
    "empty value in a flow mapping": "k: {a:}\n",
    "anchor and alias": "a: &x 1\nb: *x\n",
    "tag": "k: !!str 1\n",
    "merge key": "a: {x: 1}\nb:\n  <<: {y: 2}\n",
    "two documents": "a: 1\n---\nb: 2\n",
}

_REFUSED = object()


@contextmanager
def _gc_paused() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Some candidates' C code prints each refusal on file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def _read(loads: Loads, text: str) -> Any:
    """The candidate's value, or `_REFUSED` when it raises (or a Rust panic does)."""
    try:
        return loads(text)
    except BaseException as exc:  # a refusal of any kind, a Rust panic included
        if isinstance(exc, KeyboardInterrupt | SystemExit | MemoryError):
            raise
        return _REFUSED


def _reference(text: str) -> Any:
    try:
        return parse_yaml(text)[0]
    except YamlError:
        return _REFUSED


def _same(value: Any, reference: Any) -> bool:
    if value is _REFUSED or reference is _REFUSED:
        return value is reference
    return fastload.same_value(value, reference)


def through_guards(loads: Loads, text: str) -> Any:
    """What the fast path returns for `text` with `loads` in yaml-rs's place: a value,
    or `_REFUSED` (the file would go to the reference parser)."""
    original = fastload._yaml_rs_loads
    # The guards call yaml-rs by this name (the parse, and the typing of suspicious
    # tokens in the pre-check); the candidate takes its place for the probe only.
    fastload._yaml_rs_loads = lambda text, parse_datetime=False: loads(text)
    try:
        value = fastload.fast_value(text)
    finally:
        fastload._yaml_rs_loads = original
    return _REFUSED if value is None else value


def probe(loads: Loads) -> tuple[int, list[str], list[str]]:
    """(probes refused, probes read otherwise but caught by the guards, probes read
    otherwise and let through by them)."""
    refused = 0
    caught: list[str] = []
    shipped: list[str] = []
    with _native_stderr_silenced():
        for name, text in PROBES.items():
            value, reference = _read(loads, text), _reference(text)
            if value is _REFUSED:
                refused += 1
            elif not _same(value, reference):
                guarded = through_guards(loads, text)
                (caught if guarded is _REFUSED or _same(guarded, reference) else shipped).append(name)
    return refused, caught, shipped


def installed() -> list[tuple[Candidate, Loads]]:
    sys.path.append(str(TARGET))  # after the project's packages: its yaml-rs wins
    found = []
    for candidate in CANDIDATES:
        try:
            module = importlib.import_module(candidate.module)
        except ImportError:
            continue
        found.append((candidate, candidate.call(module)))
    return found


def setup() -> None:
    names = [c.name for c in CANDIDATES if not c.name.startswith("yaml-rs")]
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(TARGET), *names], check=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="an inventory directory (bench/out/100000)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--setup", action="store_true", help=f"install the candidates into {TARGET}")
    opts = parser.parse_args()
    if not fastload.enabled():
        # With the fast path off, every probe would read as caught by its guards.
        parser.error("the fast path is turned off (ZENPOLICY_FAST_YAML=0): its guards cannot be probed")
    if opts.setup:
        setup()
    candidates = installed()
    texts = [path.read_text(encoding="utf-8") for path in discover(opts.root)]
    # zenpolicy's own values: the fast path where it vouches for a file, else yaml12.
    expected = [fastload.fast_value(text) or parse_yaml(text)[0] for text in texts]
    seconds: dict[str, list[float]] = {c.name: [] for c, _ in candidates}
    same: dict[str, int] = {}
    for _ in range(opts.runs):
        for candidate, loads in candidates:
            with _gc_paused():
                start = time.perf_counter()
                values = [_read(loads, text) for text in texts]
                seconds[candidate.name].append(time.perf_counter() - start)
            same[candidate.name] = sum(map(_same, values, expected))
            del values
    host = machine()
    print(
        f"{opts.root}: {len(texts)} files, {sum(map(len, texts)) / 1e6:.1f} MB; "
        f"medians of {opts.runs} rounds; {host['cpu']}, {cores_text(host)}, {host['ram_gb']} GB RAM, "
        f"Python {host['python']}"
    )
    base = statistics.median(seconds["yaml-rs==0.1.6"]) if "yaml-rs==0.1.6" in seconds else float("nan")
    for candidate, loads in candidates:
        median = statistics.median(seconds[candidate.name])
        refused, caught, shipped = probe(loads)
        print(
            f"  {candidate.name:22} {median:6.3f} s  {base / median:4.1f}x yaml-rs  "
            f"files as zenpolicy reads them {same[candidate.name]}/{len(texts)}  "
            f"probes: {refused} refused, {len(caught)} read otherwise (caught by the guards), "
            f"{len(shipped)} read otherwise and let through"
        )
        if candidate.note:
            print(f"      note: {candidate.note}")
        for name in shipped:
            print(f"      let through: {name}: {PROBES[name]!r}")
    missing = [c.name for c in CANDIDATES if c.name not in seconds]
    if missing:
        print(f"  not installed (--setup): {', '.join(missing)}")


if __name__ == "__main__":
    main()
