"""Freed heap memory goes back to the system where the C library can return it."""

from __future__ import annotations

import pytest

from tui.perf import heap

glibc = pytest.mark.skipif(heap._malloc_trim() is None, reason="no malloc_trim in this C library")


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS line")


@glibc
def test_freed_blocks_leave_the_resident_memory() -> None:
    """release_freed gives the pages of freed blocks back: resident memory falls by over 20 MB."""
    # Blocks too large for Python's own allocator, freed all but every 50th: glibc keeps the
    # pages between the survivors until it is asked to return them.
    blocks = [bytes(2000) + bytes([n % 256]) for n in range(20_000)]
    survivors = blocks[::50]
    del blocks
    before = _rss_mb()
    assert heap.release_freed() is True
    assert _rss_mb() < before - 20
    assert len(survivors) == 400


def test_without_malloc_trim_it_says_it_did_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """A C library without malloc_trim makes release_freed return False."""

    class Library:  # macOS's or musl's C library: no malloc_trim
        pass

    monkeypatch.setattr(heap.ctypes, "CDLL", lambda _name: Library())
    heap._malloc_trim.cache_clear()
    try:
        assert heap.release_freed() is False
    finally:
        heap._malloc_trim.cache_clear()
