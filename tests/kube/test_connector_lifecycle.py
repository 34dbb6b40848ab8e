"""What a platform team meets after the happy path: missing clusters, limits, deletes and orphans.

Real control plane, real Connect workers in Pods (the pod runner), the operator in a thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_operator.settings import OperatorSettings
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, running_operator
from tests.support.argocd import health
from tests.support.connect_http import call
from tests.support.groups import settled_generation, worker_logs
from tests.support.polling import poll_until
from tests.support.resources import condition, in_connect, ready_cluster, source_connector, warnings, worker_url
from tests.support.slow_proxy import SlowProxy

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
GRACE = 8.0


@pytest.fixture
def lifecycle_operator(control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str) -> Iterator[None]:
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        rest_via_pod_ips=True,
        delete_grace_seconds=GRACE,
    )
    with running_operator(settings):
        yield


def _once_released(api: client.ApiClient, namespace: str, name: str) -> list[tuple[str, str]] | None:
    """The Connector's Warnings, once the one for its release is among them."""
    posted = warnings(api, namespace, name)
    return posted if any(reason == "ConnectorLeftInConnect" for reason, _ in posted) else None


def _wait_settled(api: client.ApiClient, pod_runner: PodRunner, namespace: str) -> None:
    """The local broker keeps a worker stopped mid-join as a member for good: stop workers only once quiet."""
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"kco.dev/cluster={LOCAL_CLUSTER}")
    logs = worker_logs(pod_runner.work_dir, namespace, [str(p.metadata.name) for p in pods.items if p.metadata])
    poll_until(lambda: settled_generation(logs), 90, "the workers' group settled")


def test_a_connector_whose_cluster_does_not_exist_says_so_within_one_sync(
    lifecycle_operator: None, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("typo", tmp_path, cluster="conect"))

    def reported() -> Any:
        obj = connectors.get(namespace=namespace, name="typo")
        return obj if condition(obj, "Ready").get("reason") == "ClusterNotFound" else None

    obj = poll_until(reported, 20, "Ready=False ClusterNotFound")
    ready, stalled = condition(obj, "Ready"), condition(obj, "Stalled")
    assert ready["status"] == "False" and f"no KafkaConnect conect in namespace {namespace}" in ready["message"]
    assert stalled["status"] == "True", "only a person can fix a reference to nothing"
    assert obj.status["observedGeneration"] == 1, "the generation was acted on: refused"
    # Argo CD's view, by the shipped health check run in a real Lua: Degraded, with the reason.
    assert health(obj.to_dict())[0] == "Degraded" and "ClusterNotFound" in health(obj.to_dict())[1]
    poll_until(lambda: warnings(api, namespace, "typo"), 10, "a Warning Event")
    assert [r for r, _ in warnings(api, namespace, "typo")] == ["ClusterNotFound"]
    # Deleting it is not held by anything.
    connectors.delete(namespace=namespace, name="typo")
    poll_until(lambda: not connectors.get(namespace=namespace).items, 20, "the Connector gone")


def test_a_tasks_max_above_the_clusters_limit_is_refused_and_the_others_still_sync(
    lifecycle_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed, maxTasksPerConnector=4)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("greedy", tmp_path, tasksMax=500))
    connectors.create(namespace=namespace, body=source_connector("modest", tmp_path))
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="modest"), "Ready").get("status") == "True",
        120,
        "the modest connector running",
    )
    greedy = connectors.get(namespace=namespace, name="greedy")
    modest = connectors.get(namespace=namespace, name="modest").to_dict()
    poll_until(
        lambda: health(connectors.get(namespace=namespace, name="modest").to_dict())[0] == "Healthy",
        30,
        "Argo CD's health Healthy once nothing is in flight",
    )
    assert health(greedy.to_dict()) == ("Degraded", f"TasksMaxExceeded: {condition(greedy, 'Stalled')['message']}")
    assert modest["status"]["cluster"] == LOCAL_CLUSTER
    ready = condition(greedy, "Ready")
    assert ready["reason"] == "TasksMaxExceeded" and "spec.maxTasksPerConnector (4)" in ready["message"], ready
    assert condition(greedy, "Stalled")["status"] == "True"
    assert in_connect(api, namespace) == ["modest"], "the refused connector never reached Connect"
    # The fix is a spec edit, and it goes through.
    connectors.patch(
        namespace=namespace,
        name="greedy",
        body={"spec": {"tasksMax": 2}},
        content_type="application/merge-patch+json",
    )
    poll_until(lambda: in_connect(api, namespace) == ["greedy", "modest"], 120, "the corrected connector created")


def test_a_plain_value_with_a_workers_provider_placeholder_is_refused_never_sent_and_the_fix_goes_through(
    lifecycle_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    # Exposed Secrets: the workers configure the `dir` provider (the pod runner gives it an empty folder).
    ready_cluster(crds, namespace, testbed, exposedSecrets=["db"])
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    peek = source_connector("peek", tmp_path)
    peek["spec"]["config"]["topic"] = "${dir:/etc:hostname}"
    connectors.create(namespace=namespace, body=peek)

    def refused() -> Any:
        obj = connectors.get(namespace=namespace, name="peek")
        return obj if condition(obj, "Ready").get("reason") == "InvalidSpec" else None

    obj = poll_until(refused, 60, "Ready=False InvalidSpec")
    ready = condition(obj, "Ready")
    assert ready["status"] == "False" and ready["message"].startswith("spec.config.topic: "), ready
    assert "/etc" not in ready["message"], "the field is named, not what its value points at"
    assert condition(obj, "Stalled")["status"] == "True"
    # A placeholder of a provider the workers do not have goes to Connect as written.
    modest = source_connector("modest", tmp_path)
    modest["spec"]["config"]["label"] = "${env:HOME}"
    connectors.create(namespace=namespace, body=modest)
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="modest"), "Ready").get("status") == "True",
        120,
        "the modest connector running",
    )
    url = worker_url(api, namespace)
    assert url is not None and call("GET", f"{url}/connectors/modest/config").body["label"] == "${env:HOME}"
    assert in_connect(api, namespace) == ["modest"], "the refused connector never reached Connect"
    # Refused at the first sync, and every sync since (modest took several): still one Warning.
    assert [reason for reason, _ in warnings(api, namespace, "peek")] == ["InvalidSpec"]
    connectors.patch(
        namespace=namespace,
        name="peek",
        body={"spec": {"config": {"topic": f"peek-{tmp_path.name}"}}},
        content_type="application/merge-patch+json",
    )
    poll_until(lambda: in_connect(api, namespace) == ["modest", "peek"], 120, "the corrected connector created")
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="peek"), "Ready").get("status") == "True",
        120,
        "the corrected connector Ready",
    )


def test_deleting_a_kafkaconnect_deletes_its_connectors_from_connect_and_a_recreated_one_brings_back_none_undeclared(
    lifecycle_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    # The second cluster reads the first one's topics from a group of its own: a worker stopped mid-join
    # would stay a member of the first group for good on the local broker.
    topics = {kind: {"name": f"{namespace}-{kind}", "replicationFactor": 1} for kind in ("config", "offset", "status")}
    kafkaconnects = ready_cluster(crds, namespace, testbed, groupId=f"{namespace}-first", internalTopics=topics)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    for name in ("kept", "dropped"):
        connectors.create(namespace=namespace, body=source_connector(name, tmp_path))
    poll_until(lambda: in_connect(api, namespace) == ["dropped", "kept"], 120, "both connectors in Connect")
    _wait_settled(api, pod_runner, namespace)
    kafkaconnects.delete(namespace=namespace, name=LOCAL_CLUSTER)
    poll_until(lambda: not kafkaconnects.get(namespace=namespace).items, 60, "the KafkaConnect gone")
    for name in ("kept", "dropped"):
        obj = connectors.get(namespace=namespace, name=name)
        assert condition(obj, "Ready")["reason"] == "ClusterGone", obj.status
        assert condition(obj, "Stalled")["status"] == "True"
    # With the cluster gone, deleting a Connector is not held.
    connectors.delete(namespace=namespace, name="dropped")
    poll_until(lambda: [c.metadata.name for c in connectors.get(namespace=namespace).items] == ["kept"], 20, "released")
    poll_until(lambda: not client.CoreV1Api(api).list_namespaced_pod(namespace).items, 60, "the old workers gone")
    # Same name and config topic: only what a Connector still declares comes back.
    ready_cluster(crds, namespace, testbed, groupId=f"{namespace}-second", internalTopics=topics)
    poll_until(lambda: in_connect(api, namespace) == ["kept"], 120, "just the declared connector back")


def test_deletes_while_connect_is_unreachable_are_released_after_the_grace_and_the_leftovers_deleted_later(
    control_plane: ControlPlane,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    def worker_url() -> str:
        ips = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")
        return f"http://{ips[0] if ips else '127.0.0.1'}:8083"

    proxy = SlowProxy(worker_url)
    proxy.start()
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        rest_url_overrides={f"{namespace}/{LOCAL_CLUSTER}": proxy.url},
        delete_grace_seconds=GRACE,
    )
    doomed = [f"doomed-{n}" for n in range(4)]
    try:
        with running_operator(settings):
            kafkaconnects = ready_cluster(crds, namespace, testbed)
            connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
            for name in doomed:
                connectors.create(namespace=namespace, body=source_connector(name, tmp_path))
            poll_until(lambda: in_connect(api, namespace) == doomed, 120, "the connectors in Connect")
            proxy.unreachable = True
            for name in doomed:  # at once: their handlers record their leftovers at the same moment
                connectors.delete(namespace=namespace, name=name)
            # Released after the grace, not held while Connect cannot be reached.
            poll_until(lambda: not connectors.get(namespace=namespace).items, GRACE + 20, "the Connectors released")
            status = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status
            assert status.get("leftoverConnectors") == doomed, "every one recorded: no write lost another's"
            assert in_connect(api, namespace) == doomed, "still in Connect, as the record says"
            for name in doomed:
                # One Warning for the release, not one per retry; none repeated. (Events land apart from
                # the release, so the first may be a moment behind it.)
                posted = poll_until(partial(_once_released, api, namespace, name), 20, f"the Warning on {name}")
                reasons = [r for r, _ in posted]
                assert reasons.count("ConnectorLeftInConnect") == 1 and len(reasons) == len(set(reasons)), posted
                assert f"connector {name}" in dict(posted)["ConnectorLeftInConnect"]
            proxy.unreachable = False
            poll_until(lambda: in_connect(api, namespace) == [], 60, "the leftovers deleted once Connect answers")
            poll_until(
                lambda: not kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status.get("leftoverConnectors"),
                20,
                "the leftover record cleared",
            )
    finally:
        proxy.stop()


def test_deleting_the_namespace_finishes_with_a_cluster_and_its_connectors_in_it(
    lifecycle_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("inside", tmp_path))
    poll_until(lambda: in_connect(api, namespace) == ["inside"], 120, "the connector in Connect")
    core = client.CoreV1Api(api)
    core.delete_namespace(namespace)

    def gone() -> bool:
        try:
            core.read_namespace(namespace)
        except ApiException as exc:
            return exc.status == 404
        return False

    # Workers and finalizers all go: no finalizer waits on a cluster being torn down for longer than the grace.
    poll_until(gone, GRACE + 90, "the namespace deleted")
