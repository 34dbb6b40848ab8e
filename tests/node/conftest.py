"""A real node for the session: the control plane, a kubelet on containerd with the images built here, a broker
the Pods reach, and the operator installed by its Helm chart, running as a Pod under the chart's RBAC alone.

Skipped, with the reason, where a real node cannot run (not root, not Linux, packages missing).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from kubernetes import client, config

from connect_operator.devkit import images, k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.node import LocalNode, NodeBinaries, unavailable_reason
from connect_worker import broker, settings
from tests.support.polling import poll_until

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "kafka-connect-operator"
OPERATOR_NAMESPACE = "kco-system"
RELEASE = "kco"
# Short enough for a test to watch a rotation through: kubelets here refresh Secret volumes within ~15 s.
SECRET_PROPAGATION_SECONDS = 20


@dataclass
class NodeCluster:
    plane: ControlPlane
    node: LocalNode
    broker: broker.LocalBroker
    api: client.ApiClient
    built: images.BuiltImages

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
                yield NodeCluster(plane, node, local_broker, api, built)
            finally:
                local_broker.stop()


@dataclass
class OperatorRelease:
    namespace: str
    pod: str
    image: str


@pytest.fixture(scope="session")
def operator_release(node_cluster: NodeCluster) -> Iterator[OperatorRelease]:
    """`helm install` of the chart as it ships, with only the image and two intervals set."""
    core: Any = client.CoreV1Api(node_cluster.api)
    # Kubernetes 1.21 and later label every namespace with its name; on older ones the operator's namespace
    # needs it by hand (docs/operating.md), or the workers' NetworkPolicy admits no operator Pod.
    labels = {"kubernetes.io/metadata.name": OPERATOR_NAMESPACE}
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=OPERATOR_NAMESPACE, labels=labels)))
    image = node_cluster.built.operator.reference
    repository, tag = image.rsplit(":", 1)
    values: dict[str, Any] = {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "extraEnv": [
            {"name": "KCO_STATUS_INTERVAL_SECONDS", "value": "3"},
            {"name": "KCO_SECRET_PROPAGATION_SECONDS", "value": str(SECRET_PROPAGATION_SECONDS)},
        ],
    }
    helm.disable_logging()
    with (
        helm.Chart.load(CHART) as chart,
        helm.Config(kubeconfig_path=node_cluster.plane.endpoints.kubeconfig, namespace=OPERATOR_NAMESPACE) as cfg,
    ):
        installed = cfg.install(chart, RELEASE, values, timeout=120)
        assert installed["status"] == "deployed"
        try:
            pod = poll_until(lambda: _ready_pod(core), 180, "the operator Pod Ready through its probes")
            yield OperatorRelease(OPERATOR_NAMESPACE, pod, image)
        finally:
            cfg.uninstall(RELEASE, timeout=60)


def _ready_pod(core: Any) -> str | None:
    pods = core.list_namespaced_pod(OPERATOR_NAMESPACE, label_selector="app.kubernetes.io/component=operator")
    for pod in pods.items:
        conditions = {c.type: c.status for c in (pod.status.conditions or [])}
        if conditions.get("Ready") == "True":
            return str(pod.metadata.name)
    return None


@pytest.fixture
def namespace(node_cluster: NodeCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"n-{request.node.name.lower()[:40].strip('-_').replace('_', '-')}-{secrets.token_hex(2)}"
    core = client.CoreV1Api(node_cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)
