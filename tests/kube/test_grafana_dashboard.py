"""The chart's Grafana dashboard against what a running operator really exports: every metric and label its
queries read is in a scrape of the operator's /metrics, taken after a KafkaConnect, a Connector and a
requested restart on the real stack (control plane, pod runner, real worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import dynamic

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER
from tests.support import grafana
from tests.support.operator_process import OperatorProcess
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, MERGE, condition, ready_cluster, source_connector

pytestmark = [pytest.mark.kube, pytest.mark.e2e]


@pytest.fixture
def operator_process(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> Iterator[OperatorProcess]:
    """The operator as its image runs it, so the scrape is of the endpoint a ServiceMonitor would scrape."""
    process = OperatorProcess(control_plane.endpoints.kubeconfig, namespace, tmp_path / "operator.log")
    process.start()
    yield process
    process.stop()


def test_every_query_of_the_dashboard_reads_metrics_and_labels_the_running_operator_exports(
    operator_process: OperatorProcess,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed)
    connectors = crds.resources.get(api_version=API_VERSION, kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("watched", tmp_path))
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="watched"), "Ready").get("status") == "True",
        120,
        "the Connector Ready",
    )
    # The restarts counter has a series only once a restart happened: ask for one, as a user would.
    connectors.patch(namespace=namespace, name="watched", content_type=MERGE, body={"spec": {"restart": {"id": "r1"}}})
    labels = {"namespace": namespace, "cluster": LOCAL_CLUSTER, "connector": "watched"}
    poll_until(
        lambda: operator_process.metric("kco_connector_restarts_total", **labels, kind="requested") == 1,
        60,
        "the requested restart counted",
    )

    scrape = operator_process.metrics()
    dashboard = grafana.load()
    assert len(list(grafana.queries(dashboard))) >= 10, "the parser found the dashboard's queries"
    assert grafana.unanswered(dashboard, scrape) == []
    # The variables list this KafkaConnect, so choosing it leaves the panels something to show.
    assert namespace in grafana.label_values(scrape, "kco_sync_duration_seconds_count", "namespace")
    assert LOCAL_CLUSTER in grafana.label_values(scrape, "kco_sync_duration_seconds_count", "cluster")
