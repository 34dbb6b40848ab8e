"""The worker properties a KafkaConnect asks for. Secrets appear only as config-provider placeholders.

Connect resolves a connector's placeholders with the very providers the worker configures, so each
provider is confined by `allowed.paths` to the Secrets it is for: a connector config naming any other
file gets its placeholder back unresolved (the worker logs "The path ... is not allowed to be accessed").

`rest.advertised.host.name` is left to the init container, which knows the Pod's IP.
"""

from __future__ import annotations

from connect_operator.api.v1alpha1.kafkaconnect import PROBE_PORT, REST_PORT, KafkaAuthentication, KafkaConnectSpec
from connect_operator.render import names

# Security settings go to the worker's own clients and to those it makes for connectors.
_CLIENT_PREFIXES = ("", "producer.", "consumer.", "admin.")
SASL_MECHANISMS = {"scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512", "plain": "PLAIN"}
_LOGIN_MODULES = {
    "scram-sha-256": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "scram-sha-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "plain": "org.apache.kafka.common.security.plain.PlainLoginModule",
}
DIRECTORY_PROVIDER = "org.apache.kafka.common.config.provider.DirectoryConfigProvider"
TRUSTSTORE_FILE = f"{names.CONFIG_DIR}/kafka-ca.pem"
KEYSTORE_FILE = f"{names.CONFIG_DIR}/kafka-client.pem"
REST_KEYSTORE_FILE = f"{names.CONFIG_DIR}/rest-keystore.p12"
REST_TRUSTSTORE_FILE = f"{names.CONFIG_DIR}/rest-truststore.p12"


# Defaults for workers in a Deployment, which spec.config may override. Connect holds a departed worker's
# connectors and tasks for scheduled.rebalance.max.delay.ms (5 minutes by default) in case it comes
# back. A Deployment's replacement Pod is a new worker, never the one that left, and in a roll the last
# old worker's tasks would wait out the whole delay: with 0 they move at the rebalance its leaving starts.
ROLLING_DEFAULTS = {"scheduled.rebalance.max.delay.ms": "0"}
# A standalone worker writes its offsets file every offset.flush.interval.ms (60 s by default) and when it
# stops: a crash re-sends what was produced since the last write. Kafka's own connect-standalone.properties
# uses 10 s; spec.config may change it.
STANDALONE_DEFAULTS = {"offset.flush.interval.ms": "10000"}


def default_group_id(namespace: str, name: str) -> str:
    # A namespace is a DNS label and has no dot, so "<namespace>.<name>" never collides across namespaces.
    return f"{namespace}.{name}"


def internal_topic_names(spec: KafkaConnectSpec, group: str) -> tuple[str, str, str]:
    """The internal topics of a cluster that runs as Connect group `group`."""
    topics = spec.internal_topics
    return (
        topics.config.name or f"{group}-configs",
        topics.offset.name or f"{group}-offsets",
        topics.status.name or f"{group}-status",
    )


def placeholder(secret: str, key: str, root: str, provider: str = names.CONFIG_PROVIDER) -> str:
    return f"${{{provider}:{root}/{secret}:{key}}}"


def config_provider_properties(secrets_root: str | None, worker_secret_dirs: tuple[str, ...] = ()) -> dict[str, str]:
    """The config providers and the only directories each may read (Connect: comma-separated, and a path
    is inside one when it is under it component by component, after `..` is resolved).

    A worker stops at start when an allowed path does not exist, so each provider comes only with a
    directory the Pod mounts: `dir` with exposed Secrets (`secrets_root`), `kcoworker` with a password.
    """
    allowed: dict[str, str] = {}
    if secrets_root:
        allowed[names.CONFIG_PROVIDER] = secrets_root
    if worker_secret_dirs:
        allowed[names.WORKER_CONFIG_PROVIDER] = ",".join(worker_secret_dirs)
    if not allowed:
        return {}
    properties = {"config.providers": ",".join(allowed)}
    for provider, paths in allowed.items():
        properties[f"config.providers.{provider}.class"] = DIRECTORY_PROVIDER
        properties[f"config.providers.{provider}.param.allowed.paths"] = paths
    return properties


def worker_secret_dirs(spec: KafkaConnectSpec) -> tuple[str, ...]:
    """The mounted Secrets the worker itself reads through a provider: its SASL password's, if any.

    A TLS client key is not among them: the init step copies it into the keystore the worker opens directly.
    """
    auth = spec.authentication
    if auth is None or auth.type not in SASL_MECHANISMS or auth.password_secret is None:
        return ()
    return (f"{names.KAFKA_AUTH_ROOT}/{auth.password_secret.secret_name}",)


def storage_properties(spec: KafkaConnectSpec, group: str | None) -> dict[str, str]:
    """Where the worker keeps its state: a group's internal topics, or (standalone) the offsets file."""
    if spec.standalone:
        return {"offset.storage.file.filename": names.OFFSETS_FILE, **STANDALONE_DEFAULTS}
    if group is None:
        raise ValueError("a distributed worker needs its group id")
    config_topic, offset_topic, status_topic = internal_topic_names(spec, group)
    topics = spec.internal_topics
    return {
        "group.id": group,
        "config.storage.topic": config_topic,
        "offset.storage.topic": offset_topic,
        "status.storage.topic": status_topic,
        "config.storage.replication.factor": str(topics.config.replication_factor),
        "offset.storage.replication.factor": str(topics.offset.replication_factor),
        "status.storage.replication.factor": str(topics.status.replication_factor),
        "offset.storage.partitions": str(topics.offset.partitions or 25),
        "status.storage.partitions": str(topics.status.partitions or 5),
        **ROLLING_DEFAULTS,
    }


def worker_properties(spec: KafkaConnectSpec, group: str | None) -> dict[str, str]:
    """`group`: the Connect group of a distributed cluster; None for a standalone one."""
    properties: dict[str, str] = {
        "bootstrap.servers": spec.bootstrap_servers,
        **storage_properties(spec, group),
        "key.converter": spec.converters.key,
        "value.converter": spec.converters.value,
        "listeners": listeners(spec),
        "rest.advertised.port": str(REST_PORT),
        "plugin.path": names.PLUGIN_DIR,
        **config_provider_properties(names.SECRETS_ROOT if spec.exposed_secrets else None, worker_secret_dirs(spec)),
    }
    properties.update(_security(spec))
    if spec.rest.tls is not None:
        properties.update(rest_tls_properties(REST_KEYSTORE_FILE, REST_TRUSTSTORE_FILE))
    properties.update({key: _string(value) for key, value in spec.config.items()})
    return properties


def listeners(spec: KafkaConnectSpec) -> str:
    if spec.rest.tls is None:
        return f"http://:{REST_PORT}"
    # The probes' plain listener binds the loopback only: the kubelet's exec probe runs inside the Pod.
    return f"https://:{REST_PORT},http://127.0.0.1:{PROBE_PORT}"


def rest_tls_properties(keystore: str, truststore: str) -> dict[str, str]:
    """HTTPS with client certificates required, for the REST server and for the client that forwards writes
    from a follower to the leader. Connect reads both from `listeners.https.ssl.*` alone once any key has
    that prefix (`valuesWithPrefixAllOrNothing`), so the Kafka clients' `ssl.*` never mix in. The stores'
    password is the init step's (a fresh one each start, in the final properties only).

    The forwarding client dials the leader's advertised URL, its Pod IP, which no certificate names:
    host-name checking is off for it, and trust rests on the CA (the operator's signs only this cluster).
    """
    return {
        "rest.advertised.listener": "https",
        "listeners.https.ssl.client.auth": "required",
        "listeners.https.ssl.keystore.type": "PKCS12",
        "listeners.https.ssl.keystore.location": keystore,
        "listeners.https.ssl.truststore.type": "PKCS12",
        "listeners.https.ssl.truststore.location": truststore,
        "listeners.https.ssl.endpoint.identification.algorithm": "",
    }


def security_protocol(spec: KafkaConnectSpec) -> str:
    """One answer for the workers and the operator's own admin client."""
    tls = spec.tls is not None
    auth = spec.authentication
    if auth is not None and auth.type in SASL_MECHANISMS:
        return "SASL_SSL" if tls else "SASL_PLAINTEXT"
    return "SSL" if tls or auth else "PLAINTEXT"


def _security(spec: KafkaConnectSpec) -> dict[str, str]:
    tls = spec.tls is not None
    auth = spec.authentication
    sasl = auth is not None and auth.type in SASL_MECHANISMS
    settings: dict[str, str] = {"security.protocol": security_protocol(spec)}
    if tls:
        settings.update({"ssl.truststore.type": "PEM", "ssl.truststore.location": TRUSTSTORE_FILE})
    if auth is not None and auth.type == "tls":
        settings.update({"ssl.keystore.type": "PEM", "ssl.keystore.location": KEYSTORE_FILE})
    if auth is not None and sasl:
        settings.update({"sasl.mechanism": SASL_MECHANISMS[auth.type], "sasl.jaas.config": _jaas(auth)})
    return {f"{prefix}{key}": value for prefix in _CLIENT_PREFIXES for key, value in settings.items()}


def _jaas(auth: KafkaAuthentication) -> str:
    password = ""
    if auth.password_secret is not None:
        ref = auth.password_secret
        password = placeholder(ref.secret_name, ref.key, names.KAFKA_AUTH_ROOT, names.WORKER_CONFIG_PROVIDER)
    return f'{_LOGIN_MODULES[auth.type]} required username="{auth.username or ""}" password="{password}";'


def log4j_properties(spec: KafkaConnectSpec) -> str:
    """log4j 1 syntax, as the Kafka 3.x image's connect-distributed.sh reads it."""
    lines = [
        f"log4j.rootLogger={spec.logging.root_level}, stdout",
        "log4j.appender.stdout=org.apache.log4j.ConsoleAppender",
        "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout",
        "log4j.appender.stdout.layout.ConversionPattern=[%d] %p %X{connector.context}%m (%c:%L)%n",
    ]
    lines += [f"log4j.logger.{logger}={level}" for logger, level in sorted(spec.logging.loggers.items())]
    return "\n".join(lines) + "\n"


def _string(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
