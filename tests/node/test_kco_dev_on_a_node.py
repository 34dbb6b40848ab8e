"""`kco dev` where a real node can run: it runs there by default (the chart's operator Pod, worker Pods of the
Connect image built here), the example pipeline carries data, and nothing of the run outlives it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.node.conftest import NodeCluster

# The first test also waits for the session's node, chart and (after a code change) the operator image.
pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]


def _node_namespaces() -> set[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return {line.split()[0] for line in listed.splitlines() if line.startswith("kco-node-")}


def _shims() -> set[str]:
    """containerd shims, by the socket they were started with (a node's folder of sockets)."""
    listed = subprocess.run(["pgrep", "-af", "containerd-shim"], capture_output=True, text=True, check=False).stdout
    return {line.split(" -address ", 1)[-1].split()[0] for line in listed.splitlines() if " -address " in line}


def test_kco_dev_runs_on_a_real_node_by_default_and_cleans_up(node_cluster: NodeCluster, tmp_path: Path) -> None:
    # node_cluster: only where a real node can run (it skips, saying why, elsewhere); its own node stays up.
    # Its node's folder is made after this: shims of nodes already here (the session's own, whose Pods
    # may come and go meanwhile) are not this run's.
    folders_before = {str(p) for p in Path(tempfile.gettempdir()).glob("kco-node-*")}
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
        timeout=600,
        check=False,
        env=dict(os.environ),
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-3000:]
    assert (
        "kco dev: on a real node (kubelet, containerd); the operator runs as a Pod from the Helm chart." in done.stdout
    )
    assert re.search(r"operator Pod kco-system/kco-kafka-connect-operator-\S+; ready in", done.stdout)
    assert re.search(r"pipeline-source\s+RUNNING\s+1/1\s+yes", done.stdout)
    assert re.search(r"pipeline-sink\s+RUNNING\s+1/1\s+yes", done.stdout)
    # Written by the sink inside the worker container, through the hostPath volume kco dev mounts.
    output = tmp_path / "pipeline" / "pipeline-output.txt"
    assert output.read_text().startswith("event ")
    assert output.stat().st_uid == 1000, "the worker's non-root user wrote it"
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", "no kubelet, containerd, broker or control plane of this run may outlive it"
    # Another node's may have gone meanwhile (reaped, or a test's); none of this run's may be left.
    # Its own node, by the name its stop logged: another node may come and go meanwhile (not this run's).
    log = (tmp_path / "kco-dev.log").read_text() if (tmp_path / "kco-dev.log").exists() else ""
    stopped = re.findall(r"Node (kco-node-\d+) stopped; its network namespace (.*)", log)
    assert stopped, "its node's stop was logged"
    [(own, how)] = stopped
    assert how == "deleted", f"its node's network namespace is gone: {how}"
    assert own not in _node_namespaces(), f"{own} is not listed by `ip netns list` any more"
    left = {socket for socket in _shims() if str(Path(socket).parent) not in folders_before}
    assert not left, "no containerd shim of its containers is left"
