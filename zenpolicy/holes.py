"""Giving a temporary file's pages back as soon as its bytes have been read.

A large JSON report is rendered by several processes into temporary files, then
copied into the report in its order (`zenpolicy.sharded`). Without this, the page
cache holds the report twice at the end of the copy (the parts, then the report):
at 100k resources 2 x 195 MB of pages to allocate, at 1M 2 x 2 GB. Punching a hole
(`fallocate(FALLOC_FL_PUNCH_HOLE)`) in a part once a range is copied frees its pages
there and then, and the report's next pages are those just freed: the copy needs no
new memory. Where pages are costly to touch for the first time, as on this project's
virtual machines, whose free memory is handed back to the host (a 195 MB file written
in 0.28-0.49 s to fresh pages, 0.04 s to pages just freed; docs/performance.md), that
is most of the copy's time.

Linux only, through the C library (`os` has `posix_fallocate`, but no hole punching).
Elsewhere, or on a file system without holes, `punch` does nothing: the copy is the
same, it only keeps its pages until the file is closed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

_PUNCH_HOLE_KEEP_SIZE = 0x02 | 0x01  # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (linux/falloc.h)

Fallocate = Callable[[int, int, int, int], int]


def _fallocate() -> Fallocate | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes  # here: 8 ms to import, for the large reports that punch holes only

    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the C library this process runs with
        # The 64-bit offset variant where the C library has both (32-bit systems).
        function = getattr(libc, "fallocate64", None) or libc.fallocate
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    function.restype = ctypes.c_int
    return function


class Puncher:
    """Punches holes in files for as long as the file system allows; after the first
    refusal (no hole support, no such call), it no longer asks."""

    __slots__ = ("_call",)

    def __init__(self) -> None:
        self._call = _fallocate()

    def punch(self, fd: int, offset: int, length: int) -> None:
        """Free the pages of `fd` in `[offset, offset + length)`: the range reads as
        zeros after, the file's size is unchanged."""
        if self._call is None or length <= 0:
            return
        if self._call(fd, _PUNCH_HOLE_KEEP_SIZE, offset, length) != 0:
            # EOPNOTSUPP (a file system without holes), ENOSYS...: the bytes stay
            # until the file is closed, as they would without this.
            self._call = None
