"""The pod runner restarts a crashed container and keeps its termination message the way a kubelet does."""

from __future__ import annotations

import pytest

from connect_operator.devkit.podrunner import crash_backoff, termination_message

pytestmark = pytest.mark.unit


def test_crash_backoff_doubles_from_ten_seconds_to_five_minutes() -> None:
    assert [crash_backoff(n) for n in range(7)] == [10, 20, 40, 80, 160, 300, 300]


def test_the_termination_message_is_the_files_first_4096_bytes() -> None:
    assert termination_message(b"PluginInstallFailed: x\n", b"ignored", from_log=False) == "PluginInstallFailed: x\n"
    assert len(termination_message(b"y" * 10_000, b"", from_log=False)) == 4096


def test_falling_back_to_the_log_takes_its_last_80_lines_within_2048_bytes() -> None:
    log = b"".join(f"line {n}\n".encode() for n in range(200))
    tail = termination_message(b"", log, from_log=True).splitlines()
    assert len(tail) == 80 and tail[-1] == "line 199"
    assert len(termination_message(b"", b"z" * 5000, from_log=True)) == 2048
