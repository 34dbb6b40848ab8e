"""The local control plane is a real Kubernetes: schema validation, server-side apply, watches, GC, controllers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.exceptions import ApiException

from connect_operator.devkit.controlplane import ControlPlane, server_version
from connect_operator.kube import client as kube
from tests.support.polling import poll_until

pytestmark = pytest.mark.kube

CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.test.kco.dev"},
    "spec": {
        "group": "test.kco.dev",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {"size": {"type": "integer", "minimum": 1}},
                            },
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
            }
        ],
    },
}


def test_it_reports_kubernetes_1_20(control_plane: ControlPlane) -> None:
    assert server_version(control_plane.endpoints)["gitVersion"] == "v1.20.2"


def test_crd_schema_is_enforced(api: client.ApiClient, namespace: str) -> None:
    dyn = dynamic.DynamicClient(api)
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    crds.server_side_apply(body=CRD, field_manager="kco-test")

    def established() -> bool:
        conditions = crds.get(name="widgets.test.kco.dev").status.conditions or []
        return any(c.type == "Established" and c.status == "True" for c in conditions)

    poll_until(established, 30, "the CRD to be established")
    dyn = dynamic.DynamicClient(api)  # rediscover the new resource
    widgets = dyn.resources.get(api_version="test.kco.dev/v1", kind="Widget")
    with pytest.raises(ApiException) as refused:
        widgets.create(
            namespace=namespace,
            body={"apiVersion": "test.kco.dev/v1", "kind": "Widget", "metadata": {"name": "tiny"}, "spec": {"size": 0}},
        )
    assert refused.value.status == 422 and "spec.size" in str(refused.value.body)
    created = widgets.create(
        namespace=namespace,
        body={"apiVersion": "test.kco.dev/v1", "kind": "Widget", "metadata": {"name": "fine"}, "spec": {"size": 2}},
    )
    assert created.spec.size == 2


def test_server_side_apply_tracks_one_field_manager_and_reports_conflicts(
    api: client.ApiClient, namespace: str
) -> None:
    configmaps = dynamic.DynamicClient(api).resources.get(api_version="v1", kind="ConfigMap")
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "owned", "namespace": namespace},
        "data": {"a": "1"},
    }
    applied = configmaps.server_side_apply(body=body, field_manager="kco-operator")
    assert [m.manager for m in applied.metadata.managedFields] == ["kco-operator"]
    with pytest.raises(ApiException) as conflict:
        configmaps.server_side_apply(body={**body, "data": {"a": "2"}}, field_manager="someone-else")
    assert conflict.value.status == 409


def test_owner_references_are_garbage_collected(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    owner = core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="owner")))
    assert owner.metadata is not None
    reference = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="child", owner_references=[reference]))
    )
    core.delete_namespaced_config_map("owner", namespace)

    def child_gone() -> bool:
        names = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items if c.metadata]
        return "child" not in names

    poll_until(child_gone, 60, "the garbage collector to delete the child")


def test_deployment_gets_pods_from_the_controller_manager(api: client.ApiClient, namespace: str) -> None:
    labels = {"app": "demo"}
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="demo"),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels=labels),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels=labels),
                spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="example")]),
            ),
        ),
    )
    client.AppsV1Api(api).create_namespaced_deployment(namespace, deployment)

    def two_pods() -> list[client.V1Pod] | None:
        items = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="app=demo").items
        return items if len(items) == 2 else None

    pods = poll_until(two_pods, 60, "two Pods made by the Deployment's ReplicaSet")
    assert all(p.status and p.status.phase == "Pending" for p in pods)
    assert all(p.spec and not p.spec.node_name for p in pods), "no scheduler, no kubelet: nothing binds them"


def test_watch_sees_a_new_object(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    seen: list[str] = []

    def watch_configmaps() -> None:
        stream = watch.Watch()
        for event in stream.stream(core.list_namespaced_config_map, namespace, timeout_seconds=20):
            seen.append(f"{event['type']} {event['object'].metadata.name}")
            if "ADDED watched" in seen:
                stream.stop()

    watcher = threading.Thread(target=watch_configmaps)
    watcher.start()
    # A watch opened after the create still starts with an ADDED event for it, so no ordering is needed.
    core.create_namespaced_config_map(namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="watched")))
    watcher.join(25)
    assert "ADDED watched" in seen


def test_ready_pod_ips_leave_out_a_terminating_pod(api: client.ApiClient, namespace: str) -> None:
    core = client.CoreV1Api(api)
    labels = {"app": "ips"}
    # The ServiceAccount admission refuses Pods until the controller-manager made the namespace's default
    # ServiceAccount and its token.
    poll_until(
        lambda: core.read_namespaced_service_account("default", namespace).secrets,
        30,
        "the default ServiceAccount and its token",
    )
    for name in ("a", "b"):
        # A finalizer keeps the deleted Pod terminating, as a kubelet does while the container stops.
        meta = client.V1ObjectMeta(name=name, labels=labels, finalizers=["kco.dev/test"])
        core.create_namespaced_pod(
            namespace,
            client.V1Pod(
                metadata=meta, spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="example")])
            ),
        )
        ip = "10.0.0.1" if name == "a" else "10.0.0.2"
        ready = {"phase": "Running", "podIP": ip, "conditions": [{"type": "Ready", "status": "True"}]}
        core.patch_namespaced_pod_status(name, namespace, {"status": ready})
    assert kube.ready_pod_ips(api, namespace, "app=ips") == ["10.0.0.1", "10.0.0.2"]
    core.delete_namespaced_pod("a", namespace)
    try:
        terminating = core.read_namespaced_pod("a", namespace).metadata
        assert terminating is not None and terminating.deletion_timestamp is not None
        assert kube.ready_pod_ips(api, namespace, "app=ips") == ["10.0.0.2"]
    finally:
        for name in ("a", "b"):
            core.patch_namespaced_pod(name, namespace, {"metadata": {"finalizers": None}})
