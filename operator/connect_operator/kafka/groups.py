"""What Kafka says about a Connect group before a cluster joins it: the Kafka cluster's id and the group's state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient


@dataclass(frozen=True)
class GroupProbe:
    kafka_cluster_id: str | None
    state: str | None  # e.g. STABLE, EMPTY; None when Kafka would not say


class KafkaUnreachable(Exception):
    pass


class KafkaClientInvalid(Exception):
    pass


def probe(
    bootstrap_servers: str, group_id: str, timeout: float, client_config: Mapping[str, str] | None = None
) -> GroupProbe:
    """One metadata request (the cluster id) and one DescribeGroups (the group's state)."""
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 0, **(client_config or {})})
    except KafkaException as exc:  # e.g. a certificate or key that is not PEM
        raise KafkaClientInvalid(f"cannot configure a Kafka client for {bootstrap_servers}: {exc}") from None
    try:
        cluster_id = admin.list_topics(timeout=timeout).cluster_id
    except KafkaException as exc:
        raise KafkaUnreachable(f"cannot reach Kafka at {bootstrap_servers}: {exc}") from None
    try:
        described = admin.describe_consumer_groups([group_id], request_timeout=timeout)[group_id].result()
    except KafkaException:
        # Not every Kafka-protocol server describes groups (or lets this client): the check is then skipped.
        return GroupProbe(cluster_id, None)
    return GroupProbe(cluster_id, described.state.name if described.state is not None else None)
