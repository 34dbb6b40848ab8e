"""Connectors applied through the Kubernetes API run in the Pods' workers, with a status that tells the truth."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support.connect_http import call
from tests.support.polling import poll_until

# Real workers in Pods share 2 cores and one broker with the rest of the suite; run them on their own.
pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def _connector(name: str, class_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {"cluster": LOCAL_CLUSTER, "class": class_name, **spec},
    }


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), None)


def test_connectors_run_report_pause_restart_and_delete_through_the_api(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    kafkaconnects.create(namespace=namespace, body=kafkaconnect_manifest(namespace, testbed))
    source_file, sink_file, topic = tmp_path / "in.txt", tmp_path / "out.txt", f"{namespace}-events"
    source_file.write_text("".join(f"event {i}\n" for i in range(100)))
    connectors.create(
        namespace=namespace, body=_connector("source", SOURCE, config={"file": str(source_file), "topic": topic})
    )
    connectors.create(
        namespace=namespace, body=_connector("sink", SINK, config={"file": str(sink_file), "topics": topic})
    )
    connectors.create(
        namespace=namespace,
        body=_connector(
            "secretive",
            SINK,
            config={
                "file": str(tmp_path / "x"),
                "topics": topic,
                "token": {"valueFrom": {"secretKeyRef": {"name": "not-exposed", "key": "token"}}},
            },
        ),
    )

    def status_of(name: str) -> dict[str, Any]:
        return dict(connectors.get(namespace=namespace, name=name).status or {})

    last: dict[str, dict[str, Any]] = {}

    def ready(name: str) -> dict[str, Any] | None:
        status = last[name] = status_of(name)
        condition = _condition(status, "Ready")
        return status if condition and condition["status"] == "True" else None

    for name in ("source", "sink"):
        try:
            status = poll_until(functools.partial(ready, name), 150, f"Connector {name} Ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; last statuses: {last}") from None
        assert status["state"] == "RUNNING" and status["tasksReady"] == "1/1"
        assert status["workerId"].split(":")[0].startswith("127.0.0.")
    arrived = poll_until(
        lambda: sink_file.is_file() and len(sink_file.read_text().splitlines()) >= 100 and 1,
        60,
        "the 100 events in the sink's file",
    )
    assert arrived and sorted(sink_file.read_text().splitlines()) == sorted(f"event {i}" for i in range(100))

    secretive = poll_until(lambda: _condition(status_of("secretive"), "Ready"), 30, "a condition on secretive")
    assert secretive["reason"] == "SecretNotExposed" and "not-exposed" in secretive["message"]

    connectors.patch(
        namespace=namespace,
        name="sink",
        content_type="application/merge-patch+json",
        body={"spec": {"state": "paused", "restart": {"id": "r1", "includeTasks": True}}},
    )
    paused = poll_until(lambda: (s := status_of("sink")).get("state") == "PAUSED" and s, 60, "the sink PAUSED")
    assert paused["observedGeneration"] == 2
    poll_until(lambda: (status_of("sink").get("handled") or {}).get("restart") == "r1", 30, "restart r1 handled")

    pod = client.CoreV1Api(api).list_namespaced_pod(namespace).items[0]
    assert pod.status is not None
    pod_ip = pod.status.pod_ip
    connectors.delete(namespace=namespace, name="source")
    poll_until(
        lambda: all(c.metadata.name != "source" for c in connectors.get(namespace=namespace).items),
        60,
        "the source Connector released by its finalizer",
    )
    poll_until(
        lambda: call("GET", f"http://{pod_ip}:8083/connectors/source/status").status == 404,
        30,
        "the source connector gone from Connect",
    )
