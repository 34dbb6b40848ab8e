"""Freed memory handed back to the system: the resident size of this very process, measured before and after."""

from __future__ import annotations

import pytest

from connect_operator import allocator

pytestmark = pytest.mark.skipif(allocator._glibc() is None, reason="glibc's allocator only")

BLOCK = 2000  # above pymalloc's 512 bytes, below any mmap threshold: glibc's heap
MB = 2**20


def _resident() -> float:
    size = allocator.resident_mb()
    assert size is not None
    return size


def test_a_release_gives_back_free_pages_below_the_heaps_top_that_glibc_keeps_otherwise() -> None:
    blocks = [bytearray(BLOCK) for _ in range(60 * MB // BLOCK)]
    top = bytearray(BLOCK)  # in use above the freed blocks: glibc's own trimming of the top cannot reach them
    filled = _resident()
    del blocks
    kept = _resident()
    assert filled - kept < 20, "glibc kept most of the freed heap"
    assert allocator.release()
    assert kept - _resident() > 40, "the release gave the freed pages back"
    del top


def test_large_buffers_are_unmapped_when_freed_even_after_a_larger_one_was() -> None:
    assert allocator.map_large_buffers_apart()
    # Without the fixed threshold, freeing a 32 MiB buffer would raise glibc's to 32 MiB, and the 256 KiB
    # buffers after it would come from the heap and stay resident once freed.
    big = bytearray(32 * MB)
    del big
    before = _resident()
    buffers = [bytearray(256 * 1024) for _ in range(200)]
    top = bytearray(BLOCK)
    grown = _resident()
    del buffers
    assert grown - before > 40
    assert grown - _resident() > 40, "50 MB of large buffers unmapped as they were freed"
    del top
