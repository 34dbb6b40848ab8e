"""KafkaConnects kept apart and refused whole: one group per cluster, nothing applied from a refused set.

The operator runs against the real control plane and the real broker; the group held by a live
Connect cluster is the test bed's own (real workers, group kco-test).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.settings import OperatorSettings
from connect_worker import properties
from connect_worker.testbed import Testbed
from tests.kube.conftest import RunningOperator, kafkaconnect_manifest, running_operator
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, MERGE, condition, warnings

pytestmark = pytest.mark.kube

CHILD_READS = {
    "ServiceAccount": "read_namespaced_service_account",
    "ConfigMap": "read_namespaced_config_map",
    "Service": "read_namespaced_service",
}


def _manifest(namespace: str, testbed: Testbed, name: str, **spec: Any) -> dict[str, Any]:
    manifest = kafkaconnect_manifest(namespace, testbed, replicas=1, **spec)
    manifest["metadata"]["name"] = name
    if "groupId" not in spec:
        del manifest["spec"]["groupId"]
    return manifest


def _kafkaconnects(crds: dynamic.DynamicClient) -> Any:
    return crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")


def _settled(kafkaconnects: Any, namespace: str, name: str, what: str) -> Any:
    def reported() -> Any:
        current = kafkaconnects.get(namespace=namespace, name=name)
        stalled = condition(current, "Stalled")
        return current if stalled and current.status.get("observedGeneration") == current.metadata.generation else None

    return poll_until(reported, 60, what)


def _children_of(api: client.ApiClient, namespace: str, name: str) -> list[str]:
    """The kinds of the objects a KafkaConnect named `name` would own that exist."""
    core, found = client.CoreV1Api(api), []
    names = {
        "ServiceAccount": f"{name}-connect",
        "ConfigMap": f"{name}-connect-config",
        "Service": f"{name}-connect-api",
    }
    for kind, read in CHILD_READS.items():
        with contextlib.suppress(ApiException):
            getattr(core, read)(names[kind], namespace)
            found.append(kind)
    with contextlib.suppress(ApiException):
        client.AppsV1Api(api).read_namespaced_deployment(f"{name}-connect", namespace)
        found.append("Deployment")
    with contextlib.suppress(ApiException):
        client.NetworkingV1Api(api).read_namespaced_network_policy(f"{name}-connect", namespace)
        found.append("NetworkPolicy")
    return found


@pytest.fixture
def second_namespace(api: client.ApiClient, namespace: str) -> Iterator[str]:
    name = f"{namespace[:40]}-b"
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    with contextlib.suppress(ApiException):
        client.CoreV1Api(api).delete_namespace(name)


@pytest.fixture
def operator_of_two(
    control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str, second_namespace: str
) -> Iterator[RunningOperator]:
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace, second_namespace),
        status_interval_seconds=2,
        kafka_admin_timeout_seconds=10,
    )
    with running_operator(settings) as running:
        yield running


def test_two_same_named_clusters_in_two_namespaces_run_as_two_groups(
    operator_of_two: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    second_namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = _kafkaconnects(crds)
    for ns in (namespace, second_namespace):
        kafkaconnects.create(namespace=ns, body=_manifest(ns, testbed, "connect"))
    groups = {}
    for ns in (namespace, second_namespace):
        current = _settled(kafkaconnects, ns, "connect", f"{ns}/connect acted on")
        assert condition(current, "Stalled")["status"] == "False", condition(current, "Stalled")
        running = running_in(api, ns)
        assert running["group.id"] == current.status["groupId"] == f"{ns}.connect"
        assert running["config.storage.topic"] == f"{ns}.connect-configs"
        groups[ns] = running["group.id"]
    assert len(set(groups.values())) == 2
    topics = AdminClient({"bootstrap.servers": testbed.bootstrap_servers}).list_topics(timeout=10).topics
    assert {f"{ns}.connect-configs" for ns in groups} <= set(topics)


def test_a_cluster_from_before_group_ids_keeps_the_group_its_workers_run_with(
    control_plane: ControlPlane, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    """As after an upgrade: an earlier operator left a ConfigMap whose group.id is the name alone, and no
    status.groupId; the operator starts and keeps that group rather than moving to <namespace>.<name>."""
    kafkaconnects = _kafkaconnects(crds)
    created = kafkaconnects.create(namespace=namespace, body=_manifest(namespace, testbed, "connect"))
    earlier = {"group.id": "connect", "config.storage.topic": "connect-configs"}
    owner = client.V1OwnerReference(
        api_version=API_VERSION, kind="KafkaConnect", name="connect", uid=created.metadata.uid
    )
    client.CoreV1Api(api).create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="connect-connect-config", owner_references=[owner]),
            data={"worker.properties": properties.render(earlier)},
        ),
    )
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig), namespaces=(namespace,), status_interval_seconds=2
    )
    with running_operator(settings):
        current = _settled(kafkaconnects, namespace, "connect", "the earlier cluster acted on")
        assert current.status["groupId"] == "connect"
        assert running_in(api, namespace)["group.id"] == "connect"
        assert running_in(api, namespace)["config.storage.topic"] == "connect-configs"


def running_in(api: client.ApiClient, namespace: str) -> dict[str, str]:
    config_map = client.CoreV1Api(api).read_namespaced_config_map("connect-connect-config", namespace)
    return properties.parse((config_map.data or {})["worker.properties"])


def test_a_group_another_kafkaconnect_holds_is_refused_with_nothing_created_until_the_holder_goes(
    operator: RunningOperator, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    kafkaconnects = _kafkaconnects(crds)
    group = f"{namespace}-shared"
    kafkaconnects.create(namespace=namespace, body=_manifest(namespace, testbed, "first", groupId=group))
    _settled(kafkaconnects, namespace, "first", "the first cluster acted on")
    kafkaconnects.create(namespace=namespace, body=_manifest(namespace, testbed, "second", groupId=group))

    refused = _settled(kafkaconnects, namespace, "second", "the second cluster refused")
    ready, stalled = condition(refused, "Ready"), condition(refused, "Stalled")
    assert (ready["status"], ready["reason"], stalled["status"]) == ("False", "GroupIdConflict", "True")
    assert f"{namespace}/first" in ready["message"] and group in ready["message"]
    assert _children_of(api, namespace, "second") == []
    assert [r for r, _ in warnings(api, namespace, "second")] == ["GroupIdConflict"]
    assert condition(kafkaconnects.get(namespace=namespace, name="first"), "Stalled")["status"] == "False"

    kafkaconnects.delete(namespace=namespace, name="first")
    poll_until(lambda: "Deployment" in _children_of(api, namespace, "second"), 90, "the second applied")
    assert [r for r, _ in warnings(api, namespace, "second")] == ["GroupIdConflict"], "one Warning, not one a retry"


def test_a_group_a_live_connect_cluster_runs_is_refused_before_anything_is_created(
    operator: RunningOperator, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    kafkaconnects = _kafkaconnects(crds)
    kafkaconnects.create(namespace=namespace, body=_manifest(namespace, testbed, "intruder", groupId=testbed.group_id))

    refused = _settled(kafkaconnects, namespace, "intruder", "the cluster refused")
    ready = condition(refused, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "GroupIdInUse")
    assert testbed.group_id in ready["message"] and "spec.groupId" in ready["message"]
    assert _children_of(api, namespace, "intruder") == []
    assert [r for r, _ in warnings(api, namespace, "intruder")] == ["GroupIdInUse"]
    assert testbed.cluster is not None and len(testbed.cluster.rest_urls) == 2  # the live cluster untouched

    kafkaconnects.patch(
        namespace=namespace, name="intruder", content_type=MERGE, body={"spec": {"groupId": f"{namespace}-own"}}
    )
    poll_until(lambda: "Deployment" in _children_of(api, namespace, "intruder"), 60, "applied with its own group")


def test_a_spec_the_crd_can_check_is_refused_by_the_api_server(
    crds: dynamic.DynamicClient, namespace: str, testbed: Testbed
) -> None:
    kafkaconnects = _kafkaconnects(crds)
    bad: dict[str, dict[str, Any]] = {
        "empty-image": {"image": ""},
        "not-a-quantity": {"resources": {"limits": {"memory": "1GiB"}}},
    }
    for name, spec in bad.items():
        with pytest.raises(ApiException) as refused:
            kafkaconnects.create(namespace=namespace, body=_manifest(namespace, testbed, name, **spec))
        assert refused.value.status == 422, name
        field = "spec.image" if name == "empty-image" else "spec.resources.limits.memory"
        assert field in str(refused.value.body), refused.value.body


def test_a_set_the_api_server_refuses_is_reported_with_its_message_and_nothing_is_applied(
    operator: RunningOperator, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    kafkaconnects = _kafkaconnects(crds)
    group = f"{namespace}-refused"
    invalid_pod = {"pod": {"securityContext": {"runAsUser": -5}}}
    kafkaconnects.create(
        namespace=namespace, body=_manifest(namespace, testbed, "refused", groupId=group, template=invalid_pod)
    )

    refused = _settled(kafkaconnects, namespace, "refused", "the reconcile refused")
    ready = condition(refused, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "WorkerObjectsRefused")
    assert "Deployment refused-connect" in ready["message"] and "runAsUser" in ready["message"], ready["message"]
    assert condition(refused, "Stalled")["status"] == "True"
    assert _children_of(api, namespace, "refused") == [], "nothing half-applied"
    topics = AdminClient({"bootstrap.servers": testbed.bootstrap_servers}).list_topics(timeout=10).topics
    assert f"{group}-configs" not in topics, "nothing created in Kafka either"
    assert [r for r, _ in warnings(api, namespace, "refused")] == ["WorkerObjectsRefused"]

    kafkaconnects.patch(
        namespace=namespace,
        name="refused",
        content_type=MERGE,
        body={"spec": {"template": {"pod": {"securityContext": {"runAsUser": 1000}}}}},
    )
    poll_until(
        lambda: (
            sorted(_children_of(api, namespace, "refused"))
            == ["ConfigMap", "Deployment", "NetworkPolicy", "Service", "ServiceAccount"]
        ),
        60,
        "everything applied once the spec is fixed",
    )
