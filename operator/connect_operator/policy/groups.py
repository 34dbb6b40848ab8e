"""Which Connect group a KafkaConnect runs as, and whether another cluster already holds that group.

Two clusters in one Connect group on one Kafka silently become one: each sees the other's connectors
as its own. So the default group id is unique per namespace and name, a running cluster keeps the id
it runs with, and a group another cluster holds is refused before anything is created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from connect_operator.render.workerconfig import default_group_id

Problem = tuple[str, str]  # (reason, message) for the Ready condition

# Group states in which nobody runs the group: a new cluster may take it.
IDLE_STATES = frozenset({"EMPTY", "DEAD", "UNKNOWN"})


def effective_group_id(
    spec_group_id: str | None, recorded: str | None, running: str | None, namespace: str, name: str
) -> str:
    """spec.groupId if set; else the id the cluster already runs with (status, then its workers' config); else new."""
    return spec_group_id or recorded or running or default_group_id(namespace, name)


@dataclass(frozen=True)
class GroupClaim:
    """One KafkaConnect's hold on a Connect group, as far as the operator knows it."""

    namespace: str
    name: str
    uid: str
    created: str  # creationTimestamp (RFC 3339): the older claim keeps the group
    group_id: str
    bootstrap_servers: str
    kafka_cluster_id: str | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def claim_of(body: Mapping[str, Any]) -> GroupClaim:
    """A KafkaConnect's claim from its object: spec.groupId, else the group its status records, else the default."""
    meta, spec, status = body.get("metadata") or {}, body.get("spec") or {}, body.get("status") or {}
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    group = effective_group_id(spec.get("groupId"), status.get("groupId"), None, namespace, name)
    return GroupClaim(
        namespace=namespace,
        name=name,
        uid=str(meta.get("uid", "")),
        created=str(meta.get("creationTimestamp", "")),
        group_id=group,
        bootstrap_servers=str(spec.get("bootstrapServers", "")),
        kafka_cluster_id=status.get("kafkaClusterId"),
    )


def same_kafka(a: GroupClaim, b: GroupClaim) -> bool:
    """By Kafka's cluster id where both are known; otherwise by a bootstrap address they share."""
    if a.kafka_cluster_id and b.kafka_cluster_id:
        return a.kafka_cluster_id == b.kafka_cluster_id
    return bool(_addresses(a.bootstrap_servers) & _addresses(b.bootstrap_servers))


def _addresses(bootstrap_servers: str) -> set[str]:
    found = set()
    for entry in bootstrap_servers.split(","):
        address = entry.strip().lower()
        if "://" in address:  # a listener-style entry, SASL_SSL://host:port
            address = address.split("://", 1)[1]
        if address:
            found.add(address)
    return found


def holder(me: GroupClaim, others: Iterable[GroupClaim]) -> GroupClaim | None:
    """The KafkaConnect that holds my group on my Kafka before me, if any: the oldest, then by namespace/name."""
    rivals = [
        other
        for other in others
        if other.uid != me.uid and other.group_id == me.group_id and same_kafka(me, other) and _before(other, me)
    ]
    return min(rivals, key=lambda c: (c.created, c.key), default=None)


def _before(other: GroupClaim, me: GroupClaim) -> bool:
    return (other.created, other.key) < (me.created, me.key)


def conflict_problem(me: GroupClaim, held_by: GroupClaim) -> Problem:
    return (
        "GroupIdConflict",
        f"Connect group {me.group_id} on this Kafka is already KafkaConnect {held_by.key}'s: two clusters in one "
        "group would run each other's connectors. Set another spec.groupId (or delete the other cluster).",
    )


def live_group_problem(group_id: str, state: str | None, has_workers: bool) -> Problem | None:
    """A new cluster must not join a group that someone else already runs on the same Kafka."""
    if has_workers or state is None or state.upper() in IDLE_STATES:
        return None
    return (
        "GroupIdInUse",
        f"Connect group {group_id} is active on Kafka (state {state.lower()}) and this cluster has no workers yet: "
        "another Connect cluster runs as that group. Set another spec.groupId, or stop the other cluster.",
    )
