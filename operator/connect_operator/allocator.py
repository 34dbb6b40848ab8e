"""Hand freed memory back to the system (glibc's allocator; elsewhere nothing happens).

The operator's memory comes in bursts: an `apply` of hundreds of Connectors parses hundreds of watch
events and API answers within seconds, then frees them. glibc keeps what was freed inside its heap for
reuse, so the resident size stays at the burst's high water: measured with 1,000 Connectors, one
`malloc_trim(0)` gave back 50 MB of a 208 MB process. Two settings prevent that:
buffers of 64 KiB and more (HTTP bodies, JSON text) are mapped on their own and unmapped when freed,
instead of glibc raising that threshold after the first large free; and a trim every
`memory_release_seconds` returns the free pages in the middle of the heap.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import time
from pathlib import Path

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # mallopt(3)
LARGE_BUFFER = 64 * 1024


def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


def map_large_buffers_apart(threshold: int = LARGE_BUFFER) -> bool:
    """Allocations of `threshold` bytes and more get their own mapping, unmapped when freed. False: not glibc."""
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_MMAP_THRESHOLD, threshold))


def release() -> bool:
    """Return the heap's free pages to the system; whether glibc found any. False too when not glibc."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0))


def resident_mb() -> float | None:
    """This process's resident size (Linux), for the log line of a release."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * 4096 / 2**20


async def release_every(seconds: float) -> None:
    """Release now and then, for as long as the operator runs (cancelled with it)."""
    if _glibc() is None:
        log.debug("Not glibc: freed memory is left to the allocator")
        return
    while True:
        await asyncio.sleep(seconds)
        before, started = resident_mb(), time.perf_counter()
        release()
        log.debug(
            "Released free heap memory: %s → %s MB resident in %.1f ms",
            f"{before:.0f}" if before is not None else "?",
            f"{after:.0f}" if (after := resident_mb()) is not None else "?",
            1000 * (time.perf_counter() - started),
        )
