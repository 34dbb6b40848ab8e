"""The KafkaConnect handlers, run by kopf against the real control plane and the real broker."""

from __future__ import annotations

from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]
from kubernetes import client, dynamic

from connect_operator.render import names
from connect_worker.testbed import Testbed
from tests.kube.conftest import RunningOperator
from tests.support.polling import poll_until

pytestmark = pytest.mark.kube


def _kafkaconnect(name: str, bootstrap: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "KafkaConnect",
        "metadata": {"name": name},
        "spec": {
            "replicas": 2,
            "bootstrapServers": bootstrap,
            "internalTopics": {
                "config": {"replicationFactor": 1},
                "offset": {"replicationFactor": 1},
                "status": {"replicationFactor": 1},
            },
            **spec,
        },
    }


def _condition(obj: Any, type_: str) -> Any:
    for condition in (obj.status or {}).get("conditions") or []:
        if condition["type"] == type_:
            return condition
    return None


def _config_hash(deployment: Any) -> str:
    return str(deployment.spec.template.metadata.annotations[names.CONFIG_HASH_ANNOTATION])


def _events(api: client.ApiClient, namespace: str, name: str) -> list[tuple[str | None, str | None, str | None]]:
    listed = client.CoreV1Api(api).list_namespaced_event(namespace).items
    return [(e.type, e.reason, e.message) for e in listed if e.involved_object.name == name]


def test_kafkaconnect_becomes_every_object_and_rolls_on_config_change(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    kafkaconnects.create(
        namespace=namespace, body=_kafkaconnect("demo", testbed.bootstrap_servers, groupId=f"{namespace}-g")
    )
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    deployment = poll_until(lambda: apps.list_namespaced_deployment(namespace).items, 60, "the Deployment")[0]
    uid = kafkaconnects.get(namespace=namespace, name="demo").metadata.uid
    owned = [
        deployment,
        core.read_namespaced_config_map("demo-connect-config", namespace),
        core.read_namespaced_service("demo-connect-api", namespace),
        core.read_namespaced_service_account("demo-connect", namespace),
        client.NetworkingV1Api(api).read_namespaced_network_policy("demo-connect", namespace),
        crds.resources.get(api_version="policy/v1beta1", kind="PodDisruptionBudget").get(
            namespace=namespace, name="demo-connect"
        ),
    ]
    for obj in owned:
        meta = obj.metadata
        references = getattr(meta, "owner_references", None) or meta.ownerReferences
        managers = getattr(meta, "managed_fields", None) or meta.managedFields
        assert [r.uid for r in references] == [uid], obj
        assert names.FIELD_MANAGER in {m.manager for m in managers}, obj

    def reported() -> Any:
        current = kafkaconnects.get(namespace=namespace, name="demo")
        ready = _condition(current, "Ready")
        return current if ready and current.status.get("observedGeneration") == 1 else None

    current = poll_until(reported, 30, "a status for generation 1")
    assert _condition(current, "Ready")["status"] == "False", "no kubelet runs the Pods here"
    assert _condition(current, "Progressing")["status"] == "True"
    assert _condition(current, "Degraded")["reason"] == "PodDisruptionBudgetV1beta1"
    assert (
        current.status["labelSelector"]
        == "app.kubernetes.io/instance=demo,app.kubernetes.io/name=kafka-connect,kco.dev/cluster=demo"
    )
    assert current.status["url"] == f"http://demo-connect-api.{namespace}.svc:8083"
    assert ("Normal", "TopicsCreated") in {(t, r) for t, r, _ in _events(api, namespace, "demo")}

    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    topic = f"{namespace}-g-configs"
    assert topic in admin.list_topics(timeout=10).topics
    described = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    configs = next(iter(described.values())).result(timeout=10)
    assert configs["cleanup.policy"].value == "compact"

    hash_before = _config_hash(deployment)
    kafkaconnects.patch(
        namespace=namespace,
        name="demo",
        content_type="application/merge-patch+json",
        body={"spec": {"config": {"offset.flush.interval.ms": 5000}}},
    )

    def rolled() -> bool:
        return _config_hash(apps.read_namespaced_deployment("demo-connect", namespace)) != hash_before

    poll_until(rolled, 30, "a new config hash on the Pod template")

    kafkaconnects.delete(namespace=namespace, name="demo")
    poll_until(
        lambda: (
            not apps.list_namespaced_deployment(namespace).items and not core.list_namespaced_service(namespace).items
        ),
        60,
        "garbage collection of the children",
    )


def test_bad_spec_and_bad_topic_give_clear_conditions_and_events(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    kafkaconnects.create(
        namespace=namespace, body=_kafkaconnect("owned", testbed.bootstrap_servers, config={"group.id": "mine"})
    )
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    group = f"{namespace}-bad"
    admin.create_topics([NewTopic(f"{group}-configs", 1, 1, config={"cleanup.policy": "delete"})])[
        f"{group}-configs"
    ].result(timeout=10)
    kafkaconnects.create(namespace=namespace, body=_kafkaconnect("topics", testbed.bootstrap_servers, groupId=group))

    def condition_of(name: str) -> Any:
        ready = _condition(kafkaconnects.get(namespace=namespace, name=name), "Ready")
        return ready if ready and ready["reason"] not in ("WorkersNotReady", "") else None

    invalid = poll_until(lambda: condition_of("owned"), 30, "InvalidSpec")
    assert invalid["status"] == "False" and invalid["reason"] == "InvalidSpec"
    assert "group.id" in invalid["message"] and "groupId" in invalid["message"]
    assert any(t == "Warning" and r == "InvalidSpec" for t, r, _ in _events(api, namespace, "owned"))

    bad_topic = poll_until(lambda: condition_of("topics"), 30, "InternalTopicsInvalid")
    assert bad_topic["reason"] == "InternalTopicsInvalid" and "cleanup.policy=delete" in bad_topic["message"]
    assert not client.AppsV1Api(api).list_namespaced_deployment(namespace).items, "no workers on a bad config topic"
