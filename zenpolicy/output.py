"""Writing reports to files: atomically, so a reader never sees half a report.

CI jobs upload or diff the report file; if rendering or writing fails midway, the
previous file (or no file) must remain, never a truncated one. So the report is written
to a temporary file in the same directory (same file system, so the rename is atomic)
as it is rendered, chunk by chunk (a 100k-resource JSON report is about 195 MB: holding it
whole would double the process's memory), flushed to disk, and only then renamed over
the target. Whatever fails on the way, the rendering included, removes the temporary.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
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
    write_atomic_chunks(target, (text.encode("utf-8"),))


WRITE_BEHIND = 8 << 20
"""Bytes written before the kernel is asked to start writing them to disk."""


def write_atomic_chunks(target: Path, chunks: Iterable[bytes]) -> None:
    """Replace `target` with the concatenated `chunks` in one step, or leave it untouched.

    A failure to write is an OutputError; an exception raised while producing a chunk
    is passed on as it is. Either way, the temporary file is removed."""
    fd, tmp = _temporary(target)
    try:
        with os.fdopen(fd, "wb") as handle:
            behind = _WriteBehind(fd)
            for chunk in chunks:
                with _writing(target):
                    handle.write(chunk)
                    if behind.written(len(chunk)):
                        handle.flush()
                        behind.start()
            with _writing(target):
                handle.flush()
                os.fsync(handle.fileno())
        with _writing(target):
            os.chmod(tmp, _new_file_mode(target))
            os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


class _WriteBehind:
    """Starts the disk writes of a large file while the rest is still being rendered,
    so that the `fsync` before the rename waits only for the last few megabytes (a
    200 MB report's `fsync` took 0.09-0.12 s here). On Linux, `POSIX_FADV_DONTNEED`
    on a range of dirty pages starts their writeback without waiting for it, and
    drops only pages already clean (PostgreSQL uses it for the same purpose where
    `sync_file_range` is missing; Python has no `sync_file_range`). Elsewhere,
    or if the call fails, it is not made: the `fsync` does all the work, as before."""

    __slots__ = ("asking", "fd", "pending", "start_at")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.asking = _FADVISE
        self.start_at = 0  # the first byte not yet handed to the kernel's writeback
        self.pending = 0  # bytes written since

    def written(self, size: int) -> bool:
        """Count `size` more bytes; whether it is time to `start` their writeback."""
        self.pending += size
        return self.asking and self.pending >= WRITE_BEHIND

    def start(self) -> None:
        """Start the writeback of the bytes counted (the caller flushed its buffer)."""
        try:
            os.posix_fadvise(self.fd, self.start_at, self.pending, os.POSIX_FADV_DONTNEED)
        except OSError:
            self.asking = False  # a hint refused once (a pipe): not asked again
            return
        self.start_at += self.pending
        self.pending = 0


_FADVISE = sys.platform.startswith("linux") and hasattr(os, "posix_fadvise")


def check_writable(target: Path) -> None:
    """Raise the OutputError that `write_atomic_chunks(target, ...)` would raise for want
    of a directory or of the right to create a file in it; else do nothing."""
    fd, tmp = _temporary(target)
    os.close(fd)
    with contextlib.suppress(OSError):
        tmp.unlink()


def _temporary(target: Path) -> tuple[int, Path]:
    """A new temporary file beside `target`: its descriptor and path."""
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError(f"cannot write {target}: directory {directory} does not exist")
    with _writing(target):
        fd, name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    return fd, Path(name)


@contextlib.contextmanager
def _writing(target: Path) -> Iterator[None]:
    """A file system failure, said as one line about the target."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from None
