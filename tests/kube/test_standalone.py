"""mode: standalone. One ConnectStandalone worker, its source offsets in a file on a PersistentVolumeClaim.

Real kube-apiserver and controller-manager, the operator, the pod runner (which keeps a claim's folder
across Pods, as a PersistentVolume outlives them) and real Connect 3.9. Connect forgets a standalone
worker's connectors when its process ends: after the Pod is replaced only the operator's level-based
sync creates the connector again, and only the offsets file keeps it from reading its file again.
"""

from __future__ import annotations

import collections
import json
import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner, claim_dir
from connect_operator.kube import client as kube
from connect_worker import properties
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, RunningOperator
from tests.support.connect_http import call
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, events, source_connector, warnings

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SELECTOR = f"kco.dev/cluster={LOCAL_CLUSTER}"
FIRST, LATER = 40, 25  # lines before the Pod is deleted, lines after


def standalone_manifest(testbed: Testbed, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "KafkaConnect",
        "metadata": {"name": LOCAL_CLUSTER},
        "spec": {"mode": "standalone", "replicas": 1, "bootstrapServers": testbed.bootstrap_servers, **spec},
    }


def records(bootstrap: str, topic: str) -> list[str]:
    """Every record's line, read from the start until the partition has been quiet for 3 polls."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"standalone-{secrets.token_hex(4)}"})
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        values: list[str] = []
        quiet = 0
        while quiet < 3:
            message = consumer.poll(1)
            if message is None:
                quiet += 1
            elif not message.error():
                quiet = 0
                value = json.loads(message.value() or b"null")
                values.append(str(value["payload"] if isinstance(value, dict) else value))
        return values
    finally:
        consumer.close()


def _pods(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    """The worker Pods not being deleted, as the API serves them."""
    listed = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=SELECTOR)
    pods: list[dict[str, Any]] = api.sanitize_for_serialization(listed)["items"]
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def _ready_pod(api: client.ApiClient, namespace: str, not_named: str = "") -> str | None:
    for pod in _pods(api, namespace):
        conditions = pod.get("status", {}).get("conditions") or []
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        if ready and pod["metadata"]["name"] != not_named:
            return str(pod["metadata"]["name"])
    return None


def _read(api: client.ApiClient, read: Any, name: str, namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = api.sanitize_for_serialization(read(name, namespace))
    return found


def _connector_state(api: client.ApiClient, namespace: str, name: str) -> str | None:
    ips = kube.ready_pod_ips(api, namespace, SELECTOR)
    if not ips:
        return None
    answer = call("GET", f"http://{ips[0]}:8083/connectors/{name}/status", timeout=5, rebalance_deadline=0)
    return str(answer.body["connector"]["state"]) if answer.status == 200 else None


def test_a_standalone_sources_offsets_survive_a_pod_restart_and_each_line_arrives_once(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    data_dir: Path,
) -> None:
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    connectors = crds.resources.get(api_version=API_VERSION, kind="Connector")
    kafkaconnects.create(namespace=namespace, body=standalone_manifest(testbed, offsetStorage={"size": "64Mi"}))
    poll_until(
        lambda: condition(kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER), "Ready").get("status") == "True",
        240,
        "the standalone worker Ready",
    )

    # What the operator made of it: a claim, one Recreate-strategy worker, no group and no internal topics.
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    claim_name = f"{LOCAL_CLUSTER}-connect-offsets"
    claim = _read(api, core.read_namespaced_persistent_volume_claim, claim_name, namespace)
    assert claim["spec"]["resources"]["requests"]["storage"] == "64Mi"
    assert claim["metadata"]["ownerReferences"][0]["kind"] == "KafkaConnect"
    deployment = _read(api, apps.read_namespaced_deployment, f"{LOCAL_CLUSTER}-connect", namespace)
    assert deployment["spec"]["strategy"]["type"] == "Recreate"
    assert deployment["spec"]["template"]["spec"]["containers"][0]["command"][0].endswith("connect-standalone.sh")
    config_map = _read(api, core.read_namespaced_config_map, f"{LOCAL_CLUSTER}-connect-config", namespace)
    worker = properties.parse(config_map["data"]["worker.properties"])
    assert worker["offset.storage.file.filename"] == "/var/lib/kco/offsets/connect.offsets"
    assert not {"group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"} & set(worker)
    status = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status
    assert not status.get("groupId"), "a standalone cluster records no group"

    name = "lines"
    source = data_dir / f"{name}.txt"
    first = [f"before-{i}" for i in range(FIRST)]
    source.write_text("".join(f"{line}\n" for line in first))
    topic = source_connector(name, data_dir)["spec"]["config"]["topic"]
    # Created first: the local broker numbers a topic it auto-creates by batch, and a second producer's
    # batch (the new worker's) would land on offsets the first one already used.
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    connectors.create(namespace=namespace, body=source_connector(name, data_dir))
    poll_until(lambda: len(records(testbed.bootstrap_servers, topic)) >= FIRST, 120, f"{FIRST} records")

    old_pod = _ready_pod(api, namespace)
    assert old_pod is not None
    deleted_at = time.monotonic()
    core.delete_namespaced_pod(old_pod, namespace)
    new_pod = poll_until(lambda: _ready_pod(api, namespace, not_named=old_pod), 240, "a new worker Pod Ready")
    pod_ready = time.monotonic() - deleted_at
    # The new process started with no connectors (standalone keeps them in memory): the operator's sync
    # created it again; RUNNING on the new worker is that creation.
    poll_until(lambda: _connector_state(api, namespace, name) == "RUNNING", 120, "the connector created again")
    running_again = time.monotonic() - deleted_at

    later = [f"after-{i}" for i in range(LATER)]
    with source.open("a") as appended:
        appended.writelines(f"{line}\n" for line in later)
    poll_until(lambda: len(records(testbed.bootstrap_servers, topic)) >= FIRST + LATER, 120, f"{FIRST + LATER} records")
    got = records(testbed.bootstrap_servers, topic)
    duplicated = {line: n for line, n in collections.Counter(got).items() if n > 1}
    assert not duplicated, f"lines delivered more than once after the restart: {duplicated}"
    assert collections.Counter(got) == collections.Counter(first + later)
    print(
        f"\n{len(got)} records for {FIRST} + {LATER} lines, {len(set(got))} distinct; Pod {old_pod} replaced by "
        f"{new_pod}: Ready {pod_ready:.1f} s after the delete, the connector RUNNING again after {running_again:.1f} s"
    )

    # The offsets file is the claim's, not the Pod's: where the next Pod finds it.
    assert (claim_dir(pod_runner.work_dir, namespace, claim_name) / "connect.offsets").is_file()
    after = _read(api, core.read_namespaced_persistent_volume_claim, claim_name, namespace)
    assert after["metadata"]["uid"] == claim["metadata"]["uid"], "the claim is never replaced"
    assert not warnings(api, namespace, LOCAL_CLUSTER)


def test_a_standalone_cluster_of_two_workers_is_refused_with_a_condition_and_a_warning(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    kafkaconnects.create(namespace=namespace, body=standalone_manifest(testbed, replicas=2))

    def stalled() -> dict[str, Any] | None:
        found = condition(kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER), "Stalled")
        return found if found.get("status") == "True" else None

    refused = poll_until(stalled, 30, "Stalled")
    assert refused["reason"] == "InvalidSpec" and "replicas must be 0 or 1" in refused["message"], refused
    posted = warnings(api, namespace, LOCAL_CLUSTER)
    assert any(r == "InvalidSpec" and "replicas must be 0 or 1" in m for r, m in posted), posted
    assert not client.AppsV1Api(api).list_namespaced_deployment(namespace).items, "no workers for a refused spec"
    assert not client.CoreV1Api(api).list_namespaced_persistent_volume_claim(namespace).items


def test_the_offsets_claim_outlives_a_rolling_change_and_is_repaired_when_deleted(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    claims = crds.resources.get(api_version="v1", kind="PersistentVolumeClaim")
    # No worker: the claim's life does not depend on a Pod (one using it would hold its deletion back).
    kafkaconnects.create(namespace=namespace, body=standalone_manifest(testbed, replicas=0))
    claim_name = f"{LOCAL_CLUSTER}-connect-offsets"

    def applied(generation: int) -> bool:
        current = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER)
        return current.status.get("observedGeneration") == generation and (
            condition(current, "Stalled").get("status") == "False"
        )

    poll_until(lambda: applied(1), 60, "the standalone KafkaConnect applied")
    first = claims.get(namespace=namespace, name=claim_name)
    apps = client.AppsV1Api(api)
    hash_before = apps.read_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace).to_dict()["spec"]["template"]
    kafkaconnects.patch(
        namespace=namespace,
        name=LOCAL_CLUSTER,
        content_type="application/merge-patch+json",
        body={"spec": {"logging": {"rootLevel": "DEBUG"}}},
    )
    poll_until(lambda: applied(2), 60, "the changed spec applied")
    hash_after = apps.read_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace).to_dict()["spec"]["template"]
    assert hash_after["metadata"]["annotations"] != hash_before["metadata"]["annotations"], "a rolling change"
    assert claims.get(namespace=namespace, name=claim_name).metadata.uid == first.metadata.uid, "the same claim"

    claims.delete(namespace=namespace, name=claim_name)

    def recreated() -> str:
        """ "recreated" once repaired; else where it stands, for the failure to say."""
        try:
            claim = claims.get(namespace=namespace, name=claim_name)
        except dynamic.exceptions.NotFoundError:
            return "gone, not applied again yet"
        if claim.metadata.uid == first.metadata.uid:
            return "the old claim, still being deleted (pvc-protection)"
        return "recreated"

    try:
        poll_until(lambda: recreated() == "recreated", 120, "the deleted claim applied again")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {recreated()}") from None

    def told() -> list[str]:
        repaired = [e.message for e in events(api, namespace, LOCAL_CLUSTER, "Normal") if e.reason == "Repaired"]
        return [m for m in repaired if f"PersistentVolumeClaim {claim_name} " in m and m.endswith("deleted")]

    assert poll_until(told, 30, "a Repaired Event for the claim")
