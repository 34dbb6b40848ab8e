"""The operator process, as its image runs it, driving 20 Connectors in real worker Pods: killed mid-apply
and restarted, edited, failing, invalid, and holding a Secret it must never show."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, TopicPartition
from kubernetes import client, dynamic

from connect_operator.api.v1alpha1.connector import ConnectorStatus
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support.connect_http import call
from tests.support.operator_process import OperatorProcess
from tests.support.polling import poll_until

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
COUNT = 20
WRITES = ("POST /connectors (create)", "PUT /connectors/{name}/config (put)", "DELETE /connectors/{name} (delete)")


def _connector(name: str, class_name: str, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {"cluster": LOCAL_CLUSTER, "class": class_name, **spec},
    }


def _condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


@pytest.fixture
def operator_logs(tmp_path: Path) -> Path:
    return tmp_path / "operator.log"


@pytest.fixture
def processes() -> Iterator[list[OperatorProcess]]:
    started: list[OperatorProcess] = []
    yield started
    for process in started:
        process.stop()


def test_twenty_connectors_survive_an_operator_kill_and_tell_the_truth(  # noqa: PLR0915 - one long story
    control_plane: ControlPlane,
    crds: dynamic.DynamicClient,
    pod_runner: PodRunner,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
    operator_logs: Path,
    processes: list[OperatorProcess],
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    core = client.CoreV1Api(api)
    password = f"pw-{secrets.token_hex(8)}"
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="db"), data={"password": base64.b64encode(password.encode()).decode()}
        ),
    )
    kafkaconnects.create(
        namespace=namespace, body=kafkaconnect_manifest(namespace, testbed, exposedSecrets=["db"], replicas=1)
    )
    names = [f"c{i:02d}" for i in range(COUNT - 1)]
    events = [f"event {i}" for i in range(100)]
    (tmp_path / "c01.txt").write_text("".join(f"{line}\n" for line in events))
    for name in names:
        config: dict[str, Any] = {"file": str(tmp_path / f"{name}.txt"), "topic": f"{namespace}-{name}"}
        if name == "c00":
            config["password"] = {"valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
        connectors.create(namespace=namespace, body=_connector(name, SOURCE, config=config))
    # A sink whose file cannot be opened: its task fails until the folder exists.
    missing_dir = tmp_path / "not-yet"
    connectors.create(
        namespace=namespace,
        body=_connector(
            "failing",
            SINK,
            config={"file": str(missing_dir / "out.txt"), "topics": f"{namespace}-c01"},
            autoRestart={"backoffSeconds": 2, "maxBackoffSeconds": 4},
        ),
    )
    connectors.create(namespace=namespace, body=_connector("invalid", SINK, config={"file": str(tmp_path / "x")}))
    hidden = {"valueFrom": {"secretKeyRef": {"name": "not-exposed", "key": "token"}}}
    connectors.create(
        namespace=namespace,
        body=_connector("secretive", SINK, config={"file": str(tmp_path / "y"), "topics": "t", "token": hidden}),
    )

    first = OperatorProcess(control_plane.endpoints.kubeconfig, namespace, operator_logs)
    processes.append(first.start())
    url = poll_until(lambda: _rest_url(api, namespace), 150, "a ready worker Pod")

    def in_connect() -> list[str]:
        answer = call("GET", f"{url}/connectors")
        return list(answer.body) if answer.status == 200 else []

    at_kill = poll_until(lambda: in_connect() or None, 150, "the first connectors in Connect", interval=0.05)
    first.kill()
    assert len(at_kill) < COUNT, f"the operator was killed mid-apply ({len(at_kill)} of {COUNT} in Connect)"

    second = OperatorProcess(
        control_plane.endpoints.kubeconfig, namespace, operator_logs, KCO_SECRET_PROPAGATION_SECONDS="1"
    )
    processes.append(second.start())

    def status_of(name: str) -> dict[str, Any]:
        return dict(connectors.get(namespace=namespace, name=name).to_dict().get("status") or {})

    def all_ready() -> bool:
        return all(_condition(status_of(n), "Ready").get("status") == "True" for n in names)

    poll_until(all_ready, 240, f"{COUNT - 1} Connectors Ready")
    listed = sorted(in_connect())
    assert listed == sorted([*names, "failing"]), "nothing lost, nothing extra, nothing invalid or hidden sent"
    for name in [*names, "failing", "invalid", "secretive"]:
        # What the operator writes is what the types (and so the CRD) describe: nothing pruned unseen.
        ConnectorStatus.model_validate(status_of(name))
    for name in names:
        status = status_of(name)
        assert status["state"] == "RUNNING" and status["tasksReady"] == "1/1"
        assert call("GET", f"{url}/connectors/{name}/config").body["file"] == str(tmp_path / f"{name}.txt")

    invalid = _condition(status_of("invalid"), "ConfigValid")
    assert invalid["status"] == "False" and "topics" in invalid["message"], invalid

    failing = poll_until(
        lambda: (s := status_of("failing")) and _condition(s, "Ready").get("reason") == "Failed" and s,
        60,
        "the failing sink Ready False with its trace",
    )
    assert "not-yet" in (failing["tasks"][0]["trace"] or ""), failing["tasks"]
    missing_dir.mkdir()
    healed = poll_until(
        lambda: (s := status_of("failing")) and _condition(s, "Ready").get("status") == "True" and s,
        90,
        "the failing sink auto-restarted into RUNNING",
    )
    assert healed["autoRestart"]["count"] >= 1
    # Data flows: c01's lines through its topic into the healed sink's file.
    out = missing_dir / "out.txt"
    poll_until(lambda: out.is_file() and len(out.read_text().splitlines()) >= len(events), 60, "the events in the sink")
    assert sorted(out.read_text().splitlines()) == sorted(events)

    secretive = _condition(status_of("secretive"), "Ready")
    assert secretive["reason"] == "SecretNotExposed" and "not-exposed" in secretive["message"], secretive

    # Edit one connector: exactly one config write, to that one.
    settle = poll_until(lambda: _quiet(second), 60, "a sync with no writes")
    writes_before = _writes(second)
    connectors.patch(
        namespace=namespace,
        name="c05",
        content_type="application/merge-patch+json",
        body={"spec": {"config": {"topic": f"{namespace}-edited"}}},
    )
    poll_until(
        lambda: call("GET", f"{url}/connectors/c05/config").body.get("topic") == f"{namespace}-edited",
        60,
        "the edit in Connect",
    )
    poll_until(lambda: _quiet(second), 60, "a sync with no writes after the edit")
    assert _writes(second) - writes_before == 1, "one PUT for one edited Connector"
    assert settle

    # A restart request is honoured once, even when the same manifest is applied again (GitOps).
    restart = {"spec": {"restart": {"id": "r1", "includeTasks": True}}}
    connectors.patch(namespace=namespace, name="c02", content_type="application/merge-patch+json", body=restart)
    poll_until(lambda: (status_of("c02").get("handled") or {}).get("restart") == "r1", 60, "restart r1 handled")
    requested = {"namespace": namespace, "cluster": LOCAL_CLUSTER, "connector": "c02", "kind": "requested"}
    assert second.metric("kco_connector_restarts_total", **requested) == 1
    manifest = connectors.get(namespace=namespace, name="c02").to_dict()
    again = {
        "apiVersion": manifest["apiVersion"],
        "kind": "Connector",
        "metadata": {"name": "c02"},
        "spec": manifest["spec"],
    }
    connectors.server_side_apply(body=again, namespace=namespace, field_manager="gitops", force_conflicts=True)
    poll_until(lambda: _quiet(second), 60, "a sync with no writes after the re-apply")
    assert second.metric("kco_connector_restarts_total", **requested) == 1, "r1 is not repeated"

    # Pause, stop and resume one through its spec.
    for state, shown in (("paused", "PAUSED"), ("stopped", "STOPPED"), ("running", "RUNNING")):
        connectors.patch(
            namespace=namespace,
            name="c03",
            content_type="application/merge-patch+json",
            body={"spec": {"state": state}},
        )
        poll_until(lambda: status_of("c03").get("state") == shown, 60, f"c03 {shown}")  # noqa: B023

    # The Secret's value is nowhere: not in Connect's config, its config topic, status, Events or logs.
    assert "${dir:" in call("GET", f"{url}/connectors/c00/config").body["password"]
    assert password not in json.dumps([status_of(n) for n in [*names, "failing", "invalid", "secretive"]])
    assert password not in json.dumps([e.to_dict() for e in core.list_namespaced_event(namespace).items], default=str)
    assert password not in operator_logs.read_text(errors="replace")
    assert password.encode() not in b"".join(_config_topic(testbed, f"{namespace}-workers-configs"))

    # A changed Secret restarts just the connector that uses it.
    core.patch_namespaced_secret("db", namespace, {"data": {"password": base64.b64encode(b"rotated").decode()}})
    poll_until(
        lambda: (
            second.metric(
                "kco_connector_restarts_total",
                namespace=namespace,
                cluster=LOCAL_CLUSTER,
                connector="c00",
                kind="secret",
            )
            == 1
        ),
        60,
        "c00 restarted for its changed Secret",
    )
    restarted = [
        line
        for line in second.metrics().splitlines()
        if line.startswith("kco_connector_restarts_total") and 'kind="secret"' in line
    ]
    assert len(restarted) == 1, restarted

    # Deleting a Connector removes it from Connect before its finalizer lets go.
    connectors.delete(namespace=namespace, name="c04")
    poll_until(
        lambda: all(c.metadata.name != "c04" for c in connectors.get(namespace=namespace).items),
        60,
        "the c04 Connector released by its finalizer",
    )
    assert "c04" not in in_connect()


def _rest_url(api: client.ApiClient, namespace: str) -> str | None:
    ips = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")
    return f"http://{ips[0]}:8083" if ips else None


def _writes(operator: OperatorProcess) -> float:
    return sum(operator.metric("kco_connect_rest_requests_total", route=r, outcome="ok") for r in WRITES)


def _quiet(operator: OperatorProcess) -> bool:
    """True when a whole sync passed without a REST write."""
    before = operator.metric("kco_sync_duration_seconds_count", namespace=operator.namespace, cluster=LOCAL_CLUSTER)
    writes = _writes(operator)
    poll_until(
        lambda: (
            operator.metric("kco_sync_duration_seconds_count", namespace=operator.namespace, cluster=LOCAL_CLUSTER)
            >= before + 2
        ),
        30,
        "two more syncs",
    )
    return _writes(operator) == writes


def _config_topic(testbed: Testbed, topic: str) -> list[bytes]:
    """Every record value in Connect's config topic."""
    consumer = Consumer(
        {
            "bootstrap.servers": testbed.bootstrap_servers,
            "group.id": f"audit-{secrets.token_hex(4)}",
            "enable.auto.commit": False,
        }
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        values: list[bytes] = []
        while len(values) < high:
            message = consumer.poll(5)
            assert message is not None, f"read {len(values)} of {high} records of {topic}"
            values.append(message.value() or b"")
        return values
    finally:
        consumer.close()
