"""The import's rules, one by one, on small inputs: values, placeholders, moved fields, names, the group."""

from __future__ import annotations

from typing import Any

import pytest

from connect_operator.importing import documents
from connect_operator.importing.report import Converted, NotUnderstood
from connect_operator.importing.values import connect_string, dns_name

pytestmark = pytest.mark.unit

STRIMZI = "kafka.strimzi.io/v1beta2"


def _strimzi_connector(spec: dict[str, Any], **labels: str) -> dict[str, Any]:
    meta = {"name": "src", "labels": {"strimzi.io/cluster": "main", **labels}}
    return {"apiVersion": STRIMZI, "kind": "KafkaConnector", "metadata": meta, "spec": spec}


def _only(converted: Converted) -> dict[str, Any]:
    (manifest,) = converted.manifests
    return manifest


def _dropped(converted: Converted) -> dict[str, str]:
    return {f.field: f.reason for f in converted.findings if f.dropped}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (7776000000.0, "7776000000"),  # PyYAML's repr would be 7.776e+09, which Connect's Long parser refuses
        (1.5e-7, "0.00000015"),
        (0.25, "0.25"),
        (3306, "3306"),
        (-1, "-1"),
        (True, "true"),
        (False, "false"),
        (["a", 1, True], "a,1,true"),
        ("${env:HOME}", "${env:HOME}"),
    ],
)
def test_values_become_the_strings_connect_keeps(value: object, text: str) -> None:
    assert connect_string(value) == text


def test_yaml_numbers_and_booleans_in_a_config_map_keep_their_meaning() -> None:
    spec = {"class": "C", "config": {"retention.ms": 7.776e9, "port": 3306, "enabled": True, "off": False}}
    config = _only(documents.convert(_strimzi_connector(spec), "f", None))["spec"]["config"]
    assert config == {"retention.ms": "7776000000", "port": "3306", "enabled": "true", "off": "false"}


def test_a_map_or_null_in_a_config_map_is_reported_not_carried() -> None:
    converted = documents.convert(_strimzi_connector({"class": "C", "config": {"a": None, "b": {"c": 1}}}), "f", None)
    assert _only(converted)["spec"]["config"] == {}
    assert set(_dropped(converted)) == {"config.a", "config.b"}


def test_placeholders_connect_resolves_are_kept_verbatim() -> None:
    kept = {
        "file": "${file:/mnt/creds.properties:password}",
        "env": "${env:DB_HOST}",
        "date": "logs-${date:now:yyyy-MM-dd}",
    }
    converted = documents.convert({"name": "x", "config": {"connector.class": "C", **kept}}, "f", "main")
    assert _only(converted)["spec"]["config"] == kept
    assert not converted.anything_dropped


@pytest.mark.parametrize("provider", ["dir", "kcoworker"])
def test_placeholders_of_the_operators_own_providers_are_refused_with_the_fix(provider: str) -> None:
    config = {"connector.class": "C", "password": f"${{{provider}:/mnt/secrets:pw}}"}
    converted = documents.convert({"name": "x", "config": config}, "f", "main")
    assert "password" not in _only(converted)["spec"]["config"]
    reason = _dropped(converted)["config.password"]
    assert "valueFrom.secretKeyRef" in reason and "spec.exposedSecrets" in reason


def test_strimzi_secret_placeholders_become_secret_key_refs() -> None:
    spec = {"class": "C", "config": {"user": "${secrets:team/db:username}"}}
    converted = documents.convert(_strimzi_connector(spec), "f", None)
    ref = {"valueFrom": {"secretKeyRef": {"name": "db", "key": "username"}}}
    assert _only(converted)["spec"]["config"] == {"user": ref}
    assert not converted.anything_dropped


def test_agreeing_reserved_keys_move_out_of_the_config_map() -> None:
    spec = {"class": "C", "tasksMax": 2, "config": {"tasks.max": "2", "connector.class": "C", "name": "src", "k": 1}}
    converted = documents.convert(_strimzi_connector(spec), "f", None)
    manifest = _only(converted)
    assert manifest["spec"]["tasksMax"] == 2 and manifest["spec"]["class"] == "C"
    assert manifest["spec"]["config"] == {"k": "1"}
    assert converted.findings == []


def test_disagreeing_reserved_keys_are_reported_and_the_resources_fields_kept() -> None:
    spec = {"class": "C", "tasksMax": 2, "config": {"tasks.max": 5, "connector.class": "D", "name": "other"}}
    converted = documents.convert(_strimzi_connector(spec), "f", None)
    manifest = _only(converted)
    assert (manifest["spec"]["tasksMax"], manifest["spec"]["class"], manifest["metadata"]["name"]) == (2, "C", "src")
    assert manifest["spec"]["config"] == {}
    assert set(_dropped(converted)) == {"config.tasks.max", "config.connector.class", "config.name"}


def test_a_rest_body_takes_its_class_and_tasks_from_the_config_map() -> None:
    body = {"name": "sink", "config": {"connector.class": "C", "tasks.max": "3", "topics": "t"}}
    manifest = _only(documents.convert(body, "f", "main"))
    assert manifest["spec"] == {"cluster": "main", "class": "C", "tasksMax": 3, "config": {"topics": "t"}}


def test_a_bare_config_map_without_a_name_is_named_after_its_file() -> None:
    manifest = _only(documents.convert({"connector.class": "C"}, "register-orders", "main"))
    assert manifest["metadata"]["name"] == "register-orders"


def test_names_kubernetes_refuses_go_to_connector_name() -> None:
    manifest = _only(documents.convert({"name": "My_Source", "config": {"connector.class": "C"}}, "f", "main"))
    assert manifest["metadata"]["name"] == "my-source"
    assert manifest["spec"]["connectorName"] == "My_Source"
    assert dns_name("--A..b__") == "a-b"


def test_a_cfk_connector_named_apart_from_its_resource_keeps_both_names() -> None:
    connector = {
        "apiVersion": "platform.confluent.io/v1beta1",
        "kind": "Connector",
        "metadata": {"name": "replicator"},
        "spec": {"name": "connector", "class": "C", "taskMax": 4, "connectClusterRef": {"name": "connect"}},
    }
    manifest = _only(documents.convert(connector, "f", None))
    assert manifest["metadata"]["name"] == "replicator"
    assert manifest["spec"]["connectorName"] == "connector"
    assert (manifest["spec"]["cluster"], manifest["spec"]["tasksMax"]) == ("connect", 4)


def test_the_cluster_comes_from_the_label_else_the_flag_else_the_input_is_not_understood() -> None:
    labelled = _strimzi_connector({"class": "C"})
    assert _only(documents.convert(labelled, "f", "flag"))["spec"]["cluster"] == "main"
    with pytest.raises(NotUnderstood, match="--cluster"):
        documents.convert({"name": "x", "config": {"connector.class": "C"}}, "f", None)


def _strimzi_cluster(spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": STRIMZI, "kind": "KafkaConnect", "metadata": {"name": "c"}, "spec": spec}


def test_a_strimzi_group_id_and_storage_topics_in_config_map_to_group_id_and_internal_topics() -> None:
    config = {
        "group.id": "live-group",
        "config.storage.topic": "live-configs",
        "offset.storage.topic": "live-offsets",
        "status.storage.topic": "live-status",
        "offset.storage.partitions": 25,
        "status.storage.replication.factor": 3,
    }
    converted = documents.convert(_strimzi_cluster({"bootstrapServers": "k:9092", "config": config}), "f", None)
    spec = _only(converted)["spec"]
    assert spec["groupId"] == "live-group"
    assert spec["internalTopics"] == {
        "config": {"name": "live-configs"},
        "offset": {"name": "live-offsets", "partitions": 25},
        "status": {"name": "live-status", "replicationFactor": 3},
    }
    assert "config" not in spec
    assert not converted.anything_dropped


def test_a_strimzi_cluster_naming_no_group_keeps_strimzis_default_group() -> None:
    spec = _only(documents.convert(_strimzi_cluster({"bootstrapServers": "k:9092"}), "f", None))["spec"]
    assert spec["groupId"] == "connect-cluster"
    assert spec["internalTopics"]["offset"]["name"] == "connect-cluster-offsets"


def test_a_group_id_disagreeing_with_the_v1_field_is_reported() -> None:
    cluster = _strimzi_cluster({"bootstrapServers": "k", "groupId": "g1", "config": {"group.id": "g2"}})
    converted = documents.convert(cluster, "f", None)
    assert _only(converted)["spec"]["groupId"] == "g1"
    assert "spec.config.group.id" in _dropped(converted)


def test_worker_keys_the_operator_owns_are_reported_and_others_kept() -> None:
    config = {"config.providers": "secrets", "ssl.endpoint.identification.algorithm": "", "offset.flush.timeout.ms": 1}
    converted = documents.convert(_strimzi_cluster({"bootstrapServers": "k", "config": config}), "f", None)
    assert _only(converted)["spec"]["config"] == {"offset.flush.timeout.ms": "1"}
    assert set(_dropped(converted)) == {
        "spec.config.config.providers",
        "spec.config.ssl.endpoint.identification.algorithm",
    }


def test_strimzi_build_plugins_with_a_sha512_are_fetched_and_others_reported() -> None:
    digest = "ab" * 64
    plugins = [
        {"name": "good", "artifacts": [{"type": "tgz", "url": "https://x/p.tgz", "sha512sum": digest}]},
        {"name": "unchecked", "artifacts": [{"type": "jar", "url": "https://x/p.jar"}]},
        {"name": "maven", "artifacts": [{"type": "maven", "group": "g", "artifact": "a", "version": "1"}]},
    ]
    converted = documents.convert(_strimzi_cluster({"bootstrapServers": "k", "build": {"plugins": plugins}}), "f", None)
    assert _only(converted)["spec"]["plugins"] == [
        {"name": "good", "artifacts": [{"url": "https://x/p.tgz", "sha512": digest, "type": "tgz"}]}
    ]
    dropped = _dropped(converted)
    assert "sha512sum" in dropped["spec.build.plugins[1].artifacts[0]"]
    assert "maven" in dropped["spec.build.plugins[2].artifacts[0]"]


def test_strimzi_authentication_and_tls_map_to_their_fields() -> None:
    auth = {"type": "scram-sha-512", "username": "u", "passwordSecret": {"secretName": "s", "password": "pw"}}
    tls = {"trustedCertificates": [{"secretName": "ca", "certificate": "ca.pem"}]}
    spec = _only(
        documents.convert(_strimzi_cluster({"bootstrapServers": "k", "authentication": auth, "tls": tls}), "f", None)
    )["spec"]
    assert spec["authentication"] == {
        "type": "scram-sha-512",
        "username": "u",
        "passwordSecret": {"secretName": "s", "key": "pw"},
    }
    assert spec["tls"] == {"trustedCertificates": [{"secretName": "ca", "certificate": "ca.pem"}]}


def test_other_kinds_are_reported_and_shapeless_documents_not_understood() -> None:
    other = documents.convert({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m"}}, "f", None)
    assert other.manifests == [] and other.anything_dropped
    with pytest.raises(NotUnderstood):
        documents.convert({"hello": "world"}, "f", "main")
    with pytest.raises(NotUnderstood):
        documents.convert(["a", "list"], "f", "main")


def test_labels_and_annotations_are_carried_and_the_other_operators_own_reported() -> None:
    connector = _strimzi_connector({"class": "C"}, team="orders")
    connector["metadata"]["annotations"] = {"strimzi.io/restart": "true", "owner": "me"}
    converted = documents.convert(connector, "f", None)
    metadata = _only(converted)["metadata"]
    assert metadata == {"name": "src", "labels": {"team": "orders"}, "annotations": {"owner": "me"}}
    assert "spec.restart" in _dropped(converted)["metadata.annotations.strimzi.io/restart"]


def test_cfk_secret_mount_paths_are_kept_verbatim_with_a_note() -> None:
    value = "${file:/mnt/secrets/creds/plain.txt:password}"
    connector = {
        "apiVersion": "platform.confluent.io/v1beta1",
        "kind": "Connector",
        "metadata": {"name": "c"},
        "spec": {"class": "C", "connectClusterRef": {"name": "connect"}, "configs": {"password": value}},
    }
    converted = documents.convert(connector, "f", None)
    assert _only(converted)["spec"]["config"] == {"password": value}
    (note,) = converted.findings
    assert not note.dropped and "/mnt/secrets/" in note.reason
