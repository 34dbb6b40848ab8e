"""mode: standalone rendered: one worker, no group, its offsets file on a claim that outlives its Pods."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import ValidationError

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.policy import children
from connect_operator.render import cluster, names
from connect_operator.render.names import ClusterRef
from connect_worker import properties

pytestmark = pytest.mark.unit

REF = ClusterRef(name="orders", namespace="data", uid="uid-1")
IMAGE = "ghcr.io/example/kco:1.0"
DISTRIBUTED_ONLY = {
    "group.id",
    "config.storage.topic",
    "offset.storage.topic",
    "status.storage.topic",
    "config.storage.replication.factor",
    "offset.storage.replication.factor",
    "status.storage.replication.factor",
    "offset.storage.partitions",
    "status.storage.partitions",
    "scheduled.rebalance.max.delay.ms",
}


def spec(**fields: Any) -> KafkaConnectSpec:
    return KafkaConnectSpec.model_validate({"bootstrapServers": "kafka:9092", "mode": "standalone", **fields})


def rendered(**fields: Any) -> cluster.Rendered:
    return cluster.render(REF, spec(**fields), IMAGE, group_id="ignored-for-standalone")


def by_kind(**fields: Any) -> dict[str, dict[str, Any]]:
    return {o["kind"]: o for o in rendered(**fields).objects}


def test_worker_properties_keep_offsets_in_the_claims_file_and_name_no_group_or_topic() -> None:
    worker = rendered().worker_properties
    assert worker["offset.storage.file.filename"] == f"{names.OFFSETS_DIR}/connect.offsets"
    assert worker["offset.flush.interval.ms"] == "10000"
    assert not DISTRIBUTED_ONLY & set(worker), DISTRIBUTED_ONLY & set(worker)
    assert worker["bootstrap.servers"] == "kafka:9092" and worker["listeners"] == "http://:8083"
    # What the ConfigMap carries is what the init step reads back.
    config_map = by_kind()["ConfigMap"]
    assert properties.parse(config_map["data"][names.WORKER_PROPERTIES]) == worker


def test_distributed_properties_are_unchanged_by_the_mode_field() -> None:
    distributed = cluster.render(REF, KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092"}), IMAGE)
    assert set(distributed.worker_properties) >= DISTRIBUTED_ONLY
    assert "offset.storage.file.filename" not in distributed.worker_properties
    assert not any(o["kind"] == "PersistentVolumeClaim" for o in distributed.objects)


def test_the_offsets_claim_comes_before_the_deployment_and_is_owned() -> None:
    kinds = [o["kind"] for o in rendered().objects]
    assert kinds.index("PersistentVolumeClaim") < kinds.index("Deployment")
    claim = by_kind(offsetStorage={"size": "5Gi", "storageClassName": "fast"})["PersistentVolumeClaim"]
    assert claim["metadata"]["name"] == "orders-connect-offsets"
    assert claim["metadata"]["ownerReferences"][0]["uid"] == "uid-1"
    assert claim["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "fast",
    }
    default = by_kind()["PersistentVolumeClaim"]["spec"]
    assert default["resources"]["requests"]["storage"] == "1Gi" and "storageClassName" not in default


def test_one_connect_standalone_worker_recreated_with_the_claim_mounted() -> None:
    deployment = by_kind()["Deployment"]["spec"]
    assert deployment["strategy"] == {"type": "Recreate"}
    assert deployment["replicas"] == 1
    pod = deployment["template"]["spec"]
    connect = next(c for c in pod["containers"] if c["name"] == "connect")
    assert connect["command"] == ["/opt/kafka/bin/connect-standalone.sh", f"{names.CONFIG_DIR}/worker.properties"]
    assert {"name": "offsets", "mountPath": names.OFFSETS_DIR} in connect["volumeMounts"]
    assert {"name": "offsets", "persistentVolumeClaim": {"claimName": "orders-connect-offsets"}} in pod["volumes"]
    init = pod["initContainers"][0]
    assert all(m["name"] != "offsets" for m in init["volumeMounts"]), "only Connect writes the file"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"replicas": 2}, "replicas must be 0 or 1, not 2"),
        ({"groupId": "g"}, "groupId cannot be set"),
        ({"internalTopics": {"config": {"replicationFactor": 1}}}, "internalTopics cannot be set"),
    ],
)
def test_what_a_standalone_worker_cannot_honour_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


def test_zero_replicas_stops_the_worker_and_offset_storage_needs_standalone() -> None:
    assert by_kind(replicas=0)["Deployment"]["spec"]["replicas"] == 0
    with pytest.raises(ValidationError, match="offsetStorage is for mode standalone"):
        KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092", "offsetStorage": {"size": "1Gi"}})
    with pytest.raises(ValidationError, match=re.escape("config may not set offset.storage.file.filename")):
        spec(config={"offset.storage.file.filename": "/tmp/x"})


def test_a_settled_standalone_owner_is_repaired_without_a_group() -> None:
    owner = {
        "metadata": {"generation": 3},
        "spec": {"mode": "standalone"},
        "status": {"observedGeneration": 3, "conditions": []},
    }
    assert children.owner_settled(owner)
    distributed = {**owner, "spec": {}}
    assert not children.owner_settled(distributed), "a distributed owner renders only with its recorded group"
