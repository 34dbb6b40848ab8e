"""A node drain is never blocked by a worker: the API server's Eviction of a single worker's Pod is granted,
as the disruption controller computes it from the operator's PodDisruptionBudget."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER
from tests.support.polling import poll_until
from tests.support.resources import ready_cluster

pytestmark = [pytest.mark.kube, pytest.mark.e2e]


def _evict(api: client.ApiClient, namespace: str, pod: str) -> int:
    """POST the Pod's eviction subresource as `kubectl drain` does; the HTTP status the API server answers."""
    # policy/v1beta1: the Eviction version Kubernetes 1.20 serves (policy/v1 arrived in 1.22).
    meta = client.V1ObjectMeta(name=pod, namespace=namespace)
    body = client.V1Eviction(api_version="policy/v1beta1", kind="Eviction", metadata=meta)
    try:
        client.CoreV1Api(api).create_namespaced_pod_eviction(pod, namespace, body)
    except ApiException as exc:
        return int(exc.status)
    return 201


def test_a_drain_evicts_a_single_workers_pod_instead_of_waiting_for_good(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    ready_cluster(crds, namespace, testbed)
    budgets = crds.resources.get(api_version="policy/v1beta1", kind="PodDisruptionBudget")

    def allowed() -> Any:
        budget = budgets.get(namespace=namespace, name=f"{LOCAL_CLUSTER}-connect")
        status = budget.status or {}
        return budget if status.get("currentHealthy") == 1 and status.get("disruptionsAllowed") == 1 else None

    poll_until(allowed, 60, "the disruption controller allowing one disruption of the one healthy worker")
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"kco.dev/cluster={LOCAL_CLUSTER}")
    (pod,) = [str(p.metadata.name) for p in pods.items if p.metadata]
    assert _evict(api, namespace, pod) == 201, "a drain may take the only worker (a restart), not wait forever"
