"""A devkit killed with its node running (SIGKILL, a crash) leaves containerd's shims and their containers
behind, by containerd's design; the next node it starts reaps them, with the cgroups and the namespace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from connect_operator.devkit import node as node_module
from tests.node.conftest import NodeCluster
from tests.support.polling import poll_until

pytestmark = [pytest.mark.node, pytest.mark.timeout(600)]

_START_A_NODE = textwrap.dedent(
    """
    import json, sys, threading
    from pathlib import Path
    from connect_operator.devkit import pki
    from connect_operator.devkit.controlplane import Endpoints
    from connect_operator.devkit.kubeversions import Version
    from connect_operator.devkit.node import LocalNode, NodeBinaries

    given = json.loads(sys.argv[1])
    keys = pki.Pki(*map(Path, given["pki"]))
    endpoints = Endpoints(given["server"], Path(given["kubeconfig"]), given["token"], keys.ca_cert, keys)
    binaries = NodeBinaries(*map(Path, given["binaries"]), Version(*given["version"]))
    node = LocalNode(endpoints, binaries, Path(given["work"]), [Path(given["pause"])], given["pause_ref"])
    node.start()
    print(node.name, node.folders.short, flush=True)
    threading.Event().wait()
    """
)


def _shims_of(folder: Path) -> list[str]:
    listed = subprocess.run(["pgrep", "-af", "containerd-shim"], capture_output=True, text=True, check=False)
    return [line for line in listed.stdout.splitlines() if str(folder) in line]


def _apiserver_addresses(core: Any) -> list[str]:
    endpoints = core.read_namespaced_endpoints("kubernetes", "default")
    return sorted(a.ip for s in endpoints.subsets or [] for a in s.addresses or [])


def _host_address(namespace: str) -> str:
    return f"10.243.{namespace.rsplit('-', 1)[1]}.1"


def _namespaces() -> str:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout


def test_a_node_whose_devkit_was_killed_is_reaped_by_the_next_one(node_cluster: NodeCluster, tmp_path: Path) -> None:
    endpoints = node_cluster.plane.endpoints
    given = {
        "server": endpoints.server,
        "kubeconfig": str(endpoints.kubeconfig),
        "token": endpoints.admin_token,
        "pki": [str(p) for p in astuple(endpoints.pki)],
        "binaries": [str(p) for p in astuple(node_cluster.node_binaries)[:3]],
        "version": list(astuple(node_cluster.node_binaries.version)),
        "work": str(tmp_path / "node"),
        "pause": str(node_cluster.built.pause.archive),
        "pause_ref": node_cluster.built.pause.reference,
    }
    devkit = subprocess.Popen(
        [sys.executable, "-c", _START_A_NODE, json.dumps(given)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    core: Any = client.CoreV1Api(node_cluster.api)
    name = ""
    try:
        assert devkit.stdout is not None
        name, short = devkit.stdout.readline().split()
        folder = Path(short)
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "left-behind"},
            "spec": {
                "nodeName": name,
                "containers": [{"name": "c", "image": node_cluster.built.pause.reference}],
            },
        }
        core.create_namespaced_pod("default", pod)
        poll_until(lambda: core.read_namespaced_pod("left-behind", "default").status.phase == "Running", 120, "Pod")
        os.killpg(devkit.pid, signal.SIGKILL)
        devkit.wait(30)
        # What a dead devkit leaves: the shims (and their containers) and the node's network namespace.
        assert _shims_of(folder) and f"{name} " in _namespaces()

        assert _apiserver_addresses(core) == sorted([node_cluster.node.host_address, _host_address(name)])
        assert name in node_module.reap_abandoned()
        # The other node's Pods reach the apiserver through every address listed: the dead one is not.
        assert _apiserver_addresses(core) == [node_cluster.node.host_address]
        assert not _shims_of(folder)
        assert f"{name} " not in _namespaces()
        assert not folder.exists()
        cgroups = [p for p in Path("/sys/fs/cgroup/pids").rglob(name) if p.is_dir()]
        assert not cgroups, cgroups
    finally:
        if devkit.poll() is None:
            os.killpg(devkit.pid, signal.SIGKILL)
        node_module.reap_abandoned()
        core.delete_namespaced_pod("left-behind", "default", grace_period_seconds=0)
        if name:
            core.delete_node(name)
