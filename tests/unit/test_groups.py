"""Which group a KafkaConnect runs as, and who holds a group first (policy.groups)."""

from __future__ import annotations

from typing import Any

import pytest

from connect_operator.policy import groups


def _claim(name: str, namespace: str = "a", created: str = "2026-01-01T00:00:00Z", **fields: Any) -> groups.GroupClaim:
    values: dict[str, Any] = {
        "namespace": namespace,
        "name": name,
        "uid": f"uid-{namespace}-{name}",
        "created": created,
        "group_id": "shared",
        "bootstrap_servers": "kafka:9092",
        **fields,
    }
    return groups.GroupClaim(**values)


@pytest.mark.parametrize(
    ("spec", "recorded", "running", "expected"),
    [
        ("explicit", "recorded", "running", "explicit"),
        (None, "recorded", "running", "recorded"),
        (None, None, "running", "running"),
        (None, None, None, "ns.connect"),
    ],
)
def test_the_group_id_is_the_specs_then_the_one_running_then_a_new_default(
    spec: str | None, recorded: str | None, running: str | None, expected: str
) -> None:
    assert groups.effective_group_id(spec, recorded, running, "ns", "connect") == expected


def test_two_same_named_clusters_in_two_namespaces_get_two_groups() -> None:
    first = groups.claim_of({"metadata": {"namespace": "team-a", "name": "connect"}, "spec": {}})
    second = groups.claim_of({"metadata": {"namespace": "team-b", "name": "connect"}, "spec": {}})
    assert first.group_id != second.group_id


def test_the_claim_of_a_cluster_is_the_group_its_status_records() -> None:
    body = {
        "metadata": {"namespace": "a", "name": "connect", "uid": "u"},
        "spec": {"bootstrapServers": "k:9092"},
        "status": {"groupId": "connect", "kafkaClusterId": "kc1"},
    }
    claim = groups.claim_of(body)
    assert (claim.group_id, claim.kafka_cluster_id) == ("connect", "kc1")


def test_the_older_cluster_holds_a_shared_group_and_the_newer_is_refused() -> None:
    older = _claim("first", namespace="a", created="2026-01-01T00:00:00Z")
    newer = _claim("second", namespace="b", created="2026-01-02T00:00:00Z")
    assert groups.holder(newer, [older, newer]) == older
    assert groups.holder(older, [older, newer]) is None
    reason, message = groups.conflict_problem(newer, older)
    assert reason == "GroupIdConflict" and "a/first" in message and "spec.groupId" in message


def test_the_same_group_on_another_kafka_is_no_conflict() -> None:
    older = _claim("first", kafka_cluster_id="kafka-1")
    other_kafka = _claim("second", namespace="b", created="2026-02-01T00:00:00Z", kafka_cluster_id="kafka-2")
    assert groups.holder(other_kafka, [older]) is None


def test_without_cluster_ids_a_shared_bootstrap_address_means_the_same_kafka() -> None:
    older = _claim("first", bootstrap_servers="k1:9092,k2:9092")
    newer = _claim("second", namespace="b", created="2026-02-01T00:00:00Z", bootstrap_servers="SASL_SSL://K2:9092")
    elsewhere = _claim("third", namespace="c", created="2026-02-01T00:00:00Z", bootstrap_servers="k3:9092")
    assert groups.holder(newer, [older]) == older
    assert groups.holder(elsewhere, [older]) is None


def test_another_group_id_is_no_conflict() -> None:
    assert groups.holder(_claim("second", namespace="b", group_id="mine"), [_claim("first")]) is None


def test_same_creation_time_is_decided_by_namespace_and_name() -> None:
    a, b = _claim("x", namespace="a"), _claim("x", namespace="b")
    assert groups.holder(b, [a]) == a and groups.holder(a, [b]) is None


@pytest.mark.parametrize("state", ["STABLE", "PREPARING_REBALANCE", "COMPLETING_REBALANCE"])
def test_a_live_group_is_refused_for_a_cluster_without_workers(state: str) -> None:
    problem = groups.live_group_problem("g", state, has_workers=False)
    assert problem is not None and problem[0] == "GroupIdInUse" and "g" in problem[1]


@pytest.mark.parametrize(("state", "has_workers"), [("EMPTY", False), ("DEAD", False), (None, False), ("STABLE", True)])
def test_an_idle_group_or_a_cluster_with_workers_may_run(state: str | None, has_workers: bool) -> None:
    assert groups.live_group_problem("g", state, has_workers) is None
