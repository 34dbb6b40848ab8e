"""`kco dev` as a person at a terminal sees it: run under a pseudo-terminal, its screen read by a VT100
emulator (pyte). Each start-up step shows its elapsed time, the live table is redrawn in place rather
than printed again below itself, and kopf's internal warnings go to the log file the first line names."""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyte
import pytest

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

COLUMNS, ROWS = 160, 60
KOPF_THREAD_WARNING = "OS signals are ignored"


class Terminal:
    """A child process on a pseudo-terminal, everything it writes fed to a screen."""

    def __init__(self, argv: list[str]) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self._stream = pyte.ByteStream(self.screen)
        self.raw = b""
        controller, child = pty.openpty()
        os.set_blocking(controller, False)
        env = {**os.environ, "COLUMNS": str(COLUMNS), "LINES": str(ROWS), "TERM": "xterm"}
        self.process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, env=env, close_fds=True)
        os.close(child)
        self._controller = controller

    def read_until(self, done: str, timeout: float) -> None:
        """Feed the screen until `done` shows on it (polling the pty with a deadline, not sleeping)."""
        deadline = time.monotonic() + timeout
        while done not in self.text():
            if time.monotonic() > deadline:
                raise AssertionError(f"{done!r} not on screen within {timeout:.0f} s:\n{self.text()}")
            if self.process.poll() is not None and not self._drain(0.1):
                raise AssertionError(f"kco dev exited {self.process.returncode}:\n{self.text()}")
            self._drain(0.5)

    def _drain(self, wait: float) -> bool:
        ready, _, _ = select.select([self._controller], [], [], wait)
        if not ready:
            return False
        try:
            chunk = os.read(self._controller, 65536)
        except OSError:  # the child closed its side
            return False
        self.raw += chunk
        self._stream.feed(chunk)
        return bool(chunk)

    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display)

    def stop(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._drain(0.5)
        if self.process.poll() is None:
            self.process.kill()
        os.close(self._controller)
        return self.process.wait(10)


def test_kco_dev_on_a_terminal_shows_its_steps_redraws_its_table_in_place_and_keeps_warnings_in_its_log(
    tmp_path: Path,
) -> None:
    argv = [
        sys.executable,
        "-m",
        "connect_operator.cli.main",
        "dev",
        "--pod-runner",
        "--workers",
        "1",
        "--work-dir",
        str(tmp_path),
    ]
    terminal = Terminal(argv)
    try:
        terminal.read_until("pipeline-sink", 240)
        first = terminal.raw.count(b"Pipeline:")
        # Three more redraws of the table (every 2 s), each one read off the pty.
        deadline = time.monotonic() + 60
        while terminal.raw.count(b"Pipeline:") < first + 3:
            assert time.monotonic() < deadline, terminal.text()
            terminal.read_until("Pipeline:", 5)
            terminal._drain(0.5)
        screen = terminal.text()
    finally:
        code = terminal.stop()

    assert screen.splitlines()[0].startswith(f"kco dev: everything runs under {tmp_path}")
    for step in ("a Kafka-protocol broker (Tansu)", "Kubernetes: etcd", "the operator", "the pod runner"):
        assert re.search(rf"✓ {re.escape(step)}.*\(\d+\.\d s\)", screen), (step, screen)
    # While the control plane started, its line was redrawn with the time so far, then replaced.
    assert re.search(rb"\xe2\x80\xa6 Kubernetes: etcd[^\n]*  \d+\.\d s", terminal.raw), "a live elapsed time"
    assert screen.count("NAME  ") == 1 and screen.count("Pipeline:") == 1, screen
    assert terminal.raw.count(b"NAME  ") >= 4, "the table was drawn again each time, in the same place"
    assert f"export KUBECONFIG={tmp_path / 'kube' / 'kubeconfig'}" in screen, "the lines above the table stay"
    assert KOPF_THREAD_WARNING.encode() not in terminal.raw
    assert KOPF_THREAD_WARNING in (tmp_path / "kco-dev.log").read_text()
    assert code == 0
