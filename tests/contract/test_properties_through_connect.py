"""The one .properties writer, read back by real Connect: every value arrives exactly as written.

The operator's ConfigMap (and the init step's final file) come from `connect_worker.properties.render`.
Here its text is read by Java itself: a worker started from a file this writer wrote resolves
`${file:...}` placeholders from another file this writer wrote (Kafka's FileConfigProvider, the same
`java.util.Properties` grammar the worker reads its own file with), and an InsertHeader transform puts
each resolved value on a record, where the test reads it byte for byte.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connect_operator.render import configmap, names
from connect_worker import properties
from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.connect_http import call
from tests.support.polling import poll_until

pytestmark = pytest.mark.contract

FILE_PROVIDER = {
    "config.providers": "file",
    "config.providers.file.class": "org.apache.kafka.common.config.provider.FileConfigProvider",
}
VALUES = {
    "equals": "a=b==c",
    "colon": "host:9092:x",
    "hash": "#not a comment",
    "bang": "!not a comment either",
    "leading": "   three leading spaces",
    "trailing": "two trailing  ",
    "backslash": "C:\\path\\to\\file\\",
    "unicode": "zürich · 東京 🎉",
    "mixed": " =:#! \\ ü ",
}


@pytest.fixture
def file_provider_cluster(testbed: Testbed, unique: Callable[[str], str]) -> Iterator[ConnectCluster]:
    cluster = testbed.new_cluster(unique("props"), FILE_PROVIDER)
    try:
        cluster.start(1)
        yield cluster
    finally:
        cluster.stop()


def _headers(bootstrap: str, topic: str) -> dict[str, bytes]:
    # Metadata refreshed each second: the source task may create the topic after the assignment.
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"props-{secrets.token_hex(4)}",
            "topic.metadata.refresh.interval.ms": 1000,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])

        def first() -> dict[str, bytes] | None:
            message = consumer.poll(1)
            if message is None or message.error():
                return None
            pairs = [(str(h[0]), h[1]) for h in message.headers() or []]
            return {key: value for key, value in pairs if isinstance(value, bytes)}

        return poll_until(first, 60, f"a record on {topic}")
    finally:
        consumer.close()


def test_values_written_by_the_one_properties_writer_reach_connect_unchanged(
    file_provider_cluster: ConnectCluster, testbed: Testbed, unique: Callable[[str], str], tmp_path: Path
) -> None:
    # The very text of the operator's ConfigMap, and the final file the init step writes from it.
    text = configmap.data(VALUES, "")[names.WORKER_PROPERTIES]
    files = {"configmap": tmp_path / "configmap.properties", "init": tmp_path / "init.properties"}
    files["configmap"].write_text(text)
    files["init"].write_text(properties.render(properties.parse(text)))
    (tmp_path / "in.txt").write_text("one line\n")
    name, topic = unique("props"), unique("t")
    # The topic exists before the source writes to it or the test reads it: nothing waits on auto-creation.
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    headers = {f"{origin}.{key}": (path, key) for origin, path in files.items() for key in VALUES}
    transforms = {f"h{i}": header for i, header in enumerate(headers)}
    config = {
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": str(tmp_path / "in.txt"),
        "topic": topic,
        "transforms": ",".join(transforms),
        **{f"transforms.{t}.type": "org.apache.kafka.connect.transforms.InsertHeader" for t in transforms},
        **{f"transforms.{t}.header": header for t, header in transforms.items()},
        # Angle brackets around the placeholder: Connect trims string configs, not what lies inside them
        # (and InsertHeader would read [..] or {..} as a list or a map).
        **{
            f"transforms.{t}.value.literal": f"<${{file:{headers[h][0]}:{headers[h][1]}}}>"
            for t, h in transforms.items()
        },
    }
    url = file_provider_cluster.rest_urls[0]
    answer = call("PUT", f"{url}/connectors/{name}/config", config)
    assert answer.status in (200, 201), answer.body
    running = poll_until(
        lambda: (
            (s := call("GET", f"{url}/connectors/{name}/status").body)
            and s.get("tasks")
            and s["tasks"][0]["state"] in ("RUNNING", "FAILED")
            and s
        ),
        60,
        "the task to start",
    )
    assert running["tasks"][0]["state"] == "RUNNING", running
    seen = _headers(testbed.bootstrap_servers, topic)
    assert {h: seen.get(h, b"").decode() for h in headers} == {h: f"<{VALUES[k]}>" for h, (_, k) in headers.items()}
    call("DELETE", f"{url}/connectors/{name}")
