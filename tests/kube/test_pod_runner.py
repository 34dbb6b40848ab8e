"""The whole loop on one machine: KafkaConnect → Deployment → Pods → real Connect workers in one group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.connect.models import parse_version
from connect_operator.devkit.podrunner import NODE_ZONE, PodRunner
from connect_operator.kube import client as kube
from connect_operator.render import cluster, names
from connect_operator.render.names import ClusterRef
from connect_worker import ports, properties
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
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
                "jvmOptions": {"xmx": "448m"},
            },
        },
    )

    def ready_with_plugins() -> Any:
        current = kafkaconnects.get(namespace=namespace, name="local")
        status = current.status or {}
        ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready" and c["status"] == "True"]
        # Ready once one worker serves; both are asked for.
        return status if ready and status.get("connectorPlugins") and status.get("readyReplicas") == 2 else None

    status = poll_until(ready_with_plugins, 120, "the KafkaConnect Ready with both workers and its plugins listed")
    assert SOURCE in {p["class"] for p in status["connectorPlugins"]}
    # Read from a worker in a Pod (GET /): the runtime the pod runner runs is Connect 3.9.0.
    assert parse_version(status["connectVersion"]) == (3, 9, 0) and status["connectCommit"]

    # The KafkaConnect's heap reaches the workers' JVMs (KAFKA_HEAP_OPTS), not the test bed's default.
    workers = [running for running in pod_runner.pods.values() if running.namespace == namespace]
    assert len(workers) == 2
    for running in workers:
        assert running.worker is not None and running.worker.pid is not None
        argv = Path(f"/proc/{running.worker.pid}/cmdline").read_bytes().split(b"\0")
        assert b"-Xmx448m" in argv and b"-Xmx384m" not in argv, argv

    ips = sorted(p.status.pod_ip for p in _pods(api, namespace))
    assert len(ips) == 2 and all(ip.startswith("127.") and ip != "127.0.0.1" for ip in ips)
    # Rack awareness through the operator: Node label → Pod annotation → downward-API file → init step.
    for pod in _pods(api, namespace):
        assert pod.metadata.annotations[names.RACK_ANNOTATION] == NODE_ZONE
        written = pod_runner.work_dir / namespace / pod.metadata.name / "volumes" / "config" / "worker.properties"
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


def _bare_worker_pod(
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    probes: dict[str, dict[str, Any]],
    volumes: tuple[dict[str, Any], ...] = (),
) -> str:
    """A worker Pod rendered as the operator renders it, with these probes replaced and these volumes added,
    and no operator or Deployment around it: its ConfigMap and ServiceAccount applied without owner
    (nothing to collect them)."""
    spec = KafkaConnectSpec.model_validate(
        {
            "bootstrapServers": testbed.bootstrap_servers,
            "groupId": f"{namespace}-probed",
            "internalTopics": {k: {"replicationFactor": 1} for k in ("config", "offset", "status")},
        }
    )
    rendered = {o["kind"]: o for o in cluster.render(ClusterRef("probed", namespace, "none"), spec, "local").objects}
    for kind in ("ConfigMap", "ServiceAccount"):
        rendered[kind]["metadata"].pop("ownerReferences")
        kube.apply(api, rendered[kind])
    template = rendered["Deployment"]["spec"]["template"]
    connect = next(c for c in template["spec"]["containers"] if c["name"] == "connect")
    connect.update(probes)
    template["spec"]["volumes"] += list(volumes)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**template["metadata"], "name": "probed-0", "namespace": namespace},
        "spec": template["spec"],
    }
    kube.apply(api, pod)
    return "probed-0"


def test_ready_follows_the_pods_readiness_probe_and_a_failing_liveness_probe_restarts_the_worker(
    pod_runner: PodRunner, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    # /health passes once the worker has joined its group; /nope is a 404 from the same REST server.
    startup = {"httpGet": {"path": "/health", "port": "rest"}, "periodSeconds": 1, "failureThreshold": 120}
    readiness = {"httpGet": {"path": "/nope", "port": "rest"}, "periodSeconds": 1}
    liveness = {"httpGet": {"path": "/nope", "port": "rest"}, "periodSeconds": 3, "failureThreshold": 3}
    name = _bare_worker_pod(
        api, namespace, testbed, {"startupProbe": startup, "readinessProbe": readiness, "livenessProbe": liveness}
    )
    core = client.CoreV1Api(api)

    def read() -> Any:
        return core.read_namespaced_pod(name, namespace)

    def container() -> Any:
        statuses = read().status.container_statuses or []
        return statuses[0] if statuses else None

    # Started (the startup probe passed) yet not ready: the readiness probe of the spec decides, not /health.
    first = poll_until(lambda: (c := container()) and c.started and c, 120, "the worker started by its startup probe")
    assert first.ready is False and first.restart_count == 0
    assert {c.type: c.status for c in read().status.conditions}["Ready"] == "False"

    # Three liveness failures in a row: the worker is stopped, then started again after the backoff.
    killed = poll_until(
        lambda: (c := container()) and c.state.waiting and c.state.waiting.reason == "CrashLoopBackOff" and c,
        60,
        "the worker stopped by its liveness probe",
    )
    assert "liveness probe GET /nope failed 3 times: HTTP 404" in killed.state.waiting.message
    again = poll_until(
        lambda: (c := container()) and c.restart_count == 1 and c.state.running and c, 60, "the worker started again"
    )
    assert again.state.running.started_at != first.state.running.started_at


def test_a_missing_secret_keeps_a_pod_from_starting_unless_its_volume_is_optional(
    pod_runner: PodRunner, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    core = client.CoreV1Api(api)
    volumes = (
        {"name": "later", "secret": {"secretName": "later"}},
        {"name": "never", "secret": {"secretName": "never", "optional": True}},
    )
    name = _bare_worker_pod(api, namespace, testbed, {}, volumes)

    def read() -> Any:
        return core.read_namespaced_pod(name, namespace)

    def waiting() -> Any:
        statuses = read().status.container_statuses or []
        return statuses[0].state.waiting if statuses and statuses[0].state.waiting else None

    blocked = poll_until(lambda: (w := waiting()) and w.reason == "ContainerCreating" and w, 30, "the Pod blocked")
    assert blocked.message == 'MountVolume.SetUp failed for volume "later" : secret "later" not found'
    assert pod_runner.pods[f"{namespace}/{name}"].worker is None, "no container started"

    # Once the required Secret exists the Pod starts; the optional one never needs to.
    core.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name="later"), string_data={"k": "v"})
    )

    def running() -> Any:
        statuses = read().status.container_statuses or []
        return statuses and statuses[0].state.running

    poll_until(running, 60, "the worker started once its required Secret exists")
    assert read().status.phase == "Running"


def test_a_deleted_exposed_secret_is_a_warning_naming_it_and_new_worker_pods_still_start(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    core = client.CoreV1Api(api)
    db = client.V1Secret(metadata=client.V1ObjectMeta(name="db"), string_data={"password": "pw"})
    core.create_namespaced_secret(namespace, db)
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    manifest = kafkaconnect_manifest(namespace, testbed, replicas=1, exposedSecrets=["db"])
    kafkaconnects.create(namespace=namespace, body=manifest)

    def condition(type_: str) -> dict[str, Any]:
        status = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status or {}
        return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})

    def ready_pods() -> list[Any]:
        pods = _pods(api, namespace)
        return [p for p in pods if any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]

    poll_until(lambda: condition("Ready").get("status") == "True" and ready_pods(), 120, "the KafkaConnect Ready")
    first = _pods(api, namespace)[0]
    log = pod_runner.work_dir / namespace / first.metadata.name / "worker-8083.log"
    poll_until(lambda: settled_generation([log]) is not None, 90, "the worker settled in its group")

    core.delete_namespaced_secret("db", namespace)

    def degraded_naming_db() -> dict[str, Any] | None:
        degraded = condition("Degraded")
        shown = degraded.get("status") == "True" and "Secret db (spec.exposedSecrets) not found" in degraded["message"]
        return degraded if shown else None

    degraded = poll_until(degraded_naming_db, 30, "Degraded naming the deleted Secret")
    assert degraded["reason"] == "ExposedSecretMissing"
    assert condition("Ready")["status"] == "True", "the cluster still serves: only connectors using it fail"

    # A new worker Pod starts without the Secret: its volume is optional.
    core.delete_namespaced_pod(first.metadata.name, namespace)
    poll_until(
        lambda: [p for p in ready_pods() if p.metadata.name != first.metadata.name], 120, "a replacement Pod ready"
    )

    def warnings() -> list[str]:
        listed = core.list_namespaced_event(namespace).items
        return [
            e.message or ""
            for e in listed
            if e.involved_object.name == LOCAL_CLUSTER and e.type == "Warning" and e.reason == "ExposedSecretMissing"
        ]

    # One Warning Event, though every status refresh since (every 2 s) has seen the Secret missing.
    assert len(poll_until(warnings, 10, "a Warning Event")) == 1
    assert "Secret db" in warnings()[0]

    core.create_namespaced_secret(namespace, db)
    poll_until(lambda: "Secret db" not in condition("Degraded").get("message", ""), 30, "the warning cleared")
