"""`kco dev`, the README's main command: the whole loop comes up, the example pipeline carries data, and
Ctrl-C-free exit (`--once`) leaves no process behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.kube, pytest.mark.e2e]


def test_kco_dev_runs_the_whole_loop_and_cleans_up(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connect_operator.cli.main",
            "dev",
            "--once",
            "--workers",
            "1",
            "--work-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # Not a terminal: a line when each step starts and one when it ends, no redrawing escape codes.
    assert "  … the operator\n" in done.stdout and re.search(r"  ✓ the operator \(\d+\.\d s\)", done.stdout)
    assert "\r" not in done.stdout and "\033[" not in done.stdout
    assert "OS signals are ignored" not in done.stdout + done.stderr, "kopf's warnings go to the log file"
    assert f"export KUBECONFIG={tmp_path / 'kube' / 'kubeconfig'}" in done.stdout
    assert re.search(r"pipeline-source\s+RUNNING\s+1/1\s+yes", done.stdout)
    assert re.search(r"pipeline-sink\s+RUNNING\s+1/1\s+yes", done.stdout)
    delivered = [int(n) for n in re.findall(r"Pipeline: (\d+) lines delivered", done.stdout)]
    assert delivered and delivered[-1] > 0
    assert (tmp_path / "pipeline" / "pipeline-output.txt").read_text().startswith("event ")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", "no broker, control plane or worker of this run may outlive it"
