"""What a user touches first, run as users run it: the chart's operator Pod, worker Pods of the Connect image
built here with their init container, mounted Secrets, probes called by a kubelet, read-only root filesystems,
the REST API reached through the workers' Service by name."""

from __future__ import annotations

import collections
import os
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]
from kubernetes import client
from kubernetes.stream import stream

from connect_operator.devkit.chart import Release as OperatorRelease
from tests.node.conftest import NodeCluster
from tests.support.polling import poll_until
from tests.support.resources import condition
from tests.support.topics import read_all

# The first test also waits for the session's node, chart and (after a code change) the operator image.
pytestmark = [pytest.mark.node, pytest.mark.timeout(900)]

GROUP, VERSION = "kco.dev", "v1alpha1"
CLUSTER = "pipeline"
LINES = [f"line {n} {secrets.token_hex(3)}" for n in range(40)] + ["same line"] * 5
SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


@dataclass
class Pipeline:
    namespace: str
    topic: str
    secret: str
    sink_path: str


def _core(node_cluster: NodeCluster) -> Any:
    """The core API, its answers untyped: every field of the generated models is Optional."""
    return client.CoreV1Api(node_cluster.api)


def _custom(node_cluster: NodeCluster) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(node_cluster.api)


def _get(node_cluster: NodeCluster, namespace: str, plural: str, name: str) -> dict[str, Any]:
    found: Any = _custom(node_cluster).get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name)
    return dict(found)


def _workers(node_cluster: NodeCluster, namespace: str) -> list[Any]:
    core = _core(node_cluster)
    return list(core.list_namespaced_pod(namespace, label_selector=f"kco.dev/cluster={CLUSTER}").items)


def _ready(pod: Any) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or [])


def _exec(node_cluster: NodeCluster, namespace: str, pod: str, container: str, *argv: str) -> str:
    core = _core(node_cluster)
    output: str = stream(
        core.connect_get_namespaced_pod_exec,
        pod,
        namespace,
        container=container,
        command=list(argv),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
        _request_timeout=30,
    )
    return output


def _delivered(node_cluster: NodeCluster, namespace: str, path: str) -> list[str]:
    """The sink's file, from whichever worker runs its task."""
    lines: list[str] = []
    for pod in _workers(node_cluster, namespace):
        if _ready(pod):
            text = _exec(node_cluster, namespace, pod.metadata.name, "connect", "sh", "-c", f"cat {path} 2>/dev/null")
            lines += [line for line in text.splitlines() if line]
    return lines


def _why_not_ready(node_cluster: NodeCluster, release: OperatorRelease, namespace: str) -> str:
    """What a user would look at: the KafkaConnect's Ready condition, the worker Pods' states, the logs."""
    ready = condition(_get(node_cluster, namespace, "kafkaconnects", CLUSTER), "Ready")
    lines = [f"Ready: {ready.get('status')} {ready.get('reason')}: {ready.get('message')}"]
    for pod in _workers(node_cluster, namespace):
        for status in [*(pod.status.init_container_statuses or []), *(pod.status.container_statuses or [])]:
            lines.append(f"{pod.metadata.name}/{status.name}: restarts {status.restart_count}, {status.state}")
    try:
        operator_log = _core(node_cluster).read_namespaced_pod_log(release.pod, release.namespace, tail_lines=40)
    except client.ApiException as exc:
        operator_log = f"(no operator log: {exc.reason})"
    return "\n".join(lines) + f"\n--- operator Pod ---\n{operator_log}\n" + node_cluster.logs()


@pytest.fixture(scope="module")
def pipeline(node_cluster: NodeCluster, operator_release: OperatorRelease) -> Iterator[Pipeline]:
    """A 2-worker KafkaConnect of the local Connect image, reading lines from a ConfigMap it mounts and
    exposing a Secret, as a user writes one; Ready as the operator in its Pod reports it."""
    core = _core(node_cluster)
    namespace = f"pipeline-{secrets.token_hex(3)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="lines"), data={"input.txt": _text(LINES)})
    )
    secret, sink_path = "sink-target", f"/tmp/delivered-{secrets.token_hex(4)}.txt"
    core.create_namespaced_secret(
        namespace, client.V1Secret(metadata=client.V1ObjectMeta(name=secret), string_data={"path": sink_path})
    )
    one = {"replicationFactor": 1}
    manifest = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "KafkaConnect",
        "metadata": {"name": CLUSTER},
        "spec": {
            "replicas": 2,
            "image": node_cluster.built.connect.reference,
            "bootstrapServers": node_cluster.bootstrap_servers,
            "internalTopics": {"config": one, "offset": one, "status": one},
            "exposedSecrets": [secret],
            "resources": {"requests": {"memory": "256Mi"}, "limits": {"memory": "1Gi"}},
            "template": {
                "pod": {
                    "volumes": [{"name": "lines", "configMap": {"name": "lines"}}],
                    "volumeMounts": [{"name": "lines", "mountPath": "/mnt/lines", "readOnly": True}],
                }
            },
        },
    }
    _custom(node_cluster).create_namespaced_custom_object(GROUP, VERSION, namespace, "kafkaconnects", manifest)

    def ready() -> bool:
        return condition(_get(node_cluster, namespace, "kafkaconnects", CLUSTER), "Ready").get("status") == "True"

    try:
        # Two JVMs starting on a node that shares 2 cores with the rest of the suite: minutes, not seconds.
        poll_until(ready, 480, "the KafkaConnect Ready, reported by the operator Pod through the Service")
        # Ready needs one worker answering; the tests below use both.
        poll_until(lambda: all(_ready(p) for p in _workers(node_cluster, namespace)), 180, "both worker Pods Ready")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_why_not_ready(node_cluster, operator_release, namespace)}") from None
    try:
        yield Pipeline(namespace, f"{namespace}-lines", secret, sink_path)
    finally:
        core.delete_namespace(namespace)


def _text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def test_the_operator_pod_from_the_chart_is_ready_through_its_probes_under_the_charts_service_account(
    node_cluster: NodeCluster, operator_release: OperatorRelease
) -> None:
    core = _core(node_cluster)
    pod = core.read_namespaced_pod(operator_release.pod, operator_release.namespace)
    (container,) = pod.spec.containers
    assert container.image == operator_release.image
    assert container.readiness_probe.http_get.path == "/healthz", "the chart's own probe, no test override"
    (status,) = pod.status.container_statuses
    assert status.ready and status.started and status.restart_count == 0
    assert pod.spec.service_account_name == "kco-kafka-connect-operator"
    log = core.read_namespaced_pod_log(operator_release.pod, operator_release.namespace)
    assert "Traceback" not in log
    assert "KUBERNETES_SERVICE_HOST" not in log
    # In-cluster configuration: the kubernetes Service (kube-proxy → the forwarded apiserver), not a kubeconfig.
    env = _exec(node_cluster, operator_release.namespace, operator_release.pod, "operator", "env")
    assert "KUBERNETES_SERVICE_HOST=10.96.0.1" in env and "KUBECONFIG" not in env


def test_a_kafkaconnect_becomes_worker_pods_of_the_local_image_after_their_init_container(
    node_cluster: NodeCluster, operator_release: OperatorRelease, pipeline: Pipeline
) -> None:
    pods = _workers(node_cluster, pipeline.namespace)
    assert len(pods) == 2 and all(_ready(p) for p in pods)
    core = _core(node_cluster)
    for pod in pods:
        connect = next(c for c in pod.spec.containers if c.name == "connect")
        assert connect.image == node_cluster.built.connect.reference
        (init,) = pod.spec.init_containers
        assert init.image == operator_release.image
        (init_status,) = pod.status.init_container_statuses
        assert init_status.state.terminated.exit_code == 0
        # What `kubectl logs` reads: the kubelet's log of the container, through the apiserver.
        log = core.read_namespaced_pod_log(pod.metadata.name, pipeline.namespace, container="connect")
        assert "Kafka Connect started" in log
    status = _get(node_cluster, pipeline.namespace, "kafkaconnects", CLUSTER)["status"]
    assert f"{CLUSTER}-connect-api.{pipeline.namespace}.svc" in status["url"]


def test_the_operator_pod_reaches_the_workers_through_their_service_by_name(
    node_cluster: NodeCluster, operator_release: OperatorRelease, pipeline: Pipeline
) -> None:
    env = _exec(node_cluster, operator_release.namespace, operator_release.pod, "operator", "env")
    assert "KCO_REST_VIA_POD_IPS" not in env and "KCO_REST_URL_OVERRIDES" not in env
    # kube-proxy masquerades every Service hop here: requests through the ClusterIP arrive from the Pod
    # bridge's address, while one to a Pod IP would come from the operator Pod's own.
    assert node_cluster.node.network is not None
    gateway = node_cluster.node.network.pod_gateway
    operator_ip = (
        _core(node_cluster).read_namespaced_pod(operator_release.pod, operator_release.namespace).status.pod_ip
    )
    core = _core(node_cluster)
    logs = "".join(
        core.read_namespaced_pod_log(p.metadata.name, pipeline.namespace, container="connect")
        for p in _workers(node_cluster, pipeline.namespace)
    )
    from_service = [line for line in logs.splitlines() if f"INFO {gateway} - -" in line and "aiohttp" in line]
    assert from_service, "the operator's REST calls, through the Service"
    assert f"INFO {operator_ip} - -" not in logs, "no call straight to a Pod IP"


@pytest.fixture(scope="module")
def flowing(node_cluster: NodeCluster, pipeline: Pipeline) -> Pipeline:
    """A FileStream source (the mounted ConfigMap's lines) into a topic, and a sink whose file comes from the
    exposed Secret by secretKeyRef."""
    admin = AdminClient({"bootstrap.servers": node_cluster.bootstrap_servers})
    admin.create_topics([NewTopic(pipeline.topic, 1, 1)])[pipeline.topic].result(timeout=30)
    sink_file = {"valueFrom": {"secretKeyRef": {"name": pipeline.secret, "key": "path"}}}
    for name, spec in (
        ("lines-in", {"class": SOURCE, "config": {"file": "/mnt/lines/input.txt", "topic": pipeline.topic}}),
        ("lines-out", {"class": SINK, "config": {"topics": pipeline.topic, "file": sink_file}}),
    ):
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Connector", "metadata": {"name": name}}
        _custom(node_cluster).create_namespaced_custom_object(
            GROUP, VERSION, pipeline.namespace, "connectors", {**body, "spec": {"cluster": CLUSTER, **spec}}
        )
    return pipeline


def test_a_filestream_pipeline_delivers_every_line_once_to_the_file_the_secret_names(
    node_cluster: NodeCluster, flowing: Pipeline
) -> None:
    poll_until(
        lambda: len(_delivered(node_cluster, flowing.namespace, flowing.sink_path)) >= len(LINES),
        120,
        "every line in the file the Secret names",
    )
    delivered = _delivered(node_cluster, flowing.namespace, flowing.sink_path)
    assert collections.Counter(delivered) == collections.Counter(LINES)


def test_the_secret_value_appears_nowhere_else_and_a_rotation_reaches_the_connector(
    node_cluster: NodeCluster, operator_release: OperatorRelease, flowing: Pipeline
) -> None:
    poll_until(lambda: _delivered(node_cluster, flowing.namespace, flowing.sink_path), 120, "the sink writing")
    core = _core(node_cluster)
    rotated = f"/tmp/rotated-{secrets.token_hex(4)}.txt"
    rotated_at = time.monotonic()
    core.patch_namespaced_secret(flowing.secret, flowing.namespace, {"stringData": {"path": rotated}})

    def opened_by_the_sink() -> bool:
        # FileStreamSinkTask opens (creates) its file when it starts: the restarted task got the new value.
        # Records sent after the restart would prove no more here: Tansu numbers a topic's offsets by batch,
        # so a consumer resuming at its committed offset skips what comes next.
        for pod in _workers(node_cluster, flowing.namespace):
            shown = _exec(node_cluster, flowing.namespace, pod.metadata.name, "connect", "sh", "-c", f"ls {rotated}")
            if shown.strip() == rotated:
                return True
        return False

    poll_until(opened_by_the_sink, 180, "the sink restarted with the rotated path", interval=1)
    print(f"Secret rotation → connector using the new value: {time.monotonic() - rotated_at:.1f} s")
    restarts = [e for e in core.list_namespaced_event(flowing.namespace).items if "secret changed" in (e.message or "")]
    assert restarts, "the operator's planned restart, in the Connector's Events"

    for value in (flowing.sink_path, rotated):
        for plural, name in (("connectors", "lines-out"), ("kafkaconnects", CLUSTER)):
            assert value not in repr(_get(node_cluster, flowing.namespace, plural, name)), f"{value} in {name}"
        events = core.list_namespaced_event(flowing.namespace).items
        assert not [e for e in events if value in (e.message or "")], "a Secret value in an Event"
        operator_log = core.read_namespaced_pod_log(operator_release.pod, operator_release.namespace)
        assert value not in operator_log
        admin = AdminClient({"bootstrap.servers": node_cluster.bootstrap_servers})
        internal = [t for t in admin.list_topics(timeout=10).topics if t != flowing.topic]
        assert internal, "Connect's internal topics"
        for topic in internal:
            records = read_all(node_cluster.bootstrap_servers, topic, want=0, timeout=15)
            assert not [r for r in records if value.encode() in (r.value() or b"")], f"{value} in {topic}"


def _connect_container(pod: Any) -> Any:
    return next(c for c in pod.status.container_statuses if c.name == "connect")


def test_connect_killed_inside_a_worker_container_is_restarted_by_the_kubelet(
    node_cluster: NodeCluster, pipeline: Pipeline
) -> None:
    pod = _workers(node_cluster, pipeline.namespace)[0]
    before = _connect_container(pod)
    pids = node_cluster.node.container_pids(pod.metadata.uid, before.container_id)
    assert pids, "the container's processes, from its cgroup"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    core = _core(node_cluster)

    def restarted_and_ready() -> bool:
        current = core.read_namespaced_pod(pod.metadata.name, pipeline.namespace)
        status = _connect_container(current)
        return bool(status.restart_count > before.restart_count and status.ready)

    poll_until(restarted_and_ready, 180, "the kubelet restarting Connect, and its probes passing again")
    current = _connect_container(core.read_namespaced_pod(pod.metadata.name, pipeline.namespace))
    assert current.last_state.terminated.exit_code == 137


def test_readiness_follows_the_workers_rest_api(node_cluster: NodeCluster, pipeline: Pipeline) -> None:
    """A frozen JVM answers no probe: the kubelet marks the Pod not Ready, and Ready again once it thaws."""
    core = _core(node_cluster)
    poll_until(lambda: all(_ready(p) for p in _workers(node_cluster, pipeline.namespace)), 180, "workers Ready")
    pod = _workers(node_cluster, pipeline.namespace)[-1]
    status = _connect_container(pod)
    pids = node_cluster.node.container_pids(pod.metadata.uid, status.container_id)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        poll_until(
            lambda: not _ready(core.read_namespaced_pod(pod.metadata.name, pipeline.namespace)),
            60,
            "the Pod not Ready while Connect cannot answer",
        )
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    poll_until(lambda: _ready(core.read_namespaced_pod(pod.metadata.name, pipeline.namespace)), 60, "Ready again")
    assert _connect_container(core.read_namespaced_pod(pod.metadata.name, pipeline.namespace)).restart_count == (
        status.restart_count
    ), "readiness only: no restart for a short freeze"


def test_workers_and_the_operator_run_non_root_on_read_only_root_filesystems(
    node_cluster: NodeCluster, operator_release: OperatorRelease, pipeline: Pipeline
) -> None:
    pod = _workers(node_cluster, pipeline.namespace)[0]
    for container in [*pod.spec.init_containers, *pod.spec.containers]:
        assert container.security_context.read_only_root_filesystem is True, container.name
    assert pod.status.init_container_statuses[0].state.terminated.exit_code == 0
    probe = "id -u; touch /opt/kafka/written 2>&1; touch /tmp/written && echo tmp-writable"
    shown = _exec(node_cluster, pipeline.namespace, pod.metadata.name, "connect", "sh", "-c", probe)
    uid, refused, writable = shown.splitlines()[:3]
    assert uid != "0" and "Read-only file system" in refused and writable == "tmp-writable"

    operator_pod = _core(node_cluster).read_namespaced_pod(operator_release.pod, operator_release.namespace)
    assert operator_pod.spec.containers[0].security_context.read_only_root_filesystem is True
    probe = "import os; print(os.getuid())\ntry:\n open('/written', 'w')\nexcept OSError as e:\n print(e)"
    shown = _exec(node_cluster, operator_release.namespace, operator_release.pod, "operator", "python", "-c", probe)
    uid, refused = shown.splitlines()[:2]
    assert uid == "10001" and "Read-only file system" in refused


def test_the_network_policy_is_applied_and_admits_the_operator_pod(
    node_cluster: NodeCluster, operator_release: OperatorRelease, pipeline: Pipeline
) -> None:
    """Stored and matching; nothing enforces it on this node's bridge CNI (docs/architecture.md says so)."""
    networking: Any = client.NetworkingV1Api(node_cluster.api)
    (policy,) = networking.list_namespaced_network_policy(pipeline.namespace).items
    workers = _workers(node_cluster, pipeline.namespace)
    assert all(_matches(policy.spec.pod_selector.match_labels, p.metadata.labels) for p in workers)
    core = _core(node_cluster)
    operator_pod = core.read_namespaced_pod(operator_release.pod, operator_release.namespace)
    operator_namespace = core.read_namespace(operator_release.namespace)
    peers = [peer for rule in policy.spec.ingress for peer in rule._from or []]
    admitted = [
        peer
        for peer in peers
        if peer.namespace_selector
        and _matches(peer.namespace_selector.match_labels, operator_namespace.metadata.labels or {})
        and _matches(peer.pod_selector.match_labels, operator_pod.metadata.labels)
    ]
    assert admitted, f"no ingress rule admits {operator_release.pod}: {peers}"


def _matches(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in (selector or {}).items())
