"""`kco dev --no-kube`: the example pipeline runs on a plain Connect cluster; nothing is left behind."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.contract


def test_kco_dev_runs_the_example_pipeline_and_cleans_up(tmp_path: Path) -> None:
    # One worker: two that start together and take configs at once can split into join rounds of their
    # own on the local broker (Tansu) and never settle; group behaviour is tested on groups of its own.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connect_operator.cli.main",
            "dev",
            "--no-kube",
            "--once",
            "--workers",
            "1",
            "--work-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"pipeline-source\s+RUNNING\s+1/1\s+yes", done.stdout)
    assert re.search(r"pipeline-sink\s+RUNNING\s+1/1\s+yes", done.stdout)
    delivered = [int(n) for n in re.findall(r"Pipeline: (\d+) lines delivered", done.stdout)]
    assert delivered and delivered[-1] > 0
    assert (tmp_path / "kco-dev" / "pipeline-output.txt").read_text().startswith("event ")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", "no broker or worker of this run may outlive it"
