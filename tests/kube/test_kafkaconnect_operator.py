"""The KafkaConnect handlers, run by kopf against the real control plane and the real broker."""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec, KafkaConnectStatus
from connect_operator.connect.models import parse_version
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.render import kafkaclient, names
from connect_operator.settings import OperatorSettings
from connect_worker.testbed import Testbed
from tests.kube.conftest import RunningOperator, running_operator
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
    KafkaConnectStatus.model_validate(current.status.to_dict())  # written as the types describe it
    assert _condition(current, "Ready")["status"] == "False", "no kubelet runs the Pods here"
    assert (
        _condition(current, "Reconciling")["reason"] == "RollingOut"
        and _condition(current, "Progressing")["status"] == "True"
    )
    assert _condition(current, "Stalled")["status"] == "False"
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
    # Generous: on the control plane the whole kube tier shares, the garbage collector took up to ~40 s.
    poll_until(
        lambda: (
            not apps.list_namespaced_deployment(namespace).items and not core.list_namespaced_service(namespace).items
        ),
        150,
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
    owned = kafkaconnects.get(namespace=namespace, name="owned")
    assert _condition(owned, "Stalled")["status"] == "True" and _condition(owned, "Stalled")["reason"] == "InvalidSpec"
    assert owned.status["observedGeneration"] == 1, "refusing the spec is acting on it"
    assert "group.id" in invalid["message"] and "groupId" in invalid["message"]
    assert any(t == "Warning" and r == "InvalidSpec" for t, r, _ in _events(api, namespace, "owned"))

    bad_topic = poll_until(lambda: condition_of("topics"), 30, "InternalTopicsInvalid")
    assert bad_topic["reason"] == "InternalTopicsInvalid" and "cleanup.policy=delete" in bad_topic["message"]
    assert not client.AppsV1Api(api).list_namespaced_deployment(namespace).items, "no workers on a bad config topic"


def _secret(name: str, data: dict[str, str]) -> client.V1Secret:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return client.V1Secret(metadata=client.V1ObjectMeta(name=name), data=encoded)


def test_missing_kafka_secrets_give_a_condition_and_event_naming_secret_and_key_never_a_value(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    control_plane: ControlPlane,
) -> None:
    core = client.CoreV1Api(api)
    ca_pem = (control_plane.work_dir / "pki" / "ca.crt").read_text()
    core.create_namespaced_secret(namespace, _secret("kafka-ca", {"ca.crt": ca_pem}))
    core.create_namespaced_secret(namespace, _secret("kafka-user", {"username": "not-the-password-key"}))
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    tls = {"trustedCertificates": [{"secretName": "kafka-ca"}]}
    scram = {
        "type": "scram-sha-512",
        "username": "connect",
        "passwordSecret": {"secretName": "kafka-user", "key": "pw"},
    }
    mtls = {"type": "tls", "certificateAndKey": {"secretName": "kafka-client"}}
    bootstrap = testbed.bootstrap_servers
    kafkaconnects.create(namespace=namespace, body=_kafkaconnect("scram", bootstrap, tls=tls, authentication=scram))
    kafkaconnects.create(namespace=namespace, body=_kafkaconnect("mtls", bootstrap, tls=tls, authentication=mtls))

    def held_back(name: str) -> Any:
        ready = _condition(kafkaconnects.get(namespace=namespace, name=name), "Ready")
        return ready if ready and ready["reason"] == "KafkaSecretMissing" else None

    scram_ready = poll_until(lambda: held_back("scram"), 30, "KafkaSecretMissing on scram")
    assert scram_ready["status"] == "False"
    assert scram_ready["message"].startswith("Secret kafka-user has no key pw (spec.authentication.passwordSecret)")
    mtls_ready = poll_until(lambda: held_back("mtls"), 30, "KafkaSecretMissing on mtls")
    assert mtls_ready["message"].startswith("Secret kafka-client not found (spec.authentication.certificateAndKey)")

    def warned(name: str) -> list[str]:
        return [m or "" for t, r, m in _events(api, namespace, name) if t == "Warning" and r == "KafkaSecretMissing"]

    assert "Secret kafka-user has no key pw" in poll_until(lambda: warned("scram"), 10, "a Warning Event")[0]
    assert not client.AppsV1Api(api).list_namespaced_deployment(namespace).items, "workers held back"
    shown = [str(kafkaconnects.get(namespace=namespace, name=n).status) for n in ("scram", "mtls")]
    shown += [m or "" for _, _, m in _events(api, namespace, "scram") + _events(api, namespace, "mtls")]
    assert not any("BEGIN CERTIFICATE" in text or "not-the-password-key" in text for text in shown)


def test_a_sasl_password_ending_with_a_newline_is_refused_before_any_topic_is_created(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    # The workers would send "hunter2\n" (their placeholder reads the file as it is): nothing may be made
    # with a password they cannot use, neither the topics nor the workers.
    client.CoreV1Api(api).create_namespaced_secret(namespace, _secret("kafka-user", {"password": "hunter2\n"}))
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    group = f"{namespace}-newline"
    password = {"secretName": "kafka-user", "key": "password"}
    scram = {"type": "scram-sha-512", "username": "connect", "passwordSecret": password}
    kafkaconnects.create(
        namespace=namespace,
        body=_kafkaconnect("newline", testbed.bootstrap_servers, groupId=group, authentication=scram),
    )

    def refused() -> Any:
        ready = _condition(kafkaconnects.get(namespace=namespace, name="newline"), "Ready")
        return ready if ready and ready["reason"] == "KafkaSecretInvalid" else None

    ready = poll_until(refused, 30, "Ready=False KafkaSecretInvalid")
    assert ready["status"] == "False"
    assert ready["message"].startswith(
        "Secret kafka-user key password ends with a line break, which the workers would send as part of the "
        "password (spec.authentication.passwordSecret)"
    )

    def warned() -> list[str]:
        events = _events(api, namespace, "newline")
        return [m or "" for t, r, m in events if t == "Warning" and r == "KafkaSecretInvalid"]

    assert "Secret kafka-user key password" in poll_until(warned, 10, "a Warning Event")[0]
    assert not client.AppsV1Api(api).list_namespaced_deployment(namespace).items, "workers held back"
    listed = AdminClient({"bootstrap.servers": testbed.bootstrap_servers}).list_topics(timeout=10).topics
    assert not [t for t in listed if t.startswith(group)], "no internal topic created"
    shown = str(kafkaconnects.get(namespace=namespace, name="newline").status) + " ".join(warned())
    assert "hunter2" not in shown


def test_the_admin_client_config_built_from_real_pem_is_accepted_by_librdkafka(control_plane: ControlPlane) -> None:
    pki = control_plane.work_dir / "pki"
    spec = KafkaConnectSpec.model_validate(
        {
            "bootstrapServers": "127.0.0.1:9",
            "tls": {"trustedCertificates": [{"secretName": "ca"}]},
            "authentication": {"type": "tls", "certificateAndKey": {"secretName": "client"}},
        }
    )
    values = {
        ("ca", "ca.crt"): (pki / "ca.crt").read_text(),
        ("client", "tls.crt"): (pki / "apiserver.crt").read_text(),
        ("client", "tls.key"): (pki / "apiserver.key").read_text(),
    }
    # librdkafka parses every PEM when the client is made: a wrong key name or format fails here.
    AdminClient({"bootstrap.servers": "127.0.0.1:9", "log_level": 0, **kafkaclient.admin_config(spec, values)})


SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def _pod_names(core: client.CoreV1Api, namespace: str, selector: str) -> list[str]:
    pods = core.list_namespaced_pod(namespace, label_selector=selector).items
    return sorted(str(p.metadata.name) for p in pods if p.metadata)


def test_status_lists_the_plugins_of_ready_workers(
    control_plane: ControlPlane,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    connect_url: str,
) -> None:
    """No kubelet runs the Pod here: the test reports it ready, as a kubelet would, and the operator reaches
    the test bed's workers through the REST URL override (as an operator outside the cluster does)."""
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=1,
        kafka_admin_timeout_seconds=10,
        rest_url_overrides={f"{namespace}/plugins": connect_url},
    )
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    core = client.CoreV1Api(api)
    with running_operator(settings):
        kafkaconnects.create(
            namespace=namespace,
            body=_kafkaconnect("plugins", testbed.bootstrap_servers, groupId=f"{namespace}-p", replicas=1),
        )
        selector = f"{names.CLUSTER_LABEL}=plugins"
        pod = poll_until(lambda: _pod_names(core, namespace, selector), 30, "a Pod")[0]
        ready = {"type": "Ready", "status": "True"}
        core.patch_namespaced_pod_status(
            pod,
            namespace,
            {"status": {"phase": "Running", "podIP": "127.0.0.1", "conditions": [ready]}},
        )

        def listed() -> Any:
            status = kafkaconnects.get(namespace=namespace, name="plugins").status or {}
            return status if status.get("connectorPlugins") else None

        status = poll_until(listed, 30, "the plugins in the status")
    KafkaConnectStatus.model_validate(status.to_dict())
    assert SOURCE in {p["class"] for p in status["connectorPlugins"]}
    assert status["readyReplicas"] == 1 and status["url"] == connect_url
    # The test bed's worker runs Connect 3.9.0; its GET / names the version and the build's commit.
    assert parse_version(status["connectVersion"]) == (3, 9, 0) and status["connectCommit"]
    assert _condition(kafkaconnects.get(namespace=namespace, name="plugins"), "Ready")["status"] == "True"


@contextlib.contextmanager
def _nodes(api: client.ApiClient, labels: dict[str, dict[str, str]]) -> Iterator[None]:
    """Nodes (cluster-scoped, so removed afterwards) with these labels."""
    core = client.CoreV1Api(api)
    for name, node_labels in labels.items():
        core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=name, labels=node_labels)))
    try:
        yield
    finally:
        for name in labels:
            with contextlib.suppress(ApiException):
                core.delete_node(name)


def _bind(core: client.CoreV1Api, namespace: str, pod: str, node: str) -> None:
    binding = client.V1Binding(
        metadata=client.V1ObjectMeta(name=pod), target=client.V1ObjectReference(kind="Node", name=node)
    )
    # The generated client cannot parse the binding answer (it has no body model); the call succeeds.
    with contextlib.suppress(ValueError):
        core.create_namespaced_pod_binding(pod, namespace, binding, _preload_content=False)


def test_worker_pods_get_their_nodes_rack_and_a_node_without_the_label_a_warning(
    operator: RunningOperator,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    core = client.CoreV1Api(api)
    zoned, bare = f"{namespace}-zoned"[:63], f"{namespace}-bare"[:63]
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    with _nodes(api, {zoned: {"topology.kubernetes.io/zone": "zone-b"}, bare: {}}):
        kafkaconnects.create(
            namespace=namespace,
            body=_kafkaconnect("racked", testbed.bootstrap_servers, groupId=f"{namespace}-r", rack={}),
        )
        selector = f"{names.CLUSTER_LABEL}=racked"

        def two_pods() -> list[str] | None:
            found = _pod_names(core, namespace, selector)
            return found if len(found) == 2 else None

        pods = poll_until(two_pods, 30, "two worker Pods")
        # The scheduler's part, which this control plane leaves to whoever runs the Pods.
        _bind(core, namespace, pods[0], zoned)
        _bind(core, namespace, pods[1], bare)

        def rack_of(pod: str) -> str | None:
            meta = core.read_namespaced_pod(pod, namespace).metadata
            return (meta.annotations or {}).get(names.RACK_ANNOTATION) if meta else None

        assert poll_until(lambda: rack_of(pods[0]), 20, "the rack annotation") == "zone-b"

        def warned() -> list[str]:
            events = _events(api, namespace, "racked")
            return [m or "" for t, r, m in events if t == "Warning" and r == "RackLabelMissing"]

        message = poll_until(warned, 20, "a RackLabelMissing Warning on the KafkaConnect")[0]
        assert f"Node {bare} has no label topology.kubernetes.io/zone" in message and pods[1] in message
        assert rack_of(pods[1]) is None

        # Once labelled, the next event of the waiting Pod (here a status update, as on an init restart) brings it.
        core.patch_node(bare, {"metadata": {"labels": {"topology.kubernetes.io/zone": "zone-c"}}})
        core.patch_namespaced_pod_status(pods[1], namespace, {"status": {"phase": "Pending", "message": "restarted"}})
        assert poll_until(lambda: rack_of(pods[1]), 20, "the rack after labelling the Node") == "zone-c"
        assert len(warned()) == 1, "one Warning per Pod, not one per event"


def test_the_workers_network_policy_admits_operator_pods_of_the_operators_namespace_only(
    control_plane: ControlPlane, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Testbed
) -> None:
    """Applied as rendered and served back by the API server. Nothing here enforces NetworkPolicies (no
    CNI plugin), so this checks the selector the policy carries, not traffic."""
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        kafka_admin_timeout_seconds=10,
        operator_namespace="kco-system",
    )
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    networking = client.NetworkingV1Api(api)
    with running_operator(settings):
        kafkaconnects.create(
            namespace=namespace, body=_kafkaconnect("fenced", testbed.bootstrap_servers, groupId=f"{namespace}-f")
        )

        def applied() -> Any:
            with contextlib.suppress(ApiException):
                return networking.read_namespaced_network_policy("fenced-connect", namespace)
            return None

        policy = poll_until(applied, 60, "the NetworkPolicy")
    (rule,) = policy.spec.ingress
    operator_peer, workers_peer = rule._from
    assert operator_peer.namespace_selector.match_labels == {"kubernetes.io/metadata.name": "kco-system"}
    assert operator_peer.pod_selector.match_labels == dict(names.OPERATOR_LABELS)
    assert workers_peer.namespace_selector is None, "the policy's own namespace"
    assert workers_peer.pod_selector.match_labels == names.ClusterRef("fenced", namespace, "").selector_labels()
    assert [(p.port, p.protocol) for p in rule.ports] == [(8083, "TCP")]
