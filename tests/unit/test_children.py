"""When an owned object must be applied again (policy.children), on objects as the API server returns them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.policy import children
from connect_operator.render import cluster
from connect_operator.render.names import ClusterRef

REF = ClusterRef(name="orders", namespace="data", uid="uid-1")


def _rendered(**fields: Any) -> dict[str, dict[str, Any]]:
    spec = KafkaConnectSpec.model_validate(
        {"bootstrapServers": "k:9092", "resources": {"limits": {"memory": "1024Mi", "cpu": "0.5"}}, **fields}
    )
    return {o["kind"]: o for o in cluster.render(REF, spec, "img", group_id="data.orders").objects}


def _as_stored(obj: dict[str, Any]) -> dict[str, Any]:
    """What the API server hands back: defaults added, quantities canonical, empty lists dropped."""
    stored = copy.deepcopy(obj)
    stored["metadata"]["uid"] = "child-uid"
    stored["metadata"]["resourceVersion"] = "7"
    if obj["kind"] == "Service":
        stored["spec"]["clusterIP"] = "10.0.0.9"
        stored["spec"]["sessionAffinity"] = "None"
    if obj["kind"] == "Deployment":
        pod = stored["spec"]["template"]["spec"]
        connect = pod["containers"][0]
        connect["terminationMessagePath"] = "/dev/termination-log"
        connect["resources"]["limits"] = {"memory": "1Gi", "cpu": "500m"}
        stored["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] = "now"
        stored["status"] = {"replicas": 1}
        for key in [k for k, v in pod.items() if v == []]:
            del pod[key]
    return stored


@pytest.mark.parametrize("kind", ["Deployment", "ConfigMap", "Service", "ServiceAccount", "PodDisruptionBudget"])
def test_an_object_as_rendered_with_the_servers_defaults_needs_no_repair(kind: str) -> None:
    desired = _rendered()[kind]
    assert children.why_repair(desired, _as_stored(desired)) is None


def test_a_deleted_object_is_repaired() -> None:
    assert children.why_repair(_rendered()["Service"], None) == "deleted"


def test_a_field_changed_by_hand_is_named() -> None:
    desired = _rendered()["Service"]
    edited = _as_stored(desired)
    edited["spec"]["ports"][0]["port"] = 9999
    assert children.why_repair(desired, edited) == "spec.ports[rest].port changed"


def test_an_owned_field_removed_by_hand_is_named() -> None:
    desired = _rendered()["ConfigMap"]
    edited = _as_stored(desired)
    edited["data"].pop("worker.properties")
    assert children.why_repair(desired, edited) == "data.worker.properties changed"


def test_replicas_scaled_by_hand_are_named() -> None:
    desired = _rendered(replicas=3)["Deployment"]
    edited = _as_stored(desired)
    edited["spec"]["replicas"] = 1
    assert children.why_repair(desired, edited) == "spec.replicas changed"


def test_a_container_added_by_someone_else_is_left_alone_but_an_env_var_removed_is_not() -> None:
    desired = _rendered()["Deployment"]
    stored = _as_stored(desired)
    stored["spec"]["template"]["spec"]["containers"].append({"name": "sidecar", "image": "x"})
    assert children.why_repair(desired, stored) is None
    connect = stored["spec"]["template"]["spec"]["containers"][0]
    removed = connect["env"].pop(0)["name"]
    assert children.why_repair(desired, stored) == f"spec.template.spec.containers[connect].env[{removed}] changed"


def test_a_quantity_with_another_value_is_a_change() -> None:
    desired = _rendered()["Deployment"]
    stored = _as_stored(desired)
    stored["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "2Gi"
    assert (
        children.why_repair(desired, stored) == "spec.template.spec.containers[connect].resources.limits.memory changed"
    )


def _owner(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "orders", "namespace": "data", "uid": "uid-1", "generation": 2},
        "status": {"observedGeneration": 2, "groupId": "data.orders", **status},
    }


def test_only_an_owner_whose_last_reconcile_applied_is_repaired() -> None:
    assert children.owner_settled(_owner())
    assert not children.owner_settled(_owner(observedGeneration=1))  # a reconcile is pending
    assert not children.owner_settled({**_owner(), "status": {"observedGeneration": 2}})  # before group ids
    refused = {"type": "Ready", "status": "False", "reason": "InvalidSpec", "message": "m"}
    assert not children.owner_settled(_owner(conditions=[refused]))
    deleting = _owner()
    deleting["metadata"]["deletionTimestamp"] = "2026-12-02T00:00:00Z"
    assert not children.owner_settled(deleting)


def test_a_child_of_an_earlier_owner_of_that_name_is_a_leftover() -> None:
    child = _rendered()["Service"]
    assert not children.is_leftover(child, "uid-1")
    assert children.is_leftover(child, "uid-of-a-new-cluster")
    assert not children.is_leftover({"metadata": {}}, "uid-1")
