"""Strimzi KafkaConnect and CFK Connect → kco.dev KafkaConnect manifests."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from connect_operator.api.v1alpha1 import API_VERSION
from connect_operator.api.v1alpha1.kafkaconnect import OWNED_WORKER_KEYS, OWNED_WORKER_PREFIXES, KafkaConnectSpec
from connect_operator.importing.meta import carried
from connect_operator.importing.report import Converted, NotUnderstood
from connect_operator.importing.values import NotAScalar, connect_string, dns_name

_TOPICS = {"config": "config", "offset": "offset", "status": "status"}
_PLUGIN_TYPES = {"jar": "jar", "tgz": "tgz", "zip": "zip"}
_AUTH_TYPES = {"scram-sha-256", "scram-sha-512", "plain"}


class _Cluster:
    """The spec being built and the findings, for one source document."""

    def __init__(self, source: str, out: Converted) -> None:
        self.source, self.out = source, out
        self.spec: dict[str, Any] = {}
        self.topics: dict[str, dict[str, Any]] = {}

    def drop(self, field: str, reason: str) -> None:
        self.out.drop(self.source, field, reason)

    def note(self, field: str, reason: str) -> None:
        self.out.note(self.source, field, reason)

    def group_id(self, value: Any, field: str) -> None:
        text = str(value)
        if "groupId" in self.spec and self.spec["groupId"] != text:
            self.drop(field, f"{text!r} disagrees with group id {self.spec['groupId']!r}, which is kept")
            return
        self.spec["groupId"] = text

    def topic(self, which: str, attribute: str, value: Any, field: str) -> None:
        self.topics.setdefault(which, {})[attribute] = value

    def worker_config(self, config: Mapping[str, Any], prefix: str) -> None:
        """Worker properties: the group and topics to their fields (dropping group.id would split a running
        cluster into a new, empty group), converters to theirs, the rest kept unless the operator owns it."""
        carried: dict[str, str] = {}
        for key, value in config.items():
            field = f"{prefix}.{key}"
            try:
                text = connect_string(value)
            except NotAScalar as exc:
                self.drop(field, f"{exc}: a worker property is one string")
                continue
            which = key.split(".", 1)[0]
            if key == "group.id":
                self.group_id(text, field)
            elif which in _TOPICS and key == f"{which}.storage.topic":
                self.topic(which, "name", text, field)
            elif which in _TOPICS and key == f"{which}.storage.replication.factor":
                if int(text) >= 1:
                    self.topic(which, "replicationFactor", int(text), field)
                else:
                    self.drop(
                        field,
                        f"{text} (the broker's default) has no equivalent: set "
                        f"spec.internalTopics.{which}.replicationFactor (default 3)",
                    )
            elif which in ("offset", "status") and key == f"{which}.storage.partitions":
                if int(text) >= 1:
                    self.topic(which, "partitions", int(text), field)
                else:
                    self.drop(
                        field,
                        f"{text} (the broker's default) has no equivalent: set spec.internalTopics.{which}.partitions",
                    )
            elif key in ("key.converter", "value.converter"):
                self.spec.setdefault("converters", {})[key.split(".")[0]] = text
            elif key == "config.providers" or key.startswith("config.providers."):
                self.drop(
                    field,
                    "workers get the operator's own config providers: reference Secrets with "
                    "valueFrom.secretKeyRef in Connectors and list them in spec.exposedSecrets",
                )
            elif key in OWNED_WORKER_KEYS or key.startswith(OWNED_WORKER_PREFIXES):
                self.drop(field, "the operator sets it (from bootstrapServers, tls, authentication, the Pod)")
            else:
                carried[key] = text
        if carried:
            self.spec.setdefault("config", {}).update(carried)

    def plugin(self, name: str, artifacts: list[dict[str, Any]], field: str) -> None:
        plugin_name = dns_name(name)
        if artifacts:
            self.spec.setdefault("plugins", []).append({"name": plugin_name, "artifacts": artifacts})
            if plugin_name != name:
                self.note(field, f"plugin folder {name!r} renamed {plugin_name!r}")
        else:
            self.drop(field, f"plugin {name!r}: no artifact could be carried")

    def finish(self, meta: Mapping[str, Any]) -> None:
        if self.topics:
            self.spec["internalTopics"] = self.topics
        if "bootstrapServers" not in self.spec:
            self.drop("bootstrapServers", "none given, and a KafkaConnect needs it: no KafkaConnect written")
            return
        metadata = carried(meta, self.source, self.out)
        try:
            KafkaConnectSpec.model_validate(self.spec)
        except ValidationError as exc:
            raise NotUnderstood(f"{self.source}: the result is not a valid KafkaConnect: {exc}") from exc
        self.out.manifests.append(
            {"apiVersion": API_VERSION, "kind": "KafkaConnect", "metadata": metadata, "spec": self.spec}
        )


_STRIMZI_NO_EQUIVALENT = {
    "metricsConfig": "the workers' JMX metrics are not exported by this operator",
    "logging": "set spec.logging.rootLevel and spec.logging.loggers",
    "template": "set spec.template.pod (labels, annotations, affinity, tolerations, env, volumes)",
    "externalConfiguration": "reference Secrets with valueFrom.secretKeyRef and list them in spec.exposedSecrets",
    "livenessProbe": "the operator sets the workers' probes",
    "readinessProbe": "the operator sets the workers' probes",
    "tracing": "no equivalent",
    "clientRackInitImage": "the operator copies the Node's label itself",
    "image": "a Strimzi image: this operator runs an Apache Kafka image (spec.image, default apache/kafka) and "
    "fetches plugins with spec.plugins",
}


def from_strimzi(obj: Mapping[str, Any], out: Converted) -> None:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    c = _Cluster(f"KafkaConnect {meta.get('name', '')}", out)
    for key, value in spec.items():
        field = f"spec.{key}"
        if key == "replicas":
            c.spec["replicas"] = value
        elif key == "version":
            c.spec["version"] = str(value)
            c.spec["image"] = f"apache/kafka:{value}"
            c.note(field, f"image apache/kafka:{value}, Apache Kafka's own image of that version")
        elif key == "bootstrapServers":
            c.spec["bootstrapServers"] = str(value)
        elif key == "groupId":
            c.group_id(value, field)
        elif key in ("configStorageTopic", "offsetStorageTopic", "statusStorageTopic"):
            c.topic(key.removesuffix("StorageTopic"), "name", str(value), field)
        elif key == "config":
            c.worker_config(value or {}, field)
        elif key == "tls":
            _strimzi_tls(c, value or {})
        elif key == "authentication":
            _strimzi_authentication(c, value or {})
        elif key == "build":
            _strimzi_build(c, value or {})
        elif key == "resources":
            c.spec["resources"] = {
                kind: {k: connect_string(v) for k, v in (value.get(kind) or {}).items()}
                for kind in ("requests", "limits")
                if value.get(kind)
            }
        elif key == "jvmOptions":
            _strimzi_jvm(c, value or {})
        elif key == "rack":
            c.spec["rack"] = {"topologyKey": value.get("topologyKey", "topology.kubernetes.io/zone")}
        else:
            c.drop(field, _STRIMZI_NO_EQUIVALENT.get(key, "no equivalent in kco.dev KafkaConnect"))
    _strimzi_defaults(c)
    c.finish(meta)


# What Strimzi's workers run as when the resource names no group or topics: kept, since this operator's
# own default (<namespace>.<name>) would start an empty group beside the running one.
STRIMZI_DEFAULT_GROUP = "connect-cluster"


def _strimzi_defaults(c: _Cluster) -> None:
    if "groupId" not in c.spec:
        c.spec["groupId"] = STRIMZI_DEFAULT_GROUP
        c.note("spec.groupId", f"none given: Strimzi's default {STRIMZI_DEFAULT_GROUP!r}, the group the workers run as")
    for which, suffix in (("config", "configs"), ("offset", "offsets"), ("status", "status")):
        if "name" not in c.topics.get(which, {}):
            c.topic(which, "name", f"{STRIMZI_DEFAULT_GROUP}-{suffix}", f"spec.{which}StorageTopic")
            c.note(f"spec.{which}StorageTopic", f"none given: Strimzi's default {STRIMZI_DEFAULT_GROUP}-{suffix}")


def _strimzi_tls(c: _Cluster, tls: Mapping[str, Any]) -> None:
    certificates = []
    for i, cert in enumerate(tls.get("trustedCertificates") or []):
        field = f"spec.tls.trustedCertificates[{i}]"
        if cert.get("certificate"):
            certificates.append({"secretName": cert["secretName"], "certificate": cert["certificate"]})
        elif cert.get("pattern") and fnmatch.fnmatchcase("ca.crt", cert["pattern"]):
            # Strimzi's cluster CA Secret holds its certificate as ca.crt, which the pattern matches.
            certificates.append({"secretName": cert["secretName"], "certificate": "ca.crt"})
            c.note(field, f"pattern {cert['pattern']!r}: one key is read, ca.crt (the key of Strimzi's CA Secrets)")
        else:
            c.drop(field, "a pattern not matching ca.crt: name the certificate's key in certificate")
    c.spec["tls"] = {"trustedCertificates": certificates}


def _strimzi_authentication(c: _Cluster, auth: Mapping[str, Any]) -> None:
    kind = auth.get("type")
    if kind in _AUTH_TYPES and auth.get("username") and isinstance(auth.get("passwordSecret"), Mapping):
        secret = auth["passwordSecret"]
        c.spec["authentication"] = {
            "type": kind,
            "username": str(auth["username"]),
            "passwordSecret": {"secretName": secret.get("secretName"), "key": secret.get("password")},
        }
    elif kind == "tls" and isinstance(auth.get("certificateAndKey"), Mapping):
        pair = auth["certificateAndKey"]
        c.spec["authentication"] = {
            "type": "tls",
            "certificateAndKey": {k: pair[k] for k in ("secretName", "certificate", "key") if k in pair},
        }
    else:
        c.drop(
            "spec.authentication",
            f"type {kind!r} as given has no equivalent (tls, scram-sha-256, scram-sha-512 and plain are supported)",
        )


def _strimzi_build(c: _Cluster, build: Mapping[str, Any]) -> None:
    if "output" in build:
        c.note("spec.build.output", "no image is built: the init container fetches spec.plugins at start")
    for i, plugin in enumerate(build.get("plugins") or []):
        artifacts = []
        for j, artifact in enumerate(plugin.get("artifacts") or []):
            field = f"spec.build.plugins[{i}].artifacts[{j}]"
            kind = artifact.get("type")
            if kind not in _PLUGIN_TYPES or not artifact.get("url"):
                c.drop(field, f"type {kind!r}: only jar, tgz and zip downloads from a URL are fetched")
            elif not artifact.get("sha512sum"):
                c.drop(field, "no sha512sum: every artifact is checked against its SHA-512")
            else:
                artifacts.append(
                    {"url": artifact["url"], "sha512": str(artifact["sha512sum"]).lower(), "type": _PLUGIN_TYPES[kind]}
                )
        c.plugin(str(plugin.get("name", "")), artifacts, f"spec.build.plugins[{i}]")


def _strimzi_jvm(c: _Cluster, jvm: Mapping[str, Any]) -> None:
    options: dict[str, Any] = {}
    for key, value in jvm.items():
        if key in ("-Xms", "-Xmx"):
            options[key.removeprefix("-X")] = str(value)
        else:
            c.drop(f"spec.jvmOptions.{key}", "put JVM flags in spec.jvmOptions.options")
    if options:
        c.spec["jvmOptions"] = options


def from_cfk(obj: Mapping[str, Any], out: Converted) -> None:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    c = _Cluster(f"Connect {meta.get('name', '')}", out)
    for key, value in spec.items():
        field = f"spec.{key}"
        if key == "replicas":
            c.spec["replicas"] = value
        elif key in ("keyConverterType", "valueConverterType"):
            c.spec.setdefault("converters", {})[key.removesuffix("ConverterType")] = str(value)
        elif key == "dependencies":
            _cfk_dependencies(c, value or {})
        elif key == "build":
            _cfk_build(c, value or {})
        elif key == "configOverrides" and isinstance(value, Mapping):
            for part, lines in value.items():
                if part == "server":
                    pairs = dict(str(line).split("=", 1) for line in lines if "=" in str(line))
                    c.worker_config(pairs, "spec.configOverrides.server")
                else:
                    c.drop(f"spec.configOverrides.{part}", "no equivalent (JVM flags: spec.jvmOptions.options)")
        elif key == "image":
            c.drop(
                field,
                "a Confluent Platform image: this operator runs an Apache Kafka image (spec.image, "
                "default apache/kafka) and fetches plugins with spec.plugins",
            )
        elif key == "mountedSecrets":
            c.drop(
                field,
                "Secrets are mounted for Kafka's DirectoryConfigProvider, not at /mnt/secrets: list them "
                "in spec.exposedSecrets and reference them with valueFrom.secretKeyRef",
            )
        else:
            c.drop(field, "no equivalent in kco.dev KafkaConnect")
    c.finish(meta)


def _cfk_dependencies(c: _Cluster, dependencies: Mapping[str, Any]) -> None:
    for name, value in dependencies.items():
        if name != "kafka":
            c.drop(f"spec.dependencies.{name}", "no equivalent: give its settings to the connectors or converters")
            continue
        for key, setting in (value or {}).items():
            field = f"spec.dependencies.kafka.{key}"
            if key == "bootstrapEndpoint":
                c.spec["bootstrapServers"] = str(setting)
            elif key == "tls" and isinstance(setting, Mapping) and setting.get("enabled"):
                c.spec["tls"] = {"trustedCertificates": []}
                if setting.get("ignoreTrustStoreConfig"):
                    c.note(field, "TLS with the JVM's default trust store")
                else:
                    c.drop(field, "the trust store: name the CA certificates in spec.tls.trustedCertificates")
            elif key == "authentication":
                c.drop(field, "a JAAS config Secret: set spec.authentication type, username and passwordSecret")
            else:
                c.drop(field, "no equivalent in kco.dev KafkaConnect")


def _cfk_build(c: _Cluster, build: Mapping[str, Any]) -> None:
    plugins = ((build.get("onDemand") or {}).get("plugins")) or {}
    for i, plugin in enumerate(plugins.get("url") or []):
        field = f"spec.build.onDemand.plugins.url[{i}]"
        url, checksum = str(plugin.get("archivePath", "")), str(plugin.get("checksum", ""))
        kind = "jar" if url.endswith(".jar") else "zip" if url.endswith(".zip") else "tgz"
        if not checksum:
            c.drop(field, "no checksum: every artifact is checked against its SHA-512")
            c.plugin(str(plugin.get("name", "")), [], field)
        else:
            c.plugin(str(plugin.get("name", "")), [{"url": url, "sha512": checksum.lower(), "type": kind}], field)
    for i, _ in enumerate(plugins.get("confluentHub") or []):
        c.drop(
            f"spec.build.onDemand.plugins.confluentHub[{i}]",
            "Confluent Hub is not a download source: give the archive's URL and SHA-512 in spec.plugins",
        )
