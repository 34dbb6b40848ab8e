"""The decisions the handlers act on: which Connectors a sync takes, what a reconcile applies and reports."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.engine.desired import keyed_digest
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.policy import connectors, kafkaconnect, moves, secrets
from connect_operator.policy.secrets import SecretRead
from connect_operator.render.kafkaclient import SecretUse
from tests.support.results import connector_result

pytestmark = pytest.mark.unit

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
CLUSTER = KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092", "exposedSecrets": ["db"]})


def _obj(
    name: str, *, deleting: bool = False, status: dict[str, Any] | None = None, spec: Any = None, **config: Any
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "ns",
        "uid": f"uid-{name}",
        "generation": 1,
        "creationTimestamp": f"2026-01-01T00:00:0{len(name) % 10}Z",
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": meta,
        "spec": {"cluster": "c", "class": SOURCE, "config": config, **(spec or {})},
        "status": status or {},
    }


def _ref(secret: str, key: str) -> dict[str, Any]:
    return {"valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _ready(status: str, reason: str = "R", message: str = "") -> dict[str, Any]:
    return {"conditions": [{"type": "Ready", "status": status, "reason": reason, "message": message}]}


# --- Secrets: one rule for both resources ---


@pytest.mark.parametrize(
    ("read", "key", "expected"),
    [
        (SecretRead.not_found("s"), "k", secrets.KeyProblem("missing", "Secret s not found")),
        (SecretRead("s", "u", {"other": b"x"}), "k", secrets.KeyProblem("missing", "Secret s has no key k")),
        (
            SecretRead("s", error="403 Forbidden"),
            "k",
            secrets.KeyProblem("unreadable", "Secret s cannot be read (403 Forbidden)"),
        ),
        (SecretRead("s", "u", {"k": b"v\n"}), "k", b"v\n"),
    ],
)
def test_a_secret_key_is_a_value_or_a_missing_or_unreadable_problem(
    read: SecretRead, key: str, expected: bytes | secrets.KeyProblem
) -> None:
    assert secrets.value(read, key) == expected


def test_text_is_verbatim_utf8_and_other_bytes_are_unreadable() -> None:
    assert secrets.text(SecretRead("s", "u", {"k": "pässwörd\n".encode()}), "k") == "pässwörd\n"
    assert secrets.text(SecretRead("s", "u", {"k": b"\xff\xfe"}), "k") == secrets.KeyProblem(
        "unreadable", "Secret s key k is not UTF-8 text"
    )


def test_kafka_secret_values_name_every_missing_use_and_prefer_unreadable() -> None:
    a, b = SecretUse("a", "ca.crt", "spec.tls.trustedCertificates[0]"), SecretUse("b", "pw", "spec.authentication")
    reads = {"a": SecretRead.not_found("a"), "b": SecretRead("b", "u", {})}
    found = kafkaconnect.kafka_secret_values([a, b], reads)
    assert isinstance(found, tuple)
    reason, message = found
    assert reason == "KafkaSecretMissing"
    assert "Secret a not found (spec.tls.trustedCertificates[0])" in message
    assert "Secret b has no key pw (spec.authentication)" in message
    refused = {**reads, "b": SecretRead("b", error="403 Forbidden")}
    assert kafkaconnect.kafka_secret_values([a, b], refused)[0] == "KafkaSecretUnreadable"  # type: ignore[index]
    good = {"a": SecretRead("a", "u", {"ca.crt": b"PEM"}), "b": SecretRead("b", "u", {"pw": b"pw"})}
    assert kafkaconnect.kafka_secret_values([a, b], good) == {("a", "ca.crt"): "PEM", ("b", "pw"): "pw"}


# --- Connectors: what one sync can act on ---


def test_only_a_ready_cluster_is_synced() -> None:
    not_ready = connectors.Problem("ClusterNotReady", "KafkaConnect c is not Ready", stalled=False)
    assert connectors.cluster_gate("c", _ready("True")) is None
    assert connectors.cluster_gate("c", _ready("False")) == not_ready
    assert connectors.cluster_gate("c", {}) == not_ready


def test_screen_sorts_deleted_invalid_and_unexposed_connectors_from_the_syncable() -> None:
    objects = {
        "gone": _obj("gone", deleting=True),
        "bad": {**_obj("bad"), "spec": {"cluster": "c", "class": SOURCE, "tasksMax": 0}},
        "peek": _obj("peek", token=_ref("hr-payroll", "key")),
        "good": _obj("good", password=_ref("db", "pw")),
    }
    screened = connectors.screen("c", CLUSTER, objects)
    assert screened.removed == {"gone"}
    assert set(screened.connectors) == {"good"}
    assert screened.problems["bad"].reason == "InvalidSpec" and "tasksMax" in screened.problems["bad"].message
    assert screened.problems["peek"] == connectors.Problem(
        "SecretNotExposed",
        "Secrets hr-payroll are not in KafkaConnect c's spec.exposedSecrets; add them there",
        stalled=True,
    )
    # A change to any referenced Secret wakes the loop; only exposed ones are read.
    assert screened.referenced == {"db", "hr-payroll"}
    assert screened.secrets_to_read == {"db"}


def test_screen_refuses_plain_values_holding_a_placeholder_of_a_provider_the_operator_configures() -> None:
    objects = {
        "peek": _obj("peek", file="${dir:/etc:hostname}"),
        "listed": _obj("listed", hosts=["a", "x${kcoworker:/mnt/kco/kafka-auth/pw:p}"]),
        "classy": {**_obj("classy"), "spec": {"cluster": "c", "class": "${dir:/mnt/kco/secrets/db:c}"}},
        "others": _obj("others", when="${date:now}", home="${env:HOME}", raw="$dir:/etc", spaced="${ dir:/etc:x}"),
        "ref": _obj("ref", password=_ref("db", "pw")),
    }
    screened = connectors.screen("c", CLUSTER, objects)
    assert set(screened.connectors) == {"others", "ref"}, "placeholders no configured provider owns pass"
    refused = screened.problems["peek"]
    assert (refused.reason, refused.stalled) == ("InvalidSpec", True)
    assert refused.message.startswith("spec.config.file: ") and "valueFrom.secretKeyRef" in refused.message
    assert "/etc" not in refused.message, "the message names the field, not what the value points at"
    assert screened.problems["listed"].message.startswith("spec.config.hosts: ")
    assert screened.problems["classy"].message.startswith("spec.class: ")
    # Refused where the workers do not configure them yet too: adding a SASL password or exposedSecrets to
    # the cluster later must not turn a running connector's plain value into a file read.
    bare = KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092"})
    later = connectors.screen("c", bare, {"listed": objects["listed"], "peek": objects["peek"]})
    assert set(later.problems) == {"listed", "peek"} and not later.connectors


def test_declare_digests_secret_values_keyed_by_uid_and_names_missing_ones() -> None:
    objects = {
        "good": _obj("good", password=_ref("db", "pw")),
        "nokey": _obj("nokey", password=_ref("db", "absent")),
    }
    screened = connectors.screen("c", CLUSTER, objects)
    reads = {"db": SecretRead("db", "uid-1", {"pw": b"hunter2"})}
    declared = connectors.declare(screened, CLUSTER, reads, {"good": {"sync": {"restart_count": 2}}})
    assert set(declared.desired) == {"good"}
    assert declared.memory["good"].restart_count == 2
    assert declared.problems["nokey"] == connectors.Problem(
        "SecretMissing", "Secret db has no key absent; create it, or fix the secretKeyRef", stalled=True
    )
    rotated = connectors.declare(screened, CLUSTER, {"db": SecretRead("db", "uid-1", {"pw": b"new"})}, {})
    other_uid = connectors.declare(screened, CLUSTER, {"db": SecretRead("db", "uid-2", {"pw": b"hunter2"})}, {})
    version = declared.desired["good"].secrets_version
    assert version and version != rotated.desired["good"].secrets_version != other_uid.desired["good"].secrets_version
    assert "hunter2" not in repr(declared) and keyed_digest("uid-1", b"hunter2") != b"hunter2"


def test_declare_reports_an_unreadable_secret_as_such() -> None:
    screened = connectors.screen("c", CLUSTER, {"x": _obj("x", password=_ref("db", "pw"))})
    declared = connectors.declare(screened, CLUSTER, {"db": SecretRead("db", error="403 Forbidden")}, {})
    assert declared.problems["x"].reason == "SecretUnreadable" and "403 Forbidden" in declared.problems["x"].message


def test_a_deleted_connector_is_released_once_connect_no_longer_has_it() -> None:
    deleted_now = replace(connector_result("b"), deleted=True)
    still_there = connector_result("c")
    results = {"b": deleted_now, "c": still_there}
    assert connectors.released({"a", "b", "c"}, {"b", "c"}, results) == {"a", "b"}
    assert connectors.released(set(), {"b"}, results) == set()


# --- KafkaConnect: what a reconcile applies and reports ---


def test_a_refresh_keeps_only_problems_a_reconcile_must_clear() -> None:
    assert kafkaconnect.standing_problem(_ready("False", "InvalidSpec", "bad")) == ("InvalidSpec", "bad")
    assert kafkaconnect.standing_problem(_ready("False", "WorkersNotReady", "0/1")) is None
    assert kafkaconnect.standing_problem({}) is None


def test_one_warning_per_new_problem_not_per_retry() -> None:
    status = _ready("False", "KafkaSecretMissing", "Secret a not found")
    assert not kafkaconnect.is_new(status, ("KafkaSecretMissing", "Secret a not found"))
    assert kafkaconnect.is_new(status, ("KafkaSecretMissing", "Secret b not found"))
    assert kafkaconnect.is_new({}, ("KafkaSecretMissing", "Secret a not found"))


def test_the_pdb_api_is_v1_where_served_and_v1beta1_with_a_warning_elsewhere() -> None:
    assert kafkaconnect.pdb_api(True) == ("policy/v1", ())
    api, warnings = kafkaconnect.pdb_api(False)
    assert api == "policy/v1beta1" and warnings[0][0] == "PodDisruptionBudgetV1beta1"


def test_workers_are_held_back_while_the_internal_topics_are_unusable() -> None:
    objects = [{"kind": k} for k in ("ServiceAccount", "ConfigMap", "Service", "Deployment", "PodDisruptionBudget")]
    assert kafkaconnect.to_apply(objects, []) == objects
    held = kafkaconnect.to_apply(objects, ["topic x is not compacted"])
    assert [o["kind"] for o in held] == ["ServiceAccount", "ConfigMap", "Service", "PodDisruptionBudget"]


def test_a_tasks_max_above_the_clusters_limit_is_refused_naming_the_limit() -> None:
    capped = KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092", "maxTasksPerConnector": 8})
    screened = connectors.screen(
        "c", capped, {"big": _obj("big", spec={"tasksMax": 9}), "ok": _obj("ok", spec={"tasksMax": 8})}
    )
    assert set(screened.connectors) == {"ok"}
    assert screened.problems["big"] == connectors.Problem(
        "TasksMaxExceeded",
        "spec.tasksMax 9 is above KafkaConnect c's spec.maxTasksPerConnector (8); "
        "lower it, or raise the cluster's limit",
        stalled=True,
    )


def test_connector_name_maps_a_name_kubernetes_forbids_and_the_second_claimant_is_refused() -> None:
    objects = {
        "a": _obj("a", spec={"connectorName": "My_Source"}),
        "bb": _obj("bb", spec={"connectorName": "My_Source"}),
        "c": _obj("c"),
    }
    screened = connectors.screen("c", CLUSTER, objects)
    assert screened.names == {"a": "My_Source", "c": "c"}
    assert screened.problems["bb"].reason == "NameConflict"
    assert screened.problems["bb"].message.startswith("Connector a already manages connector My_Source")
    declared = connectors.declare(screened, CLUSTER, {}, {})
    assert set(declared.desired) == {"My_Source", "c"} and declared.owners["My_Source"] == "a"


def test_the_name_in_connect_cannot_change_once_the_connector_exists() -> None:
    bound = _obj("a", spec={"connectorName": "Renamed"}, status={"connectorName": "My_Source"})
    screened = connectors.screen("c", CLUSTER, {"a": bound})
    assert screened.problems["a"].reason == "ConnectorNameImmutable" and "My_Source" in screened.problems["a"].message
    # Deleting it deletes the connector by the name it has in Connect.
    assert connectors.screen(
        "c", CLUSTER, {"a": {**bound, "metadata": {**bound["metadata"], "deletionTimestamp": "x"}}}
    ).removed == {"My_Source"}


def test_one_warning_per_distinct_problem() -> None:
    stuck = {
        "conditions": [
            {"type": "Ready", "status": "False", "reason": "SecretMissing", "message": "Secret a not found"},
            {"type": "Stalled", "status": "True", "reason": "SecretMissing", "message": "Secret a not found"},
        ]
    }
    assert not connectors.is_new_problem(stuck, "SecretMissing", "Secret a not found")
    assert connectors.is_new_problem(stuck, "SecretMissing", "Secret b not found")
    assert connectors.is_new_problem(stuck, "ClusterNotReady", "KafkaConnect c is not Ready")
    waiting = {"conditions": [{"type": "Ready", "status": "False", "reason": "ConnectUnreachable", "message": "x"}]}
    assert not connectors.is_new_problem(waiting, "ConnectUnreachable", "another error text")
    assert connectors.is_new_problem({}, "ConnectUnreachable", "x")


# --- Moves between clusters ---


def test_a_connector_moved_away_is_leaving_the_cluster_it_is_placed_in() -> None:
    moved = _obj("m", status={"cluster": "a"})
    moved["spec"]["cluster"] = "b"
    assert moves.is_leaving(moved, "a") and not moves.is_leaving(moved, "b")
    assert not moves.is_leaving(_obj("stays", status={"cluster": "c"}), "c")


def test_the_new_cluster_waits_until_the_old_one_lets_go_unless_the_old_one_is_gone() -> None:
    moved = _obj("m", status={"cluster": "a"})
    problem = moves.arriving_problem(moved, "b", old_cluster_exists=True)
    assert problem is not None and problem.reason == "Moving" and not problem.stalled
    assert "KafkaConnect a" in problem.message
    assert moves.arriving_problem(moved, "b", old_cluster_exists=False) is None
    assert moves.arriving_problem(_obj("new"), "b", old_cluster_exists=True) is None


def test_the_old_cluster_stops_then_reads_offsets_and_deletes_then_lets_go() -> None:
    assert moves.leaving_step("RUNNING") == "stop"
    assert moves.leaving_step("PAUSED") == "stop"
    assert moves.leaving_step("FAILED") == "stop"
    assert moves.leaving_step("STOPPED") == "read-and-delete"
    assert moves.leaving_step(None) == "release"


def test_an_arriving_source_starts_stopped_with_its_offsets_once_then_as_its_spec_asks() -> None:
    want = connectors.declare(connectors.screen("c", CLUSTER, {"m": _obj("m")}), CLUSTER, {}, {}).desired["m"]
    offsets = [{"partition": {"filename": "/x"}, "offset": {"position": 42}}]
    move = {"id": "move-from-a-1", "from": "a", "offsets": offsets}
    adjusted, done = moves.arriving(want, move, ConnectorMemory())
    assert not done and adjusted.state == "STOPPED"
    assert adjusted.offsets is not None and adjusted.offsets.action == "alter" and adjusted.offsets.offsets == offsets
    assert adjusted.offsets.id == "move-from-a-1"
    after, done = moves.arriving(want, move, ConnectorMemory(handled_offsets_id="move-from-a-1"))
    assert done and after == want
    # A sink keeps its consumer group on the same Kafka: nothing to carry, it starts as asked.
    assert moves.arriving(want, {"id": "x", "from": "a", "offsets": []}, ConnectorMemory()) == (want, True)
    assert moves.arriving(want, None, ConnectorMemory()) == (want, False)


# --- One-shot requests survive a lost status ---


def test_handled_ids_kept_in_the_annotation_are_restored_when_the_status_is_lost() -> None:
    record = {"restart": "r1", "taskRestarts": ["t1"], "offsets": "o1"}
    annotated = _obj("a")
    annotated["metadata"]["annotations"] = {"kco.dev/handled": json.dumps(record)}
    screened = connectors.screen("c", CLUSTER, {"a": annotated})
    memory = connectors.declare(screened, CLUSTER, {}, {"a": {}}).memory["a"]
    assert (memory.handled_restart_id, memory.handled_task_restart_ids, memory.handled_offsets_id) == (
        "r1",
        ("t1",),
        "o1",
    )
    assert connectors.handled_of(memory) == record
    # A newer id in the status wins over the annotation's, which the next write brings up to date.
    newer = connectors.declare(screened, CLUSTER, {}, {"a": {"sync": {"handled_restart_id": "r2"}}}).memory["a"]
    assert newer.handled_restart_id == "r2"


def test_an_unreadable_annotation_is_ignored_not_fatal() -> None:
    assert connectors.handled_record({"kco.dev/handled": "{not json"}) == {}
    assert connectors.handled_record({"kco.dev/handled": "[1]"}) == {}
    assert connectors.handled_of(ConnectorMemory()) == {}


def test_a_connector_still_placed_in_another_cluster_keeps_only_its_handled_ids_here() -> None:
    moved = _obj(
        "m", status={"cluster": "a", "sync": {"applied_hash": "h", "applied_at": 1.0, "handled_restart_id": "r"}}
    )
    screened = connectors.screen("b", CLUSTER, {"m": moved})
    memory = connectors.declare(screened, CLUSTER, {}, {"m": moved["status"]}, "b").memory["m"]
    assert memory == ConnectorMemory(handled_restart_id="r"), "a's writes are not b's"


# --- KafkaConnect: exposed Secrets ---


def test_each_exposed_secret_gone_is_one_warning_naming_it_and_other_reads_none() -> None:
    reads = {
        "db": SecretRead.not_found("db"),
        "api": SecretRead("api", "u", {"token": b"t"}),
        "refused": SecretRead("refused", error="403 Forbidden"),
    }
    assert kafkaconnect.exposed_secret_warnings(["api", "db", "refused"], reads) == (
        (
            "ExposedSecretMissing",
            "Secret db (spec.exposedSecrets) not found: worker Pods start without it, "
            "connectors that reference it cannot start",
        ),
    )
    assert kafkaconnect.exposed_secret_warnings(["api"], reads) == ()


def test_a_warning_is_new_until_the_degraded_condition_shows_it() -> None:
    db = ("ExposedSecretMissing", "Secret db (spec.exposedSecrets) not found")
    api = ("ExposedSecretMissing", "Secret api (spec.exposedSecrets) not found")
    assert kafkaconnect.new_warnings({}, [db]) == [db]
    shown = {"conditions": [{"type": "Degraded", "status": "True", "message": f"{db[1]}; something else"}]}
    assert kafkaconnect.new_warnings(shown, [db, api]) == [api]
    cleared = {"conditions": [{"type": "Degraded", "status": "False", "message": db[1]}]}
    assert kafkaconnect.new_warnings(cleared, [db]) == [db]


def test_a_connector_requiring_exactly_once_is_refused_on_a_standalone_cluster_only() -> None:
    standalone = KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092", "mode": "standalone"})
    objects = {
        "eos": _obj("eos", spec={"config": {"exactly.once.support": "Required"}}),
        "asks": _obj("asks", spec={"config": {"exactly.once.support": "requested"}}),
    }
    screened = connectors.screen("solo", standalone, objects)
    assert set(screened.connectors) == {"asks"}, "requested is a wish: Connect runs it without, as distributed does"
    problem = screened.problems["eos"]
    assert problem.reason == "NeedsDistributedMode" and problem.stalled
    assert "KafkaConnect solo runs in mode standalone" in problem.message
    assert set(connectors.screen("c", CLUSTER, objects).connectors) == {"eos", "asks"}
