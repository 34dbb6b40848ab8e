"""Rendering a KafkaConnect into Kubernetes objects: every field, and the invariants as properties."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import SecretKeyRef
from connect_operator.api.v1alpha1.kafkaconnect import OWNED_WORKER_KEYS, OWNED_WORKER_PREFIXES, KafkaConnectSpec
from connect_operator.engine import desired
from connect_operator.render import cluster, names, workerconfig
from connect_operator.render.names import ClusterRef

pytestmark = pytest.mark.unit

REF = ClusterRef(name="orders", namespace="data", uid="uid-1")
IMAGE = "ghcr.io/example/kco:1.0"


def spec(**fields: Any) -> KafkaConnectSpec:
    return KafkaConnectSpec.model_validate({"bootstrapServers": "kafka:9092", **fields})


def objects(**fields: Any) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in cluster.render(REF, spec(**fields), IMAGE).objects}


def pod(**fields: Any) -> dict[str, Any]:
    template: dict[str, Any] = objects(**fields)["Deployment"]["spec"]["template"]
    return template


def container(name: str, **fields: Any) -> dict[str, Any]:
    spec_ = pod(**fields)["spec"]
    found: dict[str, Any] = next(c for c in spec_["initContainers"] + spec_["containers"] if c["name"] == name)
    return found


def test_every_object_is_owned_labelled_and_namespaced() -> None:
    rendered = objects()
    assert set(rendered) == {
        "ServiceAccount",
        "ConfigMap",
        "Service",
        "NetworkPolicy",
        "PodDisruptionBudget",
        "Deployment",
    }
    for obj in rendered.values():
        meta = obj["metadata"]
        assert meta["namespace"] == "data"
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "kco.dev/v1alpha1",
                "kind": "KafkaConnect",
                "name": "orders",
                "uid": "uid-1",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        assert meta["labels"][names.CLUSTER_LABEL] == "orders"


def test_worker_properties_defaults() -> None:
    props = workerconfig.worker_properties(spec(), "orders")
    assert props["group.id"] == "orders"
    assert (props["config.storage.topic"], props["offset.storage.topic"], props["status.storage.topic"]) == (
        "orders-configs",
        "orders-offsets",
        "orders-status",
    )
    assert props["offset.storage.replication.factor"] == "3"
    assert props["offset.storage.partitions"] == "25" and props["status.storage.partitions"] == "5"
    assert props["security.protocol"] == "PLAINTEXT"
    assert props["plugin.path"] == names.PLUGIN_DIR
    # No Secret mounted for a provider to read (and Connect stops on an allowed path that does not exist).
    assert not [key for key in props if key.startswith("config.providers")]
    assert "rest.advertised.host.name" not in props, "the init container sets it from the Pod IP"


def test_worker_properties_from_every_field() -> None:
    props = workerconfig.worker_properties(
        spec(
            groupId="g",
            internalTopics={
                "config": {"name": "c", "replicationFactor": 1},
                "offset": {"partitions": 50},
                "status": {"name": "s"},
            },
            converters={"key": "K", "value": "V"},
            config={"offset.flush.interval.ms": 1000, "exactly.once": True},
        ),
        "g",
    )
    assert props["group.id"] == "g" and props["offset.storage.topic"] == "g-offsets"
    assert props["config.storage.topic"] == "c" and props["config.storage.replication.factor"] == "1"
    assert props["status.storage.topic"] == "s" and props["offset.storage.partitions"] == "50"
    assert (props["key.converter"], props["value.converter"]) == ("K", "V")
    assert props["offset.flush.interval.ms"] == "1000" and props["exactly.once"] == "true"


@pytest.mark.parametrize(
    ("tls", "auth", "protocol"),
    [
        (True, None, "SSL"),
        (False, "scram-sha-512", "SASL_PLAINTEXT"),
        (True, "scram-sha-256", "SASL_SSL"),
        (True, "plain", "SASL_SSL"),
        (True, "tls", "SSL"),
    ],
)
def test_security_reaches_worker_producer_consumer_and_admin_clients(
    tls: bool, auth: str | None, protocol: str
) -> None:
    fields: dict[str, Any] = {}
    if tls:
        fields["tls"] = {"trustedCertificates": [{"secretName": "ca"}]}
    if auth == "tls":
        fields["authentication"] = {"type": "tls", "certificateAndKey": {"secretName": "client"}}
    elif auth:
        fields["authentication"] = {"type": auth, "username": "u", "passwordSecret": {"secretName": "pw", "key": "p"}}
    props = workerconfig.worker_properties(spec(**fields), "orders")
    for prefix in ("", "producer.", "consumer.", "admin."):
        assert props[f"{prefix}security.protocol"] == protocol
    if tls:
        assert props["ssl.truststore.location"] == workerconfig.TRUSTSTORE_FILE
    if auth and auth != "tls":
        jaas = props["consumer.sasl.jaas.config"]
        assert 'username="u"' in jaas and f'password="${{kcoworker:{names.KAFKA_AUTH_ROOT}/pw:p}}"' in jaas
    if auth == "tls":
        assert props["ssl.keystore.location"] == workerconfig.KEYSTORE_FILE


def test_deployment_wires_init_connect_probes_and_hardening() -> None:
    deployment = objects(replicas=3)["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    init, connect = container("init"), container("connect")
    assert init["image"] == IMAGE and init["command"] == ["python", "-m", "connect_worker"]
    assert init["args"][:3] == ["init", "--template", f"{names.TEMPLATE_DIR}/worker.properties"]
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in init["env"]
    assert connect["image"] == "apache/kafka:3.9.1"
    assert connect["command"] == ["/opt/kafka/bin/connect-distributed.sh", f"{names.CONFIG_DIR}/worker.properties"]
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(connect)
    for c in (init, connect):
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert pod()["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod()["metadata"]["annotations"][names.CONFIG_HASH_ANNOTATION]


def test_readiness_asks_the_rest_server_and_health_only_gates_startup_and_liveness() -> None:
    connect = container("connect")
    rest = {"name": "rest", "containerPort": 8083, "protocol": "TCP"}
    assert rest in connect["ports"]
    # GET / is Connect's RootResource, answered without the herder thread a rebalance keeps busy.
    assert connect["readinessProbe"] == {
        "httpGet": {"path": "/", "port": "rest"},
        "periodSeconds": 5,
        "timeoutSeconds": 3,
        "failureThreshold": 3,
    }
    # /health answers once the worker has joined its group: the start is done after it, up to 5 minutes.
    startup = connect["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": "rest"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 300
    # A herder stuck for a minute is restarted; a rebalance of seconds is ridden out.
    liveness = connect["livenessProbe"]
    assert liveness == {
        "httpGet": {"path": "/health", "port": "rest"},
        "periodSeconds": 10,
        "timeoutSeconds": 10,
        "failureThreshold": 6,
    }


def test_each_render_gets_probes_of_its_own() -> None:
    first, second = container("connect"), container("connect")
    first["readinessProbe"]["httpGet"]["path"] = "/changed"
    assert second["readinessProbe"]["httpGet"]["path"] == "/"


def test_deployment_takes_every_template_resource_and_jvm_field() -> None:
    tolerations = [{"key": "dedicated", "operator": "Exists"}]
    spread = [{"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}]
    fields = {
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}},
        "jvmOptions": {"xms": "1g", "xmx": "1g", "options": ["-XX:+UseG1GC"]},
        "plugins": [{"name": "jdbc", "artifacts": [{"url": "https://x/jdbc.jar", "sha512": "a" * 128, "type": "jar"}]}],
        "exposedSecrets": ["db"],
        "template": {
            "pod": {
                "labels": {"team": "data"},
                "annotations": {"a": "b"},
                "affinity": {"nodeAffinity": {}},
                "tolerations": tolerations,
                "nodeSelector": {"pool": "connect"},
                "priorityClassName": "data-critical",
                "imagePullSecrets": ["registry"],
                "topologySpreadConstraints": spread,
                "securityContext": {"runAsUser": 2000},
                "env": [{"name": "X", "value": "1"}],
                "volumes": [{"name": "extra", "emptyDir": {}}],
                "volumeMounts": [{"name": "extra", "mountPath": "/x"}],
            }
        },
    }
    template = pod(**fields)
    connect = container("connect", **fields)
    init = container("init", **fields)
    assert template["metadata"]["labels"]["team"] == "data" and template["metadata"]["annotations"]["a"] == "b"
    assert template["spec"]["affinity"] == {"nodeAffinity": {}}
    assert template["spec"]["tolerations"] == tolerations and template["spec"]["topologySpreadConstraints"] == spread
    assert template["spec"]["securityContext"] == {"runAsUser": 2000}
    assert template["spec"]["nodeSelector"] == {"pool": "connect"}
    assert template["spec"]["priorityClassName"] == "data-critical"
    assert template["spec"]["imagePullSecrets"] == [{"name": "registry"}]
    assert {"name": "extra", "emptyDir": {}} in template["spec"]["volumes"]
    assert {"name": "extra", "mountPath": "/x"} in connect["volumeMounts"]
    assert {"name": "X", "value": "1"} in connect["env"]
    assert connect["resources"] == {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    env = {e["name"]: e.get("value") for e in connect["env"]}
    assert env["KAFKA_HEAP_OPTS"] == "-Xms1g -Xmx1g" and env["KAFKA_OPTS"] == "-XX:+UseG1GC"
    assert '"name":"jdbc"' in init["args"][init["args"].index("--plugins") + 1]
    assert {"name": "exposed-db", "mountPath": f"{names.SECRETS_ROOT}/db", "readOnly": True} in connect["volumeMounts"]


def test_exposed_secret_volumes_are_optional_and_the_kafka_credentials_required() -> None:
    template = pod(
        exposedSecrets=["db", "shared"],
        tls={"trustedCertificates": [{"secretName": "ca"}]},
        authentication={"type": "tls", "certificateAndKey": {"secretName": "shared"}},
    )
    secrets = {v["name"]: v["secret"] for v in template["spec"]["volumes"] if "secret" in v}
    assert secrets["exposed-db"] == {"secretName": "db", "defaultMode": 0o440, "optional": True}
    assert secrets["exposed-shared"]["optional"] is True
    # The same Secret as Kafka credentials: no worker runs without it, so that volume blocks the Pod.
    assert "optional" not in secrets["auth-shared"] and "optional" not in secrets["tls-ca"]


def test_connector_secret_placeholders_point_where_the_cluster_mounts_exposed_secrets() -> None:
    assert desired.DEFAULT_SECRETS_ROOT == names.SECRETS_ROOT
    ref = SecretKeyRef(name="db", key="password")
    assert desired.DEFAULT_PLACEHOLDER(ref) == f"${{{names.CONFIG_PROVIDER}:{names.SECRETS_ROOT}/db:password}}"


def _providers(props: dict[str, str]) -> set[str]:
    return {name for name in props.get("config.providers", "").split(",") if name}


def _resolvable(placeholder: str, props: dict[str, str]) -> bool:
    """Would a worker with `props` resolve it: a configured provider whose allowed.paths hold its directory."""
    provider, path, _ = placeholder.removeprefix("${").removesuffix("}").split(":")
    allowed = props.get(f"config.providers.{provider}.param.allowed.paths", "").split(",")
    return provider in _providers(props) and any(path == root or path.startswith(root + "/") for root in allowed)


@pytest.mark.parametrize("auth", [None, "tls", "scram-sha-512"])
def test_connectors_provider_reads_only_exposed_secrets_and_the_workers_own_only_its_password(
    auth: str | None,
) -> None:
    fields: dict[str, Any] = {"exposedSecrets": ["db"], "tls": {"trustedCertificates": [{"secretName": "ca"}]}}
    if auth == "tls":
        fields["authentication"] = {"type": "tls", "certificateAndKey": {"secretName": "client"}}
    elif auth:
        fields["authentication"] = {"type": auth, "username": "u", "passwordSecret": {"secretName": "pw", "key": "p"}}
    props = workerconfig.worker_properties(spec(**fields), "orders")
    sasl = auth not in (None, "tls")
    assert _providers(props) == ({"dir", "kcoworker"} if sasl else {"dir"})
    assert props["config.providers.dir.class"].endswith("DirectoryConfigProvider")
    assert props["config.providers.dir.param.allowed.paths"] == names.SECRETS_ROOT
    # What the operator itself renders still resolves: a Connector's secretKeyRef, the worker's password.
    assert _resolvable(desired.DEFAULT_PLACEHOLDER(SecretKeyRef(name="db", key="pw")), props)
    if sasl:
        assert props["config.providers.kcoworker.param.allowed.paths"] == f"{names.KAFKA_AUTH_ROOT}/pw"
        (password,) = re.findall(r'password="(\$\{[^}]*\})"', props["sasl.jaas.config"])
        assert _resolvable(password, props)
    # No provider reaches the workers' Kafka credentials, TLS files or the files the init step writes.
    for elsewhere in (
        f"${{dir:{names.KAFKA_AUTH_ROOT}/pw:p}}",
        f"${{dir:{names.KAFKA_AUTH_ROOT}/client:tls.key}}",
        f"${{dir:{names.KAFKA_TLS_ROOT}/ca:ca.crt}}",
        f"${{dir:{names.CONFIG_DIR}:kafka-client.pem}}",
        f"${{dir:{names.SECRETS_ROOT}-other/x:y}}",
        f"${{kcoworker:{names.KAFKA_AUTH_ROOT}/client:tls.key}}",
        f"${{kcoworker:{names.SECRETS_ROOT}/db:pw}}",
    ):
        assert not _resolvable(elsewhere, props), elsewhere


def test_service_pdb_network_policy_and_service_account() -> None:
    rendered = objects(replicas=3)
    service = rendered["Service"]["spec"]
    assert service["type"] == "ClusterIP" and service["ports"][0]["port"] == 8083
    assert service["selector"] == REF.selector_labels()
    assert rendered["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    # A single worker does not block node drains.
    assert objects(replicas=1)["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    ingress = rendered["NetworkPolicy"]["spec"]["ingress"]
    assert ingress[0]["ports"] == [{"port": 8083, "protocol": "TCP"}]
    # No operator namespace known (an operator outside the cluster): only the cluster's own workers.
    assert ingress[0]["from"] == [{"podSelector": {"matchLabels": REF.selector_labels()}}]
    assert rendered["ServiceAccount"]["automountServiceAccountToken"] is False
    legacy = cluster.render(REF, spec(), IMAGE, pdb_api_version="policy/v1beta1").objects
    assert any(o["apiVersion"] == "policy/v1beta1" for o in legacy)


def test_the_rest_port_admits_operator_pods_of_the_operators_namespace_only_and_the_workers() -> None:
    policy = {o["kind"]: o for o in cluster.render(REF, spec(), IMAGE, operator_namespace="kco-system").objects}
    peers = policy["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert peers == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kco-system"}},
            "podSelector": {"matchLabels": dict(names.OPERATOR_LABELS)},
        },
        # No namespaceSelector: the policy's own namespace, where only this cluster's workers match.
        {"podSelector": {"matchLabels": REF.selector_labels()}},
    ]
    assert all(peer.get("namespaceSelector") != {} for peer in peers), "{} would select every namespace"


values = st.one_of(st.text(max_size=8), st.integers(), st.booleans())
free_keys = st.text(alphabet="abcdefghij.", min_size=1, max_size=8).filter(
    lambda k: k not in OWNED_WORKER_KEYS and not k.startswith(OWNED_WORKER_PREFIXES)
)


@given(
    st.dictionaries(free_keys, values, max_size=4),
    st.dictionaries(free_keys, values, max_size=4),
    st.integers(0, 5),
    st.integers(0, 5),
)
def test_config_hash_changes_exactly_when_the_worker_config_does(
    first: dict[str, Any], second: dict[str, Any], replicas_a: int, replicas_b: int
) -> None:
    a = cluster.render(REF, spec(config=first, replicas=replicas_a), IMAGE)
    b = cluster.render(REF, spec(config=second, replicas=replicas_b), IMAGE)
    assert (a.config_hash == b.config_hash) == (a.worker_properties == b.worker_properties)


@given(
    st.sampled_from(sorted(OWNED_WORKER_KEYS))
    | st.builds(
        lambda p, s: p + s, st.sampled_from(OWNED_WORKER_PREFIXES), st.text(alphabet="abc.", min_size=1, max_size=5)
    )
)
def test_owned_keys_are_always_refused(key: str) -> None:
    with pytest.raises(ValidationError, match="config may not set"):
        spec(config={key: "x"})


def test_rack_awareness_shows_the_pods_rack_annotation_to_the_init_container_only() -> None:
    plain = pod()
    assert names.RACK_KEY_ANNOTATION not in plain["metadata"]["annotations"]
    assert not any(v["name"] == "rack" for v in plain["spec"]["volumes"])
    assert "--rack-file" not in container("init")["args"]

    template = pod(rack={"topologyKey": "example.com/room"})
    assert template["metadata"]["annotations"][names.RACK_KEY_ANNOTATION] == "example.com/room"
    assert pod(rack={})["metadata"]["annotations"][names.RACK_KEY_ANNOTATION] == "topology.kubernetes.io/zone"
    volume = next(v for v in template["spec"]["volumes"] if v["name"] == "rack")
    assert volume == {
        "name": "rack",
        "downwardAPI": {
            "items": [{"path": names.RACK_FILE, "fieldRef": {"fieldPath": "metadata.annotations['kco.dev/rack']"}}]
        },
    }
    init, connect = container("init", rack={}), container("connect", rack={})
    assert {"name": "rack", "mountPath": names.RACK_DIR, "readOnly": True} in init["volumeMounts"]
    assert not any(m["name"] == "rack" for m in connect["volumeMounts"])
    args = init["args"]
    assert args[args.index("--rack-file") + 1] == f"{names.RACK_DIR}/{names.RACK_FILE}"
    # The rack is per Pod, so it is not in the shared worker properties; the init step adds it.
    assert "consumer.client.rack" not in workerconfig.worker_properties(spec(rack={}), "orders")
    # Workers still get no Kubernetes API access: the operator reads the Node for them.
    assert "automountServiceAccountToken" not in template["spec"]
    assert objects(rack={})["ServiceAccount"]["automountServiceAccountToken"] is False


def test_a_static_consumer_rack_is_refused_only_alongside_spec_rack() -> None:
    assert spec(config={"consumer.client.rack": "a"}).config["consumer.client.rack"] == "a"
    with pytest.raises(ValidationError, match=r"consumer\.client\.rack"):
        spec(rack={}, config={"consumer.client.rack": "a"})


@pytest.mark.parametrize(
    ("authentication", "needs"),
    [
        ({"type": "tls"}, "certificateAndKey"),
        ({"type": "plain", "username": "u"}, "username and passwordSecret"),
        ({"type": "scram-sha-512", "passwordSecret": {"secretName": "s", "key": "k"}}, "username and passwordSecret"),
    ],
)
def test_authentication_without_its_credentials_is_refused(authentication: dict[str, Any], needs: str) -> None:
    with pytest.raises(ValidationError, match=needs):
        spec(authentication=authentication)


def test_without_jvm_options_the_heap_follows_the_memory_limit_not_connects_2g_default() -> None:
    limited = container("connect", resources={"limits": {"memory": "1Gi"}})
    env = {e["name"]: e.get("value") for e in limited["env"]}
    assert env["KAFKA_HEAP_OPTS"] == "-XX:MaxRAMPercentage=75.0 -XX:InitialRAMPercentage=37.5"
    unlimited = {e["name"] for e in container("connect")["env"]}
    assert "KAFKA_HEAP_OPTS" not in unlimited, "no limit: Connect's own default"
    explicit = container("connect", resources={"limits": {"memory": "1Gi"}}, jvmOptions={"xmx": "512m"})
    assert {e["name"]: e.get("value") for e in explicit["env"]}["KAFKA_HEAP_OPTS"] == "-Xmx512m"


def _group_of(rendered: cluster.Rendered) -> str:
    return rendered.worker_properties["group.id"]


def test_a_new_cluster_runs_as_a_group_named_after_its_namespace_and_name() -> None:
    assert _group_of(cluster.render(REF, spec(), IMAGE)) == "data.orders"
    same_name_elsewhere = ClusterRef(name="orders", namespace="web", uid="uid-2")
    assert _group_of(cluster.render(same_name_elsewhere, spec(), IMAGE)) == "web.orders"


def test_the_group_a_cluster_runs_as_names_its_internal_topics() -> None:
    props = cluster.render(REF, spec(), IMAGE, group_id="orders").worker_properties
    assert (props["group.id"], props["config.storage.topic"], props["status.storage.topic"]) == (
        "orders",
        "orders-configs",
        "orders-status",
    )


def test_the_init_container_reports_its_failure_through_its_termination_message() -> None:
    init = container("init")
    assert init["terminationMessagePolicy"] == "FallbackToLogsOnError"
    args = init["args"]
    # The init step writes where the kubelet reads.
    assert args[args.index("--termination-message-path") + 1] == init["terminationMessagePath"]


def test_plugin_downloads_are_cached_outside_plugin_path_and_only_the_init_container_sees_them() -> None:
    init, connect = container("init"), container("connect")
    cache = init["args"][init["args"].index("--plugin-cache-dir") + 1]
    assert not (cache + "/").startswith(names.PLUGIN_DIR.rstrip("/") + "/")
    assert {"name": "plugin-cache", "mountPath": cache} in init["volumeMounts"]
    assert "plugin-cache" not in {m["name"] for m in connect["volumeMounts"]}
    assert {"name": "plugin-cache", "emptyDir": {}} in pod()["spec"]["volumes"]


def test_the_init_container_takes_resources_env_and_mounts_from_its_template() -> None:
    proxy = [
        {"name": "HTTPS_PROXY", "value": "http://proxy.corp:3128"},
        {"name": "NO_PROXY", "value": ".svc,.cluster.local"},
        {"name": "SSL_CERT_FILE", "value": "/etc/corp-ca/ca.crt"},
    ]
    fields = {
        "template": {
            "pod": {"volumes": [{"name": "corp-ca", "configMap": {"name": "corp-ca"}}]},
            "initContainer": {
                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                "env": proxy,
                "volumeMounts": [{"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True}],
            },
        }
    }
    init, connect = container("init", **fields), container("connect", **fields)
    assert init["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}
    assert init["env"][0]["name"] == "POD_IP" and init["env"][1:] == proxy
    assert {"name": "corp-ca", "mountPath": "/etc/corp-ca", "readOnly": True} in init["volumeMounts"]
    # The Connect container keeps its own: the proxy is for downloads, not for Kafka or the REST API.
    assert "resources" not in connect and not {e["name"] for e in connect["env"]} & {"HTTPS_PROXY", "NO_PROXY"}
    assert "resources" not in container("init")
