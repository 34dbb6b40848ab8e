"""A move is a move: editing spec.cluster stops and deletes the connector in the old cluster before it
starts in the new one, and a source's offsets go with it (no line read twice, none lost).

Two KafkaConnects of real workers in Pods on one Kafka, the operator in a thread.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_worker.testbed import Testbed
from tests.support.connect_http import call
from tests.support.polling import poll_until
from tests.support.resources import ready_cluster

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
STRING_CONVERTER = "org.apache.kafka.connect.storage.StringConverter"


def _state_in(api: client.ApiClient, namespace: str, cluster: str, connector: str) -> str | None:
    """The connector's state in that cluster's Connect, None when it has no such connector."""
    ips = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={cluster}")
    answer = call("GET", f"http://{ips[0]}:8083/connectors/{connector}/status", timeout=5, rebalance_deadline=5)
    return str(answer.body["connector"]["state"]) if answer.status == 200 else None


def _lines(bootstrap: str, topic: str) -> list[str]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"move-{secrets.token_hex(4)}"})
    try:
        # Read to the end: until the partition has been quiet for 3 polls (the local broker's high
        # watermark counts record batches, not records, so it cannot say where the end is).
        consumer.assign([TopicPartition(topic, 0, 0)])
        values: list[str] = []
        quiet = 0
        while quiet < 3:
            message = consumer.poll(1)
            if message is None:
                quiet += 1
            elif not message.error():
                quiet = 0
                values.append((message.value() or b"").decode())
        return values
    finally:
        consumer.close()


def test_a_moved_source_stops_in_the_old_cluster_first_and_carries_its_offsets(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    for name in ("a", "b"):
        ready_cluster(crds, namespace, testbed, name=name, groupId=f"{namespace}-{name}")
    source, topic = tmp_path / "in.txt", f"{namespace}-moved"
    source.write_text("".join(f"before-{i}\n" for i in range(20)))
    # Created first: nothing waits on the broker creating it when the source first writes.
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(
        namespace=namespace,
        body={
            "apiVersion": "kco.dev/v1alpha1",
            "kind": "Connector",
            "metadata": {"name": "mover"},
            "spec": {
                "cluster": "a",
                "class": SOURCE,
                "config": {
                    "file": str(source),
                    "topic": topic,
                    "value.converter": "org.apache.kafka.connect.storage.StringConverter",
                },
            },
        },
    )
    poll_until(lambda: _state_in(api, namespace, "a", "mover") == "RUNNING", 120, "the source running in a")
    poll_until(lambda: len(_lines(testbed.bootstrap_servers, topic)) == 20, 60, "the first 20 lines in the topic")
    # Let the worker commit the source's position (offset.flush.interval.ms is 1 s in the test workers).
    ips = kube.ready_pod_ips(api, namespace, "kco.dev/cluster=a")
    poll_until(
        lambda: call("GET", f"http://{ips[0]}:8083/connectors/mover/offsets").body.get("offsets"),
        30,
        "the source's committed offsets",
    )

    both: list[tuple[str | None, str | None]] = []
    watching = threading.Event()

    def watch() -> None:
        # Never running in both: sampled all through the move.
        while not watching.is_set():
            with contextlib.suppress(Exception):  # a worker mid-rebalance: the next sample counts
                both.append((_state_in(api, namespace, "a", "mover"), _state_in(api, namespace, "b", "mover")))
            watching.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        connectors.patch(
            namespace=namespace,
            name="mover",
            body={"spec": {"cluster": "b"}},
            content_type="application/merge-patch+json",
        )
        poll_until(lambda: _state_in(api, namespace, "b", "mover") == "RUNNING", 180, "the source running in b")
    finally:
        watching.set()
        watcher.join(timeout=10)
    assert _state_in(api, namespace, "a", "mover") is None, "deleted in the old cluster"
    assert not [p for p in both if p[0] == "RUNNING" and p[1] is not None], "never in both clusters at once"

    with source.open("a") as appended:
        appended.write("".join(f"after-{i}\n" for i in range(5)))
    expected = [f"before-{i}" for i in range(20)] + [f"after-{i}" for i in range(5)]
    poll_until(lambda: len(_lines(testbed.bootstrap_servers, topic)) >= 25, 60, "the appended lines")
    # The offsets came along: b went on where a stopped, nothing read twice.
    assert sorted(_lines(testbed.bootstrap_servers, topic)) == sorted(expected)

    status: Any = connectors.get(namespace=namespace, name="mover").to_dict()["status"]
    assert status["cluster"] == "b" and not status.get("move")
    reasons = [
        e.reason
        for e in client.CoreV1Api(api)
        .list_namespaced_event(namespace, field_selector="involvedObject.name=mover")
        .items
    ]
    for step in ("MoveStopping", "MovedOut", "MovedIn"):
        assert step in reasons, reasons
