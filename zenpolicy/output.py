"""Writing reports to files: atomically, so a reader never sees half a report.

CI jobs upload or diff the report file; if rendering or writing fails midway, the
previous file (or no file) must remain, never a truncated one. So the text is rendered
first, written to a temporary file in the same directory (same file system, so the
rename is atomic), flushed to disk, and only then renamed over the target.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from zenpolicy.errors import ZenpolicyError


class OutputError(ZenpolicyError):
    """The report could not be written (directory missing, permission denied...)."""


def _new_file_mode(target: Path) -> int:
    """Keep an existing file's permissions; otherwise what `open()` would give.

    `mkstemp` creates files 0600, which would make a report unreadable to the CI
    user that publishes it; a plain `open()` gives 0666 minus the umask.
    """
    try:
        return os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_atomic(target: Path, text: str) -> None:
    """Replace `target` with `text` (UTF-8) in one step, or leave it untouched."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {target}: directory {directory} does not exist")
    data = text.encode("utf-8")
    try:
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _new_file_mode(target))
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
        raise
