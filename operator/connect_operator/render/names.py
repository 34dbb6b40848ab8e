"""Every derived name, label, path and the field manager: one place, so renderers and handlers agree."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connect_operator.api.v1alpha1 import API_VERSION

FIELD_MANAGER = "kco-operator"
# The controller named in every Event the operator posts.
REPORTING_COMPONENT = FIELD_MANAGER
CONFIG_HASH_ANNOTATION = "kco.dev/config-hash"
# On worker Pods with spec.rest.tls: the SHA-256 of the REST certificate they serve (public). A new one rolls
# them, since the init step builds the stores from the Secret only when a Pod starts.
REST_CERTIFICATE_ANNOTATION = "kco.dev/rest-certificate"
# On a Connector: the one-shot request ids already honoured, kept where a lost or restored status cannot
# take them (a restore from backup keeps metadata, not status), so no request is acted on twice.
HANDLED_ANNOTATION = "kco.dev/handled"
# Rack awareness: the operator copies the Node label named by RACK_KEY_ANNOTATION into RACK_ANNOTATION,
# which a downward-API volume shows the init container (workers get no Kubernetes API access).
RACK_KEY_ANNOTATION = "kco.dev/rack-topology-key"
RACK_ANNOTATION = "kco.dev/rack"
CLUSTER_LABEL = "kco.dev/cluster"
OPERATOR_LABELS: Mapping[str, str] = {"app.kubernetes.io/name": "kafka-connect-operator"}
# On every worker Pod of every cluster: what the operator's watch of worker Pods filters on.
WORKER_LABELS: Mapping[str, str] = {
    "app.kubernetes.io/name": "kafka-connect",
    "app.kubernetes.io/component": "connect-worker",
    "app.kubernetes.io/managed-by": "kafka-connect-operator",
}

CONFIG_DIR = "/opt/kco/config"
TEMPLATE_DIR = "/etc/kco/template"
PLUGIN_DIR = "/opt/kco/plugins"
# Plugin downloads, kept across init container restarts; never under PLUGIN_DIR, which Connect scans.
PLUGIN_CACHE_DIR = "/opt/kco/plugin-cache"
# The kubelet's default; named in the init container's args too, where the init step writes its failure.
TERMINATION_MESSAGE_PATH = "/dev/termination-log"
SECRETS_ROOT = "/mnt/kco/secrets"
KAFKA_TLS_ROOT = "/mnt/kco/kafka-tls"
KAFKA_AUTH_ROOT = "/mnt/kco/kafka-auth"
REST_TLS_DIR = "/mnt/kco/rest-tls"
# Keys of the REST listener's Secrets: the CA's (the operator's issuer only) and the leaf's (kubernetes.io/tls).
REST_CA_CERT, REST_CA_KEY = "ca.crt", "ca.key"
REST_TLS_CERT, REST_TLS_KEY = "tls.crt", "tls.key"
RACK_DIR = "/etc/kco/rack"
RACK_FILE = "rack"
# mode standalone: the offsets file, on the PersistentVolumeClaim's mount, so it outlives the Pod.
OFFSETS_DIR = "/var/lib/kco/offsets"
OFFSETS_FILE = f"{OFFSETS_DIR}/connect.offsets"
WORKER_PROPERTIES = "worker.properties"
LOG4J_PROPERTIES = "log4j.properties"
# The config provider that resolves Connectors' secretKeyRef values: it may read only SECRETS_ROOT.
CONFIG_PROVIDER = "dir"
# The workers' own: their SASL password, and nothing else. Connect gives connectors every provider a
# worker configures, so this one is kept apart (and narrow) rather than letting CONFIG_PROVIDER read it.
WORKER_CONFIG_PROVIDER = "kcoworker"
# Placeholders of these are refused in a Connector's plain values, whether or not a given cluster's
# workers configure them now (a cluster may add exposedSecrets or a SASL password later).
CONFIG_PROVIDERS = (CONFIG_PROVIDER, WORKER_CONFIG_PROVIDER)


@dataclass(frozen=True)
class ClusterRef:
    """What rendering needs of the KafkaConnect object itself (its spec aside)."""

    name: str
    namespace: str
    uid: str

    @property
    def workers(self) -> str:
        return f"{self.name}-connect"

    @property
    def service(self) -> str:
        return f"{self.name}-connect-api"

    @property
    def config_map(self) -> str:
        return f"{self.name}-connect-config"

    @property
    def offsets_claim(self) -> str:
        return f"{self.name}-connect-offsets"

    @property
    def rest_ca_secret(self) -> str:
        """The CA the operator issues REST certificates from: only the operator reads it."""
        return f"{self.name}-connect-rest-ca"

    @property
    def rest_tls_secret(self) -> str:
        """The certificate the operator issued: the workers mount it."""
        return f"{self.name}-connect-rest-tls"

    @property
    def service_host(self) -> str:
        return f"{self.service}.{self.namespace}.svc"

    def rest_url(self, port: int, scheme: str = "http") -> str:
        return f"{scheme}://{self.service_host}:{port}"

    def selector_labels(self) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": WORKER_LABELS["app.kubernetes.io/name"],
            "app.kubernetes.io/instance": self.name,
            CLUSTER_LABEL: self.name,
        }

    def labels(self) -> dict[str, str]:
        return {**self.selector_labels(), **WORKER_LABELS}

    def label_selector(self) -> str:
        return ",".join(f"{k}={v}" for k, v in sorted(self.selector_labels().items()))

    def metadata(self, name: str, **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "namespace": self.namespace,
            "labels": self.labels(),
            "ownerReferences": [self.owner_reference()],
            **extra,
        }

    def owner_reference(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": "KafkaConnect",
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }
