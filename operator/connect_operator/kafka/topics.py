"""Ensure topics exist before Connect uses them: a group's internal topics (compacted) before any worker
starts, a connector's dead letter queue before the connector."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # type: ignore[attr-defined]


@dataclass(frozen=True)
class TopicWanted:
    name: str
    partitions: int
    replication_factor: int
    role: str  # config, offset or status; or dead letter queue
    cleanup_policy: str = "compact"


def problems_with(configs: Mapping[str, str], partitions: int, wanted: TopicWanted) -> list[str]:
    """Why an existing topic must not be used as `wanted` (pure)."""
    found = []
    policy = configs.get("cleanup.policy", "delete")
    if wanted.cleanup_policy == "compact" and "compact" not in policy.split(","):
        found.append(
            f"topic {wanted.name} exists with cleanup.policy={policy}; Connect's {wanted.role} topic "
            "must be compacted (change it, or name another topic in spec.internalTopics)"
        )
    if wanted.role == "config" and partitions != 1:
        found.append(f"topic {wanted.name} has {partitions} partitions; the config topic needs exactly 1")
    return found


def ensure(
    bootstrap_servers: str,
    wanted: Sequence[TopicWanted],
    timeout: float,
    client_config: Mapping[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """Create the missing topics (compacted); return (created, problems with existing ones).

    `client_config` may hold credentials: callers redact what comes back before showing it.
    """
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap_servers, "log_level": 0, **(client_config or {})})
    except KafkaException as exc:  # e.g. a certificate or key that is not PEM
        return [], [f"cannot configure a Kafka client for {bootstrap_servers}: {exc}"]
    try:
        existing = admin.list_topics(timeout=timeout).topics
    except KafkaException as exc:
        return [], [f"cannot reach Kafka at {bootstrap_servers}: {exc}"]
    missing = [w for w in wanted if w.name not in existing]
    created: list[str] = []
    problems: list[str] = []
    if missing:
        futures = admin.create_topics(
            [
                NewTopic(w.name, w.partitions, w.replication_factor, config={"cleanup.policy": w.cleanup_policy})
                for w in missing
            ],
            request_timeout=timeout,
        )
        for name, future in futures.items():
            try:
                future.result(timeout=timeout)
                created.append(name)
            except KafkaException as exc:
                problems.append(f"cannot create topic {name}: {exc}")
    present = [w for w in wanted if w.name in existing]
    if present:
        resources = [ConfigResource(ConfigResource.Type.TOPIC, w.name) for w in present]
        described = admin.describe_configs(resources, request_timeout=timeout)
        for want, resource in zip(present, resources, strict=True):
            try:
                entries = described[resource].result(timeout=timeout)
            except KafkaException as exc:
                problems.append(f"cannot describe topic {want.name}: {exc}")
                continue
            configs = {key: entry.value for key, entry in entries.items()}
            problems += problems_with(configs, len(existing[want.name].partitions), want)
    return created, problems
