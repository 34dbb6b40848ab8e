"""The KafkaConnect resource: a Kafka Connect cluster, rendered into worker Deployments and their companions."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connect_operator.api.v1alpha1.common import Condition, SecretKey, Spec
from connect_operator.api.v1alpha1.connector import TASKS_MAX_CEILING, AutoRestartPolicy
from connect_worker import properties

DEFAULT_KAFKA_VERSION = "3.9.1"
DEFAULT_IMAGE = f"apache/kafka:{DEFAULT_KAFKA_VERSION}"
REST_PORT = 8083
# With spec.rest.tls: a plain listener on the Pod's loopback, for the probes alone (they cannot present a
# client certificate); nothing outside the Pod reaches it.
PROBE_PORT = 8084
DEFAULT_MAX_TASKS_PER_CONNECTOR = 100

# Worker keys the operator sets from dedicated fields; in `config` they would fight with them: the
# worker's identity, and what the operator derives from internalTopics, converters, tls and authentication.
OWNED_WORKER_KEYS: frozenset[str] = properties.IDENTITY_KEYS | frozenset(
    {
        "config.storage.replication.factor",
        "offset.storage.replication.factor",
        "status.storage.replication.factor",
        "offset.storage.partitions",
        "status.storage.partitions",
        "rest.advertised.listener",
        "config.providers",
        "key.converter",
        "value.converter",
        "security.protocol",
        "offset.storage.file.filename",
    }
)
OWNED_WORKER_PREFIXES: tuple[str, ...] = (
    "ssl.",
    "sasl.",
    "config.providers.",
    "producer.security.",
    "consumer.security.",
)


class InternalTopic(Spec):
    name: str | None = Field(default=None, description="Topic name; default <groupId>-configs|-offsets|-status.")
    replication_factor: int = Field(default=3, ge=1, alias="replicationFactor", description="Replicas of the topic.")
    partitions: int | None = Field(default=None, ge=1, description="Offsets and status topics only (config: 1).")


class InternalTopics(Spec):
    config: InternalTopic = Field(default_factory=InternalTopic, description="Where connector configs live.")
    offset: InternalTopic = Field(default_factory=InternalTopic, description="Where source offsets live.")
    status: InternalTopic = Field(default_factory=InternalTopic, description="Where statuses live.")


class Converters(Spec):
    key: str = Field(default="org.apache.kafka.connect.json.JsonConverter", description="key.converter class.")
    value: str = Field(default="org.apache.kafka.connect.json.JsonConverter", description="value.converter class.")


class TrustedCertificate(Spec):
    secret_name: str = Field(alias="secretName", min_length=1, description="Secret holding a PEM certificate.")
    certificate: str = Field(default="ca.crt", description="Key of the PEM certificate in the Secret.")


class KafkaTls(Spec):
    trusted_certificates: list[TrustedCertificate] = Field(
        default_factory=list, alias="trustedCertificates", description="CA certificates to trust for Kafka."
    )


class CertificateAndKey(Spec):
    secret_name: str = Field(alias="secretName", min_length=1, description="Secret with the client certificate.")
    certificate: str = Field(default="tls.crt", description="Key of the PEM certificate.")
    key: str = Field(default="tls.key", description="Key of the PEM private key.")


class KafkaAuthentication(Spec):
    type: Literal["tls", "scram-sha-256", "scram-sha-512", "plain"] = Field(description="How workers authenticate.")
    username: str | None = Field(default=None, description="For scram-sha-* and plain.")
    password_secret: SecretKey | None = Field(
        default=None, alias="passwordSecret", description="For scram-sha-* and plain: where the password is."
    )
    certificate_and_key: CertificateAndKey | None = Field(
        default=None, alias="certificateAndKey", description="For tls: the client certificate."
    )

    @model_validator(mode="after")
    def _credentials_for_the_type(self) -> KafkaAuthentication:
        if self.type == "tls" and self.certificate_and_key is None:
            raise ValueError("type tls needs certificateAndKey")
        if self.type != "tls" and (not self.username or self.password_secret is None):
            raise ValueError(f"type {self.type} needs username and passwordSecret")
        return self


class RestTls(Spec):
    secret_name: str | None = Field(
        default=None,
        alias="secretName",
        min_length=1,
        description="A kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt): the certificate the workers serve and "
        "present to each other and the operator presents to them (it must allow serverAuth and clientAuth and name "
        "the Service, <name>-connect-api.<namespace>.svc); clients must chain to ca.crt. Unset: the operator issues "
        "one from a CA of the cluster's own (Secrets <name>-connect-rest-ca and <name>-connect-rest-tls) and renews "
        "it before it expires.",
    )


class Rest(Spec):
    tls: RestTls | None = Field(
        default=None,
        description="HTTPS with client certificates required (listeners.https.ssl.client.auth=required). Unset: "
        "plain HTTP.",
    )


class PluginArtifact(Spec):
    url: str = Field(pattern=r"^https?://", description="Where to download the artifact (http or https).")
    sha512: str = Field(pattern=r"^[0-9a-f]{128}$", description="SHA-512 of the artifact, lower-case hex.")
    type: Literal["jar", "tgz", "zip"] = Field(description="jar is copied; tgz and zip are unpacked.")


class Plugin(Spec):
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", description="Folder name under plugin.path.")
    artifacts: list[PluginArtifact] = Field(min_length=1, description="Files making up the plugin.")


# A Kubernetes quantity: a decimal number, then a binary (Ki..Ei) or decimal (n, u, m, k, M..E) suffix or
# an exponent. "1GiB" or "2 Gi" would pass a string field and fail only when the Deployment is applied.
QUANTITY_PATTERN = r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$"


class ResourceList(Spec):
    cpu: str | None = Field(default=None, pattern=QUANTITY_PATTERN, description="CPU, e.g. 500m.")
    memory: str | None = Field(default=None, pattern=QUANTITY_PATTERN, description="Memory, e.g. 2Gi.")


class Resources(Spec):
    requests: ResourceList | None = Field(default=None, description="Requested resources.")
    limits: ResourceList | None = Field(default=None, description="Resource limits.")


class JvmOptions(Spec):
    xms: str | None = Field(default=None, pattern=r"^[0-9]+[kKmMgG]?$", description="-Xms, e.g. 512m.")
    xmx: str | None = Field(default=None, pattern=r"^[0-9]+[kKmMgG]?$", description="-Xmx, e.g. 2g.")
    options: list[str] = Field(default_factory=list, description="Further JVM options, passed as given.")


class Logging(Spec):
    root_level: Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] = Field(
        default="INFO", alias="rootLevel", description="The root logger's level."
    )
    loggers: dict[str, Literal["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]] = Field(
        default_factory=dict, description="Logger name → level."
    )


class OffsetStorage(Spec):
    size: str = Field(default="1Gi", pattern=QUANTITY_PATTERN, description="Requested size of the volume.")
    storage_class_name: str | None = Field(
        default=None,
        alias="storageClassName",
        min_length=1,
        description="StorageClass of the claim; unset: the cluster's default.",
    )


class Rack(Spec):
    topology_key: str = Field(
        default="topology.kubernetes.io/zone",
        alias="topologyKey",
        min_length=1,
        description="Node label whose value becomes consumer.client.rack; a Pod on a Node without it waits.",
    )


FreeForm = dict[str, Any]


class PodTemplate(Spec):
    labels: dict[str, str] = Field(default_factory=dict, description="Extra Pod labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Extra Pod annotations.")
    affinity: FreeForm | None = Field(default=None, description="A Kubernetes Affinity.")
    tolerations: list[FreeForm] = Field(default_factory=list, description="Kubernetes Tolerations.")
    node_selector: dict[str, str] = Field(
        default_factory=dict, alias="nodeSelector", description="Node labels the worker Pods must run on."
    )
    priority_class_name: str | None = Field(
        default=None, alias="priorityClassName", description="The worker Pods' PriorityClass."
    )
    image_pull_secrets: list[str] = Field(
        default_factory=list,
        alias="imagePullSecrets",
        description="Names of Secrets to pull the Kafka and operator images with (private registries).",
    )
    topology_spread_constraints: list[FreeForm] = Field(
        default_factory=list, alias="topologySpreadConstraints", description="Kubernetes TopologySpreadConstraints."
    )
    security_context: FreeForm | None = Field(
        default=None, alias="securityContext", description="A PodSecurityContext, replacing the default."
    )
    env: list[FreeForm] = Field(default_factory=list, description="Extra EnvVars for the Connect container.")
    volumes: list[FreeForm] = Field(default_factory=list, description="Extra Volumes.")
    volume_mounts: list[FreeForm] = Field(
        default_factory=list, alias="volumeMounts", description="Extra VolumeMounts for the Connect container."
    )


class InitContainerTemplate(Spec):
    """The init container fetches plugins: behind a proxy it needs that proxy's settings and maybe its CA."""

    resources: Resources | None = Field(default=None, description="The init container's resources.")
    env: list[FreeForm] = Field(
        default_factory=list,
        description="Extra EnvVars for the init container, e.g. HTTPS_PROXY, NO_PROXY, SSL_CERT_FILE (a CA bundle).",
    )
    volume_mounts: list[FreeForm] = Field(
        default_factory=list,
        alias="volumeMounts",
        description="Extra VolumeMounts for the init container (of template.pod.volumes), e.g. a CA bundle.",
    )


class Template(Spec):
    pod: PodTemplate = Field(default_factory=PodTemplate, description="The worker Pods.")
    init_container: InitContainerTemplate = Field(
        default_factory=InitContainerTemplate,
        alias="initContainer",
        description="The init container that fetches plugins and writes the worker configuration.",
    )


class KafkaConnectSpec(Spec):
    mode: Literal["distributed", "standalone"] = Field(
        default="distributed",
        description="distributed: a Connect group, its state in three internal topics. standalone: one "
        "worker, connectors in memory (the operator creates them again after a restart) and source offsets in "
        "a file on a PersistentVolumeClaim (offsetStorage); replicas 0 or 1, no groupId or internalTopics.",
    )
    replicas: int = Field(default=1, ge=0, description="Number of Connect workers (standalone: 0 or 1).")
    image: str = Field(
        default=DEFAULT_IMAGE,
        min_length=1,
        pattern=r"^\S+$",
        description="An Apache Kafka image with bin/connect-distributed.sh (and connect-standalone.sh).",
    )
    version: str = Field(default=DEFAULT_KAFKA_VERSION, description="Kafka version of the image.")
    bootstrap_servers: str = Field(alias="bootstrapServers", min_length=1, description="Kafka bootstrap servers.")
    group_id: str | None = Field(
        default=None,
        alias="groupId",
        min_length=1,
        description="Connect group id. Default: <namespace>.<name> for a new cluster; a cluster already running "
        "keeps the id it runs with (status.groupId). A group another KafkaConnect or a live Connect cluster "
        "holds on the same Kafka is refused (GroupIdConflict, GroupIdInUse).",
    )
    internal_topics: InternalTopics = Field(
        default_factory=InternalTopics, alias="internalTopics", description="The three internal topics."
    )
    offset_storage: OffsetStorage | None = Field(
        default=None,
        alias="offsetStorage",
        description="mode standalone: the PersistentVolumeClaim holding the offsets file (default 1Gi).",
    )
    config: dict[str, str | int | float | bool] = Field(
        default_factory=dict, description="Further worker properties (keys the operator owns are refused)."
    )
    converters: Converters = Field(default_factory=Converters, description="Default key and value converters.")
    tls: KafkaTls | None = Field(default=None, description="TLS to Kafka.")
    authentication: KafkaAuthentication | None = Field(default=None, description="Authentication to Kafka.")
    plugins: list[Plugin] = Field(default_factory=list, description="Connector plugins fetched by the init container.")
    exposed_secrets: list[str] = Field(
        default_factory=list,
        alias="exposedSecrets",
        description="Secrets connectors may reference (valueFrom.secretKeyRef); mounted read-only for "
        "Kafka's DirectoryConfigProvider.",
    )
    resources: Resources | None = Field(default=None, description="The Connect container's resources.")
    jvm_options: JvmOptions | None = Field(default=None, alias="jvmOptions", description="JVM heap and options.")
    logging: Logging = Field(default_factory=Logging, description="Log levels.")
    rack: Rack | None = Field(
        default=None,
        description="Rack awareness: consumer.client.rack from each worker's Node label, copied by the operator "
        "into the Pod's kco.dev/rack annotation (workers get no Kubernetes API access).",
    )
    template: Template = Field(default_factory=Template, description="Pod customisation.")
    rest: Rest = Field(default_factory=Rest, description="The workers' REST API.")
    unmanaged_connectors: Literal["ignore", "report", "delete", "adopt"] = Field(
        default="ignore",
        alias="unmanagedConnectors",
        description="Connectors in Connect without a Connector resource: ignore, report (listed in status, "
        "with an Event), delete, or adopt (a Connector of the same name takes it over, with no restart when "
        "the config matches; otherwise such a Connector is refused rather than taking it over).",
    )
    max_tasks_per_connector: int = Field(
        default=DEFAULT_MAX_TASKS_PER_CONNECTOR,
        ge=1,
        le=TASKS_MAX_CEILING,
        alias="maxTasksPerConnector",
        description="The largest tasksMax a Connector of this cluster may ask for; a larger one is refused "
        "(TasksMaxExceeded) before it reaches Connect, so one typo cannot flood the group with tasks.",
    )
    auto_restart: AutoRestartPolicy = Field(
        default_factory=AutoRestartPolicy, alias="autoRestart", description="Default auto-restart for Connectors."
    )

    @field_validator("config")
    @classmethod
    def _no_owned_keys(cls, config: dict[str, Any]) -> dict[str, Any]:
        owned = sorted(k for k in config if k in OWNED_WORKER_KEYS or k.startswith(OWNED_WORKER_PREFIXES))
        if owned:
            raise ValueError(
                f"config may not set {', '.join(owned)}: the operator sets them from bootstrapServers, groupId, "
                "internalTopics, converters, tls, authentication and exposedSecrets"
            )
        return config

    @property
    def standalone(self) -> bool:
        return self.mode == "standalone"

    @model_validator(mode="after")
    def _fields_of_the_mode(self) -> KafkaConnectSpec:
        if not self.standalone:
            if self.offset_storage is not None:
                raise ValueError("offsetStorage is for mode standalone; distributed workers keep offsets in a topic")
            return self
        # One offsets file on one ReadWriteOnce volume: a second worker would be a second, separate
        # Connect with the same connectors, each producing every record.
        if self.replicas > 1:
            raise ValueError(f"mode standalone runs one worker: replicas must be 0 or 1, not {self.replicas}")
        unused = [
            alias
            for name, alias in (("group_id", "groupId"), ("internal_topics", "internalTopics"))
            if name in self.model_fields_set
        ]
        if unused:
            raise ValueError(f"mode standalone has no Connect group: {' and '.join(unused)} cannot be set")
        return self

    @model_validator(mode="after")
    def _rest_tls_not_set_twice(self) -> KafkaConnectSpec:
        owned = sorted(key for key in self.config if key.startswith("listeners.https."))
        if self.rest.tls is not None and owned:
            raise ValueError(f"config may not set {', '.join(owned)} when spec.rest.tls is set: the operator sets them")
        return self

    @model_validator(mode="after")
    def _rack_not_set_twice(self) -> KafkaConnectSpec:
        if self.rack is not None and "consumer.client.rack" in self.config:
            raise ValueError("config may not set consumer.client.rack when spec.rack is set: it comes from the Node")
        return self


class ConnectorPluginStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    class_name: str = Field(alias="class", description="Plugin class.")
    type: str = Field(default="", description="source, sink, transformation, ...")
    version: str = Field(default="", description="Plugin version.")


class KafkaConnectStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Ready (at least one worker serves), Stalled (a problem only a change can clear), "
        "Reconciling (a reconcile or rollout under way; Progressing says the same), Degraded (serving, "
        "short of what was asked).",
    )
    observed_generation: int | None = Field(
        default=None,
        alias="observedGeneration",
        description="The generation the operator last acted on: applied, or refused with Stalled=True.",
    )
    replicas: int = Field(default=0, description="Worker Pods.")
    ready_replicas: int = Field(default=0, alias="readyReplicas", description="Ready worker Pods.")
    url: str | None = Field(default=None, description="The REST API's in-cluster URL.")
    connector_plugins: list[ConnectorPluginStatus] = Field(
        default_factory=list, alias="connectorPlugins", description="Plugins the workers offer."
    )
    label_selector: str | None = Field(default=None, alias="labelSelector", description="For the scale subresource.")
    unmanaged_connectors: list[str] | None = Field(
        default=None,
        alias="unmanagedConnectors",
        description="With spec.unmanagedConnectors: report, the connectors in Connect that no Connector declares.",
    )
    leftover_connectors: list[str] | None = Field(
        default=None,
        alias="leftoverConnectors",
        description="Connectors whose resource was deleted while Connect was unreachable; deleted from Connect "
        "by the next sync that reaches it.",
    )
    connect_version: str | None = Field(
        default=None,
        alias="connectVersion",
        description="Kafka Connect's version, as a ready worker reports it (GET /).",
    )
    connect_commit: str | None = Field(
        default=None, alias="connectCommit", description="The source commit of that worker's Kafka Connect build."
    )
    group_id: str | None = Field(
        default=None,
        alias="groupId",
        description="The Connect group the workers run as: kept across operator upgrades, so a running cluster "
        "never moves to a new default group.",
    )
    kafka_cluster_id: str | None = Field(
        default=None, alias="kafkaClusterId", description="The id of the Kafka cluster the workers use."
    )
