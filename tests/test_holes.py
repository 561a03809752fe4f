"""Hole punching (zenpolicy/holes.py): a range of a real file on this machine's file
system given back, the rest of the file untouched; a refusal turns it off."""

from __future__ import annotations

import os
import sys
import tempfile
from typing import IO

import pytest

from zenpolicy.holes import Puncher

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fallocate is Linux's")

MB = 1 << 20


def _file(size: int) -> IO[bytes]:
    handle = tempfile.NamedTemporaryFile()  # noqa: SIM115 - closed by the tests
    handle.write(b"x" * size)
    handle.flush()
    return handle


def test_a_punched_range_reads_as_zeros_and_its_pages_are_freed() -> None:
    with _file(3 * MB) as handle:
        fd = handle.fileno()
        before = os.fstat(fd).st_blocks
        Puncher().punch(fd, MB, MB)
        assert os.fstat(fd).st_size == 3 * MB  # the size is kept
        assert os.pread(fd, MB, 0) == b"x" * MB
        assert os.pread(fd, MB, MB) == bytes(MB)
        assert os.pread(fd, MB, 2 * MB) == b"x" * MB
        # 1 MB of 512-byte blocks fewer: the range's pages are no longer the file's.
        assert before - os.fstat(fd).st_blocks == MB // 512


def test_a_range_not_on_page_boundaries_keeps_the_bytes_around_it() -> None:
    # Blocks of a report part start and end anywhere: punching one must not touch
    # the bytes of its neighbours that share its first and last pages.
    with _file(64 * 1024) as handle:
        fd = handle.fileno()
        Puncher().punch(fd, 1000, 20_000)
        data = os.pread(fd, 64 * 1024, 0)
        assert data[:1000] == b"x" * 1000
        assert data[1000:21_000] == bytes(20_000)
        assert data[21_000:] == b"x" * (64 * 1024 - 21_000)


def test_a_refusal_turns_punching_off_without_an_error() -> None:
    puncher = Puncher()
    with _file(8192) as handle:
        puncher.punch(handle.fileno(), 0, 4096)
        assert os.pread(handle.fileno(), 4096, 0) == bytes(4096)  # on, before
    read, write = os.pipe()
    try:
        puncher.punch(read, 0, 10)  # a pipe has no holes (ESPIPE): no exception
    finally:
        os.close(read)
        os.close(write)
    with _file(8192) as handle:
        puncher.punch(handle.fileno(), 0, 4096)
        assert os.pread(handle.fileno(), 8192, 0) == b"x" * 8192  # no longer asked


def test_nothing_to_punch_asks_nothing() -> None:
    with _file(4096) as handle:
        puncher = Puncher()
        puncher.punch(handle.fileno(), 0, 0)
        puncher.punch(handle.fileno(), 0, 4096)  # still on: an empty range is no refusal
        assert os.pread(handle.fileno(), 4096, 0) == bytes(4096)
