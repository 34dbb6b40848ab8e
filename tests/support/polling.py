"""Waiting for a condition with a deadline: the only way tests synchronise."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.25) -> T:
    """Call `probe` until it returns something truthy, or fail after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
            last = value
        except Exception as exc:  # the system under test may be mid-change; keep the last error
            value = None
            last = exc
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; last seen: {last!r}")
        time.sleep(interval)
