"""Which dead letter queue topics a sync must make sure of before Connect uses them (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import DeadLetterQueue


@dataclass(frozen=True)
class QueueWanted:
    topic: str
    partitions: int
    replication_factor: int


def wanted(objects: Mapping[str, Mapping[str, Any]], ready: Set[str]) -> dict[str, QueueWanted]:
    """Connect name → its dead letter queue, for each declared connector whose topic is not known to exist."""
    found = {}
    for name, obj in objects.items():
        declared = ((obj.get("spec") or {}).get("errorHandling") or {}).get("deadLetterQueue")
        if not declared:
            continue
        try:
            queue = DeadLetterQueue.model_validate(declared)
        except ValidationError:
            continue  # the Connector's own validation reports it
        if queue.topic not in ready:
            found[name] = QueueWanted(queue.topic, queue.partitions, queue.replication_factor)
    return found


def problem_message(topic: str, detail: str) -> str:
    return f"dead letter queue topic {topic}: {detail}; the connector is not created or changed until it exists"


def failures(queues: Iterable[str], problems: Sequence[str]) -> dict[str, str]:
    """Topic → why it is not usable: a problem naming a topic is that topic's; any other (Kafka unreachable,
    a client that cannot be made) is every topic's."""
    wanted = list(queues)
    found: dict[str, list[str]] = {}
    for problem in problems:
        named = [t for t in wanted if f"topic {t}:" in problem or f"topic {t} " in problem]
        for topic in named or wanted:
            found.setdefault(topic, []).append(problem)
    return {topic: "; ".join(reasons) for topic, reasons in found.items()}
