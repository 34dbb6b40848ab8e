"""Typed results of Kafka Connect's REST API (3.6 to 4.x). Unknown fields are kept, never fatal."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ConnectorStateName = Literal["RUNNING", "PAUSED", "STOPPED", "FAILED", "UNASSIGNED", "RESTARTING", "DESTROYED"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


def parse_version(version: str) -> tuple[int, ...]:
    """The leading numeric parts of a Connect version: "3.9.0" → (3, 9, 0), "4.1.0-rc1" → (4, 1, 0).

    Tuples compare the way versions do, so a feature check reads `parse_version(v) >= (3, 9)`.
    """
    parts = []
    for piece in version.strip().split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


class ServerInfo(_Model):
    """GET /: the worker's version, its source commit and the Kafka cluster it belongs to."""

    version: str
    commit: str = ""
    kafka_cluster_id: str = ""

    def version_tuple(self) -> tuple[int, ...]:
        return parse_version(self.version)


class PluginInfo(_Model):
    class_name: str = Field(alias="class")
    type: str = ""
    version: str = ""


class WorkerState(_Model):
    state: str
    worker_id: str = ""
    trace: str | None = None


class TaskState(WorkerState):
    id: int


class ConnectorStateInfo(_Model):
    """GET /connectors/<name>/status: Connect's view (not the Connector resource's status)."""

    name: str
    connector: WorkerState
    tasks: list[TaskState] = Field(default_factory=list)
    type: str = ""


class TaskId(_Model):
    connector: str
    task: int


class ConnectorInfo(_Model):
    name: str
    config: dict[str, str]
    tasks: list[TaskId] = Field(default_factory=list)
    type: str = ""


class ExpandedConnector(_Model):
    """One entry of GET /connectors?expand=status&expand=info. Either part may be missing mid-change."""

    status: ConnectorStateInfo | None = None
    info: ConnectorInfo | None = None


class ConfigValueReport(_Model):
    name: str
    value: str | None = None
    errors: list[str] = Field(default_factory=list)
    visible: bool = True


class ConfigReport(_Model):
    value: ConfigValueReport


class ValidationResult(_Model):
    name: str = ""
    error_count: int
    groups: list[str] = Field(default_factory=list)
    configs: list[ConfigReport] = Field(default_factory=list)

    def field_errors(self) -> dict[str, list[str]]:
        """Config key → Connect's messages, for the keys that have any."""
        return {c.value.name: list(c.value.errors) for c in self.configs if c.value.errors}


class ConnectorOffset(_Model):
    partition: dict[str, Any]
    offset: dict[str, Any] | None


class ConnectorOffsets(_Model):
    offsets: list[ConnectorOffset] = Field(default_factory=list)
