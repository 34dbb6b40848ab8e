"""The whole loop on one machine: KafkaConnect → Deployment → Pods → real Connect workers in one group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import NODE_ZONE, PodRunner
from connect_operator.render import names
from connect_worker import ports, properties
from connect_worker.testbed import Testbed
from tests.support.connect_http import call
from tests.support.groups import settled_generation
from tests.support.polling import poll_until

# Real workers in Pods: part of `make test` (the kube tier's process) and of `make test-e2e`.
pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def _pods(api: client.ApiClient, namespace: str) -> list[Any]:
    return client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="kco.dev/cluster=local").items


def test_kafkaconnect_runs_real_workers_that_survive_a_pod_deletion_and_go_with_it(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    kafkaconnects.create(
        namespace=namespace,
        body={
            "apiVersion": "kco.dev/v1alpha1",
            "kind": "KafkaConnect",
            "metadata": {"name": "local"},
            "spec": {
                "replicas": 2,
                "bootstrapServers": testbed.bootstrap_servers,
                "groupId": f"{namespace}-workers",
                "internalTopics": {
                    "config": {"replicationFactor": 1},
                    "offset": {"replicationFactor": 1},
                    "status": {"replicationFactor": 1},
                },
                "rack": {},
            },
        },
    )

    def ready_with_plugins() -> Any:
        current = kafkaconnects.get(namespace=namespace, name="local")
        status = current.status or {}
        ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True"]
        return status if ready and status.get("connectorPlugins") else None

    status = poll_until(ready_with_plugins, 120, "the KafkaConnect Ready with its plugins listed")
    assert status["readyReplicas"] == 2
    assert SOURCE in {p["class"] for p in status["connectorPlugins"]}

    ips = sorted(p.status.pod_ip for p in _pods(api, namespace))
    assert len(ips) == 2 and all(ip.startswith("127.") and ip != "127.0.0.1" for ip in ips)
    # Rack awareness through the operator: Node label → Pod annotation → downward-API file → init step.
    for pod in _pods(api, namespace):
        assert pod.metadata.annotations[names.RACK_ANNOTATION] == NODE_ZONE
        written = pod_runner.work_dir / namespace / pod.metadata.name / "worker.properties"
        assert properties.parse(written.read_text())["consumer.client.rack"] == NODE_ZONE
    source = tmp_path / "in.txt"
    source.write_text("a\n")
    url = f"http://{ips[0]}:8083"
    created = call(
        "PUT",
        f"{url}/connectors/probe/config",
        {"connector.class": SOURCE, "file": str(source), "topic": f"{namespace}-probe"},
    )
    assert created.status == 201, created.body

    def placed_on_a_pod() -> str | None:
        answer = call("GET", f"{url}/connectors/probe/status")
        tasks = answer.body.get("tasks") or [] if answer.status == 200 else []
        if not tasks or tasks[0]["state"] != "RUNNING" or answer.body["connector"]["state"] != "RUNNING":
            return None
        return str(answer.body["connector"]["worker_id"])

    worker = poll_until(placed_on_a_pod, 60, "the connector and its task RUNNING in the Pods' group")
    assert worker.split(":")[0] in ips, "the group is made of the Pods' workers"
    worker_logs = [pod_runner.work_dir / namespace / p.metadata.name / "worker-8083.log" for p in _pods(api, namespace)]
    poll_until(lambda: settled_generation(worker_logs), 90, "both workers settled in one generation")

    victim = _pods(api, namespace)[0]
    client.CoreV1Api(api).delete_namespaced_pod(victim.metadata.name, namespace)

    def replaced() -> bool:
        pods = _pods(api, namespace)
        names = {p.metadata.name for p in pods}
        ready = [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        return victim.metadata.name not in names and len(ready) == 2

    poll_until(replaced, 120, "a replacement Pod running a ready worker")
    assert f"{namespace}/{victim.metadata.name}" not in pod_runner.pods

    kafkaconnects.delete(namespace=namespace, name="local")
    poll_until(
        lambda: not _pods(api, namespace) and not [k for k in pod_runner.pods if k.startswith(namespace)],
        90,
        "the Pods gone and their workers stopped",
    )
    assert all(not ports.accepts_connections(ip, 8083) for ip in ips)
