"""`zenpolicy bundle` and `zenpolicy rego`: what an OPA fleet receives.

The bundle is built through the real command line, untarred, checked file by file, and
every .rego in it is loaded into regopy (rego-cpp, standing in for OPA) and queried.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from zenpolicy.engines.native import evaluate
from zenpolicy.engines.normalise import normalise
from zenpolicy.engines.rego_local import LocalRego
from zenpolicy.rules.examples import example_inventory
from zenpolicy.rules.loader import load_catalogue
from zenpolicy.rules.params import resolve_params
from zenpolicy.rules.rego import compile_catalogue
from zenpolicy.rules.timeutil import parse_as_of

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = load_catalogue()


def zenpolicy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "zenpolicy", *args], cwd=cwd, capture_output=True, text=True, timeout=600,
        encoding="utf-8",
    )  # fmt: skip


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]]:
    target = tmp_path_factory.mktemp("bundle") / "bundle.tar.gz"
    proc = zenpolicy("bundle", "--output", str(target))
    assert proc.returncode == 0, proc.stderr
    data = target.read_bytes()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = tar.getmembers()
        files = {m.name: tar.extractfile(m).read() for m in members}  # type: ignore[union-attr]
    revision = json.loads(files[".manifest"])["revision"]
    assert proc.stdout == f"{target}: {len(CATALOGUE.rules)} rules, revision {revision[:12]}.\n"
    return data, files, members


def test_the_bundle_holds_the_compiled_catalogue(
    bundle: tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]],
) -> None:
    _, files, members = bundle
    modules = compile_catalogue(CATALOGUE.rules)
    assert [m.name for m in members] == sorted([".manifest", "data.json", *(m.path for m in modules)])
    for module in modules:
        assert files[module.path].decode("utf-8") == module.source
    assert len([name for name in files if name.startswith("zenpolicy/rules/")]) == len(CATALOGUE.rules)


def test_manifest_revision_is_the_sha256_of_the_content(
    bundle: tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]],
) -> None:
    _, files, _ = bundle
    manifest = json.loads(files[".manifest"])
    digest = hashlib.sha256()
    for name in sorted(n for n in files if n != ".manifest"):
        digest.update(name.encode() + b"\0" + files[name] + b"\0")
    assert manifest == {"revision": digest.hexdigest(), "roots": ["zenpolicy"]}


def test_data_json_holds_the_typed_parameter_defaults(
    bundle: tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]],
) -> None:
    _, files, _ = bundle
    data = json.loads(files["data.json"])
    assert data == {"zenpolicy": {"params": resolve_params(CATALOGUE.params, {}, {}).values}}
    assert data["zenpolicy"]["params"]["password_rotation"] == 31 * 86400


def test_the_tarball_is_deterministic(
    bundle: tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]], tmp_path: Path
) -> None:
    data, _, members = bundle
    assert all((m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) == (0, 0, 0, "", "", 0o644) for m in members)
    assert data[4:8] == b"\0\0\0\0"  # the gzip header's time
    again = tmp_path / "again.tar.gz"
    assert zenpolicy("bundle", "-o", str(again)).returncode == 0
    assert again.read_bytes() == data


def test_every_module_of_the_bundle_loads_and_answers(
    bundle: tuple[bytes, dict[str, bytes], list[tarfile.TarInfo]],
) -> None:
    _, files, _ = bundle
    rego = LocalRego(
        {name: content.decode() for name, content in files.items() if name.endswith(".rego")},
        json.loads(files["data.json"]),
    )
    rule = CATALOGUE.get("AUTH-03a")
    assert rule is not None
    inventory, _ = example_inventory(rule, rule.examples[0])
    assert inventory is not None
    as_of = parse_as_of("2026-11-26")
    defaults = resolve_params(CATALOGUE.params, {}, {}).values
    expected = {
        (f.rule_id, f.address, str(f.status))
        for f in evaluate(CATALOGUE.rules, inventory, as_of=as_of, params=defaults)
    }

    def answer(params: dict[str, Any]) -> set[tuple[str, str, str]]:
        value = normalise(inventory, as_of, params)
        return {(f["rule_id"], f["address"], f["status"]) for f in rego.query("zenpolicy.findings", value)}

    # Without params in the input, the bundle's defaults (data.json) apply...
    assert answer({}) == expected
    # ...and the input's params, when given, win over them.
    assert ("AUTH-03a", "account.alice", "fail") in answer({**defaults, "password_rotation": 86400})


def test_rego_writes_the_modules_and_removes_stale_ones(tmp_path: Path) -> None:
    stale = tmp_path / "zenpolicy" / "rules" / "gone_01.rego"
    stale.parent.mkdir(parents=True)
    stale.write_text("package zenpolicy.rules.gone_01\n", encoding="utf-8")
    mine = tmp_path / "other.rego"
    mine.write_text("package other\n", encoding="utf-8")
    proc = zenpolicy("rego", "--output", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    modules = compile_catalogue(CATALOGUE.rules)
    assert (
        proc.stdout
        == f"{tmp_path}: {len(CATALOGUE.rules)} rules compiled to Rego ({len(modules)} modules).\n"
    )
    written = sorted(p.relative_to(tmp_path).as_posix() for p in (tmp_path / "zenpolicy").rglob("*.rego"))
    assert written == sorted(m.path for m in modules)
    assert all((tmp_path / m.path).read_text(encoding="utf-8") == m.source for m in modules)
    assert not stale.exists()
    assert mine.exists()  # outside zenpolicy/: not ours to remove


def test_a_bundle_to_a_missing_directory_is_a_one_line_error(tmp_path: Path) -> None:
    proc = zenpolicy("bundle", "-o", str(tmp_path / "missing" / "b.tar.gz"))
    assert proc.returncode == 3
    assert proc.stderr == (
        f"zenpolicy: error: cannot write {tmp_path / 'missing' / 'b.tar.gz'}: "
        f"directory {tmp_path / 'missing'} does not exist\n"
    )
