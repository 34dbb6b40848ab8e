"""`kco dev`, the README's main command: the whole loop comes up, the example pipeline carries data, and
Ctrl-C-free exit (`--once`) leaves no process behind. Here on Kubernetes binaries named by KUBEBUILDER_ASSETS
(envtest's convention) that hold no kubelet: kco dev says it cannot use a real node, and why, and runs the
worker Pods with the pod runner (tests/node runs it on a real node)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from connect_operator.devkit import k8sbuild
from connect_worker import settings

# The whole loop from nothing (control plane, broker, operator, a worker) under the suite's load: minutes.
pytestmark = [pytest.mark.kube, pytest.mark.e2e, pytest.mark.timeout(600)]


def test_kco_dev_runs_the_whole_loop_on_kubebuilder_assets_without_a_node_and_cleans_up(tmp_path: Path) -> None:
    built = k8sbuild.locate(settings.cache_dir(), environ={})
    assets = tmp_path / "assets"
    assets.mkdir()
    for binary in (built.apiserver, built.controller_manager, built.etcd):
        (assets / binary.name).symlink_to(binary)
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
            str(tmp_path / "run"),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
        env={**os.environ, "KUBEBUILDER_ASSETS": str(assets)},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (
        "kco dev: worker Pods run as local processes (the pod runner), not on a real node: "
        "no kubelet, kube-scheduler, kube-proxy beside kube-apiserver" in done.stdout
    )
    assert f"Kubernetes: etcd, kube-apiserver, kube-controller-manager 1.20.2 ({assets})" in done.stdout
    run = tmp_path / "run"
    # Not a terminal: a line when each step starts and one when it ends, no redrawing escape codes.
    assert "  … the operator\n" in done.stdout and re.search(r"  ✓ the operator \(\d+\.\d s\)", done.stdout)
    assert "\r" not in done.stdout and "\033[" not in done.stdout
    assert "OS signals are ignored" not in done.stdout + done.stderr, "kopf's warnings go to the log file"
    assert f"export KUBECONFIG={run / 'kube' / 'kubeconfig'}" in done.stdout
    assert re.search(r"pipeline-source\s+RUNNING\s+1/1\s+yes", done.stdout)
    assert re.search(r"pipeline-sink\s+RUNNING\s+1/1\s+yes", done.stdout)
    delivered = [int(n) for n in re.findall(r"Pipeline: (\d+) lines delivered", done.stdout)]
    assert delivered and delivered[-1] > 0
    assert (run / "pipeline" / "pipeline-output.txt").read_text().startswith("event ")
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False)
    assert leftovers.stdout == "", "no broker, control plane or worker of this run may outlive it"
