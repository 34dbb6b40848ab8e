"""How a cluster's sync loop reads its Connectors: from the operator's watch of them, so a sync sends the API
server no read of Connectors at all, and still sees every edit. Real control plane, a real Connect worker
in a Pod (the pod runner), the operator in a thread."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, dynamic
from prometheus_client import REGISTRY

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.settings import OperatorSettings
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, running_operator
from tests.support.connect_http import call
from tests.support.polling import poll_until
from tests.support.resources import MERGE, condition, ready_cluster, source_connector, worker_url

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

NAMES = ["read-a", "read-b", "read-c"]


@pytest.fixture
def reads_operator(control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str) -> Iterator[None]:
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=1,
        rest_via_pod_ips=True,
    )
    with running_operator(settings):
        yield


def _connector_reads() -> float:
    return REGISTRY.get_sample_value("kco_kube_requests_total", {"verb": "GET", "resource": "connectors"}) or 0.0


def _syncs(namespace: str) -> float:
    labels = {"namespace": namespace, "cluster": LOCAL_CLUSTER}
    return REGISTRY.get_sample_value("kco_sync_duration_seconds_count", labels) or 0.0


def _config_topic(api: client.ApiClient, namespace: str, name: str) -> str | None:
    url = worker_url(api, namespace)
    answer = call("GET", f"{url}/connectors/{name}/config", timeout=5, rebalance_deadline=5) if url else None
    return str(answer.body.get("topic")) if answer is not None and answer.status == 200 else None


def test_syncs_read_no_connector_from_the_api_server_and_still_see_an_edit(
    reads_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    for name in NAMES:
        connectors.create(namespace=namespace, body=source_connector(name, tmp_path))
    for name in NAMES:
        poll_until(
            lambda n=name: condition(connectors.get(namespace=namespace, name=n), "Ready").get("status") == "True",  # type: ignore[misc]
            120,
            f"{name} Ready",
        )
    reads, syncs = _connector_reads(), _syncs(namespace)
    poll_until(lambda: _syncs(namespace) >= syncs + 5, 60, "five more syncs of the cluster")
    assert _connector_reads() == reads, "a sync read Connectors from the API server"

    connectors.patch(
        namespace=namespace, name="read-b", body={"spec": {"config": {"topic": "edited"}}}, content_type=MERGE
    )
    poll_until(lambda: _config_topic(api, namespace, "read-b") == "edited", 60, "the edit in Connect")
    assert _connector_reads() == reads, "seeing the edit took no read of Connectors either"
