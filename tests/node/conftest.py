"""A real node for the session: the control plane, a kubelet on containerd with the images built here, a broker
the Pods reach, and the operator installed by its Helm chart, running as a Pod under the chart's RBAC alone.

Skipped, with the reason, where a real node cannot run (not root, not Linux, packages missing).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from kubernetes import client, config

from connect_operator.devkit import chart, images, k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.node import LocalNode, NodeBinaries, unavailable_reason
from connect_worker import broker, settings

# Short enough for a test to watch a rotation through: kubelets here refresh Secret volumes within ~15 s.
SECRET_PROPAGATION_SECONDS = 20


@dataclass
class NodeCluster:
    plane: ControlPlane
    node: LocalNode
    broker: broker.LocalBroker
    api: client.ApiClient
    built: images.BuiltImages
    node_binaries: NodeBinaries

    @property
    def bootstrap_servers(self) -> str:
        return self.broker.bootstrap_servers

    def logs(self) -> str:
        return f"{self.node.logs()}\n{self.plane.logs()}\n--- broker ---\n{self.broker.log_tail()}"


@pytest.fixture(scope="session")
def node_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeCluster]:
    cache = settings.cache_dir()
    binaries = k8sbuild.locate(cache)
    node_binaries = NodeBinaries.beside(binaries)
    reason = unavailable_reason(node_binaries)
    if reason:
        pytest.skip(f"no real node here: {reason}")
    built = images.ensure(cache)
    work = tmp_path_factory.mktemp("node")
    with ControlPlane(binaries, work / "kube") as plane:
        archives = [built.pause.archive, built.operator.archive, built.connect.archive]
        with LocalNode(plane.endpoints, node_binaries, work / "node", archives, built.pause.reference) as node:
            local_broker = broker.LocalBroker(broker.binary_path(cache), work, host=node.host_address)
            local_broker.start()
            try:
                local_broker.wait_ready()
                api = config.new_client_from_config(str(plane.endpoints.kubeconfig))  # type: ignore[no-untyped-call]
                yield NodeCluster(plane, node, local_broker, api, built, node_binaries)
            finally:
                local_broker.stop()


@pytest.fixture(scope="session")
def operator_release(node_cluster: NodeCluster) -> Iterator[chart.Release]:
    """`helm install` of the chart as it ships, with only the image and two intervals set."""
    env = {
        "KCO_STATUS_INTERVAL_SECONDS": "3",
        "KCO_SECRET_PROPAGATION_SECONDS": str(SECRET_PROPAGATION_SECONDS),
    }
    image = node_cluster.built.operator.reference
    with chart.installed(node_cluster.api, node_cluster.plane.endpoints.kubeconfig, image, env) as release:
        yield release


@pytest.fixture
def namespace(node_cluster: NodeCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"n-{request.node.name.lower()[:40].strip('-_').replace('_', '-')}-{secrets.token_hex(2)}"
    core = client.CoreV1Api(node_cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
