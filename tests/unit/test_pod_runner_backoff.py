"""The pod runner restarts a crashed worker the way a kubelet does: 10 s, doubling, at most 5 minutes."""

from __future__ import annotations

import pytest

from connect_operator.devkit.podrunner import crash_backoff

pytestmark = pytest.mark.unit


def test_crash_backoff_doubles_from_ten_seconds_to_five_minutes() -> None:
    assert [crash_backoff(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]
