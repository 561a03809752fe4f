"""An OPA bundle of the compiled catalogue: what an OPA fleet loads (docs/opa.md).

    .manifest                    {"revision": <sha256 of the content>, "roots": ["zenpolicy"]}
    data.json                    {"zenpolicy": {"params": {name: typed default}}}
    zenpolicy/lib.rego           the helpers
    zenpolicy/findings.rego      data.zenpolicy.findings
    zenpolicy/rules/<id>.rego    one package per rule
    zenpolicy/custom/<name>.rego user modules, when given

A rule reads a parameter from `input.params` first, then from `data.zenpolicy.params`:
the client always sends the values it resolved (defaults, configuration, --param), and
the defaults in data.json serve whoever queries the bundle with resources alone.

The tarball is deterministic: entries sorted, mtime 0, uid/gid 0, no owner names, and a
gzip header without name or time, so the same catalogue gives the same bytes, and the
revision names the content (sha256 over every file's path and bytes, in order).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zenpolicy.errors import ZenpolicyError
from zenpolicy.rules.rego import RegoModule
from zenpolicy.rules.rego_custom import CustomModule

ROOTS = ("zenpolicy",)


class BundleError(ZenpolicyError):
    """The bundle could not be written."""


def bundle_files(
    modules: Sequence[RegoModule], params: Mapping[str, Any], custom: Sequence[CustomModule] = ()
) -> dict[str, bytes]:
    """Path -> content of every file but the manifest, sorted by path."""
    files = {m.path: m.source.encode("utf-8") for m in modules}
    files |= {f"{c.policy_id}.rego": c.source.encode("utf-8") for c in custom}
    data = {"zenpolicy": {"params": dict(sorted(params.items()))}}
    files["data.json"] = (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(
        "utf-8"
    )
    return dict(sorted(files.items()))


def revision(files: Mapping[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(path.encode("utf-8") + b"\0" + files[path] + b"\0")
    return digest.hexdigest()


def build_bundle(
    modules: Sequence[RegoModule], params: Mapping[str, Any], custom: Sequence[CustomModule] = ()
) -> tuple[bytes, str]:
    """(the .tar.gz bytes, its revision)."""
    files = bundle_files(modules, params, custom)
    rev = revision(files)
    manifest = {"revision": rev, "roots": list(ROOTS)}
    entries = {".manifest": (json.dumps(manifest, sort_keys=True) + "\n").encode("utf-8"), **files}
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path in sorted(entries):
            info = tarfile.TarInfo(path)
            info.size = len(entries[path])
            info.mtime = 0
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(entries[path]))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(tar_bytes.getvalue())
    return packed.getvalue(), rev


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Replace `target` in one step (a fleet may be fetching the previous bundle)."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise BundleError(f"cannot write {target}: directory {directory} does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise BundleError(f"cannot write {target}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(0o644)
        tmp.replace(target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BundleError(f"cannot write {target}: {exc.strerror or exc}") from None
