"""The worker Deployment: an init container from this project's image, then the Kafka image's Connect."""

from __future__ import annotations

import json
from typing import Any

from connect_operator.api.v1alpha1.kafkaconnect import PROBE_PORT, REST_PORT, KafkaConnectSpec
from connect_operator.render import names, storage, workerconfig
from connect_operator.render.names import ClusterRef

KAFKA_UID = 1000  # the apache/kafka image's appuser
# With a memory limit and no jvmOptions: the heap's share of the limit (the rest: metaspace, threads, buffers).
HEAP_PERCENT_OF_LIMIT = 75.0


def build_deployment(
    ref: ClusterRef, spec: KafkaConnectSpec, config_hash: str, operator_image: str, rest_certificate: str | None = None
) -> dict[str, Any]:
    template = spec.template.pod
    pod_labels = {**template.labels, **ref.labels()}
    pod_annotations = {**template.annotations, names.CONFIG_HASH_ANNOTATION: config_hash}
    if spec.rest.tls is not None and rest_certificate:
        pod_annotations[names.REST_CERTIFICATE_ANNOTATION] = rest_certificate
    if spec.rack:
        pod_annotations[names.RACK_KEY_ANNOTATION] = spec.rack.topology_key
    pod_spec: dict[str, Any] = {
        "serviceAccountName": ref.workers,
        "securityContext": template.security_context
        or {
            "runAsNonRoot": True,
            "runAsUser": KAFKA_UID,
            "runAsGroup": KAFKA_UID,
            "fsGroup": KAFKA_UID,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "initContainers": [_init_container(spec, operator_image)],
        "containers": [_connect_container(spec)],
        "volumes": _volumes(ref, spec) + _rest_tls_volume(ref, spec) + list(template.volumes),
    }
    if template.affinity:
        pod_spec["affinity"] = template.affinity
    if template.tolerations:
        pod_spec["tolerations"] = list(template.tolerations)
    if template.node_selector:
        pod_spec["nodeSelector"] = dict(template.node_selector)
    if template.priority_class_name:
        pod_spec["priorityClassName"] = template.priority_class_name
    if template.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": name} for name in template.image_pull_secrets]
    if template.topology_spread_constraints:
        pod_spec["topologySpreadConstraints"] = list(template.topology_spread_constraints)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": ref.metadata(ref.workers),
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": ref.selector_labels()},
            "strategy": _strategy(spec),
            "template": {"metadata": {"labels": pod_labels, "annotations": pod_annotations}, "spec": pod_spec},
        },
    }


def _strategy(spec: KafkaConnectSpec) -> dict[str, Any]:
    if spec.standalone:
        # One ReadWriteOnce offsets volume, and two standalone workers would both run every connector:
        # the old Pod is gone before the new one starts.
        return {"type": "Recreate"}
    # One new worker before an old one goes: the group keeps its capacity while rolling.
    return {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}


# A worker can serve once it has started (joined its group and read its config topic) and while its REST
# server answers. /health (Connect 3.9+) goes through the herder thread, which a rebalance keeps busy
# for seconds, so it only gates the start (startupProbe, up to 5 minutes) and catches a herder stuck
# for a minute or more (livenessProbe). GET / (RootResource: version, commit, Kafka cluster id) answers
# without the herder, so readiness, and with it the Service and the KafkaConnect's Ready, rides out
# the rebalances every connector create or delete causes.
#
# With client certificates required, the kubelet's httpGet (which presents none) would fail every time. So
# the probes ask the same paths of a plain listener bound to the Pod's loopback (PROBE_PORT), from inside
# the container: an exec probe, in bash alone (the Kafka image's start scripts need it; it has no curl).
def probes(rest_tls: bool = False) -> dict[str, dict[str, Any]]:
    """The Connect container's startup, readiness and liveness probes (fresh dicts on every call)."""
    if rest_tls:
        return {
            "startupProbe": _exec_probe("/health", period=3, timeout=3, failures=100),
            "readinessProbe": _exec_probe("/", period=5, timeout=3, failures=3),
            "livenessProbe": _exec_probe("/health", period=10, timeout=10, failures=6),
        }
    return {
        "startupProbe": _http_probe("/health", period=3, timeout=3, failures=100),
        "readinessProbe": _http_probe("/", period=5, timeout=3, failures=3),
        "livenessProbe": _http_probe("/health", period=10, timeout=10, failures=6),
    }


def _http_probe(path: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "rest"},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


# GET $3 of $1:$2; exit 0 only on an HTTP 200 status line. /dev/tcp is bash's own, no binary needed.
PROBE_SCRIPT = (
    'exec 3<>"/dev/tcp/$1/$2" && printf "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" "$3" >&3 '
    '&& read -r _ code _ <&3 && [ "$code" = 200 ]'
)


def _exec_probe(path: str, *, period: int, timeout: int, failures: int) -> dict[str, Any]:
    command = ["bash", "-c", PROBE_SCRIPT, "probe", "127.0.0.1", str(PROBE_PORT), path]
    return {
        "exec": {"command": command},
        "periodSeconds": period,
        "timeoutSeconds": timeout,
        "failureThreshold": failures,
    }


_HARDENED = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "capabilities": {"drop": ["ALL"]}}


def init_arguments(spec: KafkaConnectSpec) -> list[str]:
    args = [
        "init",
        "--template",
        f"{names.TEMPLATE_DIR}/{names.WORKER_PROPERTIES}",
        "--output",
        f"{names.CONFIG_DIR}/{names.WORKER_PROPERTIES}",
        "--plugin-dir",
        names.PLUGIN_DIR,
        "--plugin-cache-dir",
        names.PLUGIN_CACHE_DIR,
        "--termination-message-path",
        names.TERMINATION_MESSAGE_PATH,
    ]
    if spec.plugins:
        args += ["--plugins", json.dumps([p.model_dump(by_alias=True) for p in spec.plugins], separators=(",", ":"))]
    if spec.rack:
        args += ["--rack-file", f"{names.RACK_DIR}/{names.RACK_FILE}"]
    if spec.tls:
        for cert in spec.tls.trusted_certificates:
            args += ["--trust", f"{names.KAFKA_TLS_ROOT}/{cert.secret_name}/{cert.certificate}"]
        args += ["--truststore", workerconfig.TRUSTSTORE_FILE]
    if spec.rest.tls is not None:
        args += [
            "--rest-cert",
            f"{names.REST_TLS_DIR}/tls.crt",
            "--rest-key",
            f"{names.REST_TLS_DIR}/tls.key",
            "--rest-ca",
            f"{names.REST_TLS_DIR}/ca.crt",
            "--rest-keystore",
            workerconfig.REST_KEYSTORE_FILE,
            "--rest-truststore",
            workerconfig.REST_TRUSTSTORE_FILE,
        ]
    auth = spec.authentication
    if auth and auth.type == "tls" and auth.certificate_and_key:
        pair = auth.certificate_and_key
        base = f"{names.KAFKA_AUTH_ROOT}/{pair.secret_name}"
        args += [
            "--client-cert",
            f"{base}/{pair.certificate}",
            "--client-key",
            f"{base}/{pair.key}",
            "--keystore",
            workerconfig.KEYSTORE_FILE,
        ]
    return args


def _init_container(spec: KafkaConnectSpec, operator_image: str) -> dict[str, Any]:
    template = spec.template.init_container
    container: dict[str, Any] = {
        "name": "init",
        "image": operator_image,
        "command": ["python", "-m", "connect_worker"],
        "args": init_arguments(spec),
        "env": [
            {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            *template.env,
        ],
        # The init step writes `<Reason>: <message>` there on a failure it knows; on any other (a crash),
        # the kubelet takes the log's tail instead: either way the operator can report why.
        "terminationMessagePath": names.TERMINATION_MESSAGE_PATH,
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "securityContext": _HARDENED,
        "volumeMounts": [
            *_mounts(spec),
            *([{"name": REST_TLS_VOLUME, "mountPath": names.REST_TLS_DIR, "readOnly": True}] if spec.rest.tls else []),
            {"name": "plugins", "mountPath": names.PLUGIN_DIR},
            {"name": "plugin-cache", "mountPath": names.PLUGIN_CACHE_DIR},
            *([{"name": "rack", "mountPath": names.RACK_DIR, "readOnly": True}] if spec.rack else []),
            *template.volume_mounts,
        ],
    }
    if template.resources:
        container["resources"] = template.resources.model_dump(exclude_none=True)
    return container


def _connect_container(spec: KafkaConnectSpec) -> dict[str, Any]:
    jvm = spec.jvm_options
    sizes = (("ms", jvm.xms), ("mx", jvm.xmx)) if jvm else ()
    heap = " ".join(f"-X{flag}{value}" for flag, value in sizes if value)
    limits = spec.resources.limits if spec.resources else None
    if not heap and limits is not None and limits.memory:
        # Connect's start script would use -Xmx2G whatever the limit (OOMKilled under a 1Gi one): size the
        # heap from the container's own memory limit instead, leaving room for metaspace and buffers.
        heap = f"-XX:MaxRAMPercentage={HEAP_PERCENT_OF_LIMIT} -XX:InitialRAMPercentage={HEAP_PERCENT_OF_LIMIT / 2}"
    env = [
        {
            "name": "KAFKA_LOG4J_OPTS",
            "value": f"-Dlog4j.configuration=file:{names.TEMPLATE_DIR}/{names.LOG4J_PROPERTIES}",
        },
        {"name": "LOG_DIR", "value": "/tmp/kafka-logs"},
    ]
    if heap:
        env.append({"name": "KAFKA_HEAP_OPTS", "value": heap})
    if jvm and jvm.options:
        env.append({"name": "KAFKA_OPTS", "value": " ".join(jvm.options)})
    container: dict[str, Any] = {
        "name": "connect",
        "image": spec.image,
        "command": [connect_script(spec), f"{names.CONFIG_DIR}/{names.WORKER_PROPERTIES}"],
        "env": env + list(spec.template.pod.env),
        "ports": [{"name": "rest", "containerPort": REST_PORT, "protocol": "TCP"}],
        **probes(rest_tls=spec.rest.tls is not None),
        "securityContext": _HARDENED,
        "volumeMounts": [
            *_mounts(spec),
            {"name": "plugins", "mountPath": names.PLUGIN_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
            *([{"name": storage.OFFSETS_VOLUME, "mountPath": names.OFFSETS_DIR}] if spec.standalone else []),
            *spec.template.pod.volume_mounts,
        ],
    }
    if spec.resources:
        container["resources"] = spec.resources.model_dump(exclude_none=True)
    return container


def connect_script(spec: KafkaConnectSpec) -> str:
    """The Kafka image's start script; the pod runner starts the same mode from it."""
    return f"/opt/kafka/bin/connect-{spec.mode}.sh"


def _secret_volumes(spec: KafkaConnectSpec) -> list[tuple[str, str, str]]:
    """(volume name, Secret, mount path) for every Secret the workers read."""
    found: dict[str, tuple[str, str, str]] = {}
    for secret in spec.exposed_secrets:
        found[f"exposed-{secret}"] = (f"exposed-{secret}", secret, f"{names.SECRETS_ROOT}/{secret}")
    if spec.tls:
        for cert in spec.tls.trusted_certificates:
            name = f"tls-{cert.secret_name}"
            found[name] = (name, cert.secret_name, f"{names.KAFKA_TLS_ROOT}/{cert.secret_name}")
    auth = spec.authentication
    referenced = [auth.password_secret.secret_name] if auth and auth.password_secret else []
    referenced += [auth.certificate_and_key.secret_name] if auth and auth.certificate_and_key else []
    for secret in referenced:
        found[f"auth-{secret}"] = (f"auth-{secret}", secret, f"{names.KAFKA_AUTH_ROOT}/{secret}")
    return list(found.values())


def _volumes(ref: ClusterRef, spec: KafkaConnectSpec) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = [
        {"name": "template", "configMap": {"name": ref.config_map}},
        {"name": "config", "emptyDir": {}},
        {"name": "plugins", "emptyDir": {}},
        {"name": "plugin-cache", "emptyDir": {}},
        {"name": "tmp", "emptyDir": {}},
    ]
    volumes += [_secret_volume(v, s, spec) for v, s, _ in _secret_volumes(spec)]
    if spec.standalone:
        volumes.append(storage.offsets_volume(ref))
    if spec.rack:
        # The kubelet rewrites this file when the annotation appears, so the init step can wait on it.
        annotation = f"metadata.annotations['{names.RACK_ANNOTATION}']"
        volumes.append(
            {
                "name": "rack",
                "downwardAPI": {"items": [{"path": names.RACK_FILE, "fieldRef": {"fieldPath": annotation}}]},
            }
        )
    return volumes


REST_TLS_VOLUME = "rest-tls"


def rest_tls_secret(ref: ClusterRef, spec: KafkaConnectSpec) -> str | None:
    """The Secret the workers' REST certificate comes from: the user's, else the one the operator issues."""
    if spec.rest.tls is None:
        return None
    return spec.rest.tls.secret_name or ref.rest_tls_secret


def _rest_tls_volume(ref: ClusterRef, spec: KafkaConnectSpec) -> list[dict[str, Any]]:
    """Only the init container mounts it: the stores it writes are what the worker opens."""
    secret = rest_tls_secret(ref, spec)
    if secret is None:
        return []
    return [{"name": REST_TLS_VOLUME, "secret": {"secretName": secret, "defaultMode": 0o440}}]


def _secret_volume(volume: str, secret: str, spec: KafkaConnectSpec) -> dict[str, Any]:
    """Exposed Secrets are optional: one deleted must not keep every new Pod from starting, when only the
    connectors using it need it. The Kafka credentials stay required: no worker runs without them."""
    source: dict[str, Any] = {"secretName": secret, "defaultMode": 0o440}
    if volume == f"exposed-{secret}" and secret in spec.exposed_secrets:
        source["optional"] = True
    return {"name": volume, "secret": source}


def _mounts(spec: KafkaConnectSpec) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = [
        {"name": "template", "mountPath": names.TEMPLATE_DIR, "readOnly": True},
        {"name": "config", "mountPath": names.CONFIG_DIR},
    ]
    mounts += [{"name": v, "mountPath": path, "readOnly": True} for v, _, path in _secret_volumes(spec)]
    return mounts
