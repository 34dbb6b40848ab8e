"""A sink's dead letter queue as a field: the operator creates the topic before the connector, records its
converter cannot read land there with Connect's error headers, the good ones in the sink.

Real workers in Pods (the pod runner), the real broker, a FileStreamSink behind a JsonConverter fed
JSON and non-JSON values (the "Unknown magic byte" class of failure: bytes the converter cannot read).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, events, ready_cluster
from tests.support.topics import read_all

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
GOOD = [b'{"n": 1}', b'{"n": 2}', b'{"n": 3}']
BAD = [b"not json", b"{broken"]


def test_records_a_sink_cannot_convert_land_in_the_dead_letter_queue_the_operator_created(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    data_dir: Path,
) -> None:
    source_topic, queue = f"{namespace}-in", f"{namespace}-dlq"
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    admin.create_topics([NewTopic(source_topic, 1, 1)])[source_topic].result(timeout=30)
    producer = Producer({"bootstrap.servers": testbed.bootstrap_servers})
    for value in [GOOD[0], BAD[0], GOOD[1], BAD[1], GOOD[2]]:
        producer.produce(source_topic, value=value)
    assert producer.flush(30) == 0
    ready_cluster(crds, namespace, testbed)

    output = data_dir / "sink.txt"
    connectors = crds.resources.get(api_version=API_VERSION, kind="Connector")
    connectors.create(
        namespace=namespace,
        body={
            "apiVersion": API_VERSION,
            "kind": "Connector",
            "metadata": {"name": "sink"},
            "spec": {
                "cluster": LOCAL_CLUSTER,
                "class": SINK,
                "config": {
                    "topics": source_topic,
                    "file": str(output),
                    "key.converter": "org.apache.kafka.connect.storage.StringConverter",
                    "value.converter": "org.apache.kafka.connect.json.JsonConverter",
                    "value.converter.schemas.enable": False,
                },
                "errorHandling": {
                    "tolerance": "all",
                    "deadLetterQueue": {"topic": queue, "replicationFactor": 1, "partitions": 2},
                },
            },
        },
    )
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="sink"), "Ready").get("status") == "True",
        120,
        "the sink Ready",
    )
    described = admin.list_topics(queue, timeout=10).topics[queue]
    assert len(described.partitions) == 2, "created by the operator with the partitions asked, not by Connect"
    assert connectors.get(namespace=namespace, name="sink").status["deadLetterQueue"] == queue
    created = [e for e in events(api, namespace, "sink", "Normal") if e.reason == "DeadLetterQueueCreated"]
    assert len(created) == 1 and queue in created[0].message

    poll_until(lambda: output.exists() and len(output.read_text().splitlines()) >= len(GOOD), 90, "the good records")
    assert Counter(output.read_text().splitlines()) == Counter(["{n=1}", "{n=2}", "{n=3}"])
    dead = read_all(testbed.bootstrap_servers, queue, want=len(BAD))
    assert Counter(m.value() for m in dead) == Counter(BAD)
    for message in dead:
        headers = dict(message.headers() or [])
        assert headers["__connect.errors.topic"] == source_topic.encode()
        assert headers["__connect.errors.exception.class.name"] == b"org.apache.kafka.connect.errors.DataException"
        assert b"Converting byte[] to Kafka Connect data failed" in headers["__connect.errors.exception.message"]
