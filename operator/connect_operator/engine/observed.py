"""One `GET /connectors?expand=status&expand=info` answer → what the planner knows of each connector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connect_operator.connect.models import ExpandedConnector, TaskState


@dataclass(frozen=True)
class ObservedConnector:
    name: str
    config: Mapping[str, str] | None
    state: str | None
    worker_id: str
    trace: str | None
    tasks: tuple[TaskState, ...]
    type: str

    @property
    def failed_tasks(self) -> tuple[TaskState, ...]:
        return tuple(t for t in self.tasks if t.state == "FAILED")

    @property
    def is_failed(self) -> bool:
        return self.state == "FAILED" or bool(self.failed_tasks)

    @property
    def is_healthy_running(self) -> bool:
        return self.state == "RUNNING" and all(t.state == "RUNNING" for t in self.tasks)


def from_expanded(body: Mapping[str, ExpandedConnector]) -> dict[str, ObservedConnector]:
    observed = {}
    for name, entry in body.items():
        status, info = entry.status, entry.info
        observed[name] = ObservedConnector(
            name=name,
            config=dict(info.config) if info else None,
            state=status.connector.state if status else None,
            worker_id=status.connector.worker_id if status else "",
            trace=status.connector.trace if status else None,
            tasks=tuple(sorted(status.tasks, key=lambda t: t.id)) if status else (),
            type=(status.type if status else "") or (info.type if info else ""),
        )
    return observed
