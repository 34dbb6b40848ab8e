"""The Connector resource: one connector in a Connect cluster, its desired state and one-shot requests."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connect_operator.api.v1alpha1 import API_VERSION
from connect_operator.api.v1alpha1.common import Condition
from connect_operator.api.v1alpha1.common import Spec as _Spec

# Keys that come from dedicated spec fields; in `config` they would be ambiguous.
RESERVED_CONFIG_KEYS = frozenset({"name", "connector.class", "tasks.max"})
# The CRD's ceiling on tasksMax; each KafkaConnect sets its own, lower cap (spec.maxTasksPerConnector).
TASKS_MAX_CEILING = 1000


class SecretKeyRef(_Spec):
    name: str = Field(description="Name of a Secret the Connect cluster exposes to connectors.")
    key: str = Field(description="Key within the Secret.")


class ValueFrom(_Spec):
    secret_key_ref: SecretKeyRef = Field(alias="secretKeyRef", description="A key of a Secret.")


class ConfigValueFrom(_Spec):
    value_from: ValueFrom = Field(alias="valueFrom", description="Where the value comes from.")


ConfigValue = str | int | float | bool | list[str | int | float | bool] | ConfigValueFrom


class RestartRequest(_Spec):
    id: str = Field(min_length=1, description="Change the id to ask for another restart; each id is honoured once.")
    include_tasks: bool = Field(default=False, alias="includeTasks", description="Restart the tasks too.")
    only_failed: bool = Field(default=False, alias="onlyFailed", description="Restart only FAILED instances.")


class TaskRestartRequest(_Spec):
    id: str = Field(min_length=1, description="Each id is honoured once.")
    task: int = Field(ge=0, description="The task number.")


class OffsetsRequest(_Spec):
    id: str = Field(min_length=1, description="Each id is honoured once.")
    action: Literal["list", "alter", "reset"] = Field(
        description="list: copy offsets into status; alter and reset need state: stopped."
    )
    offsets: list[dict[str, Any]] = Field(
        default_factory=list, description="For alter: entries of {partition, offset} as Connect's offsets API takes."
    )


class AutoRestartPolicy(_Spec):
    enabled: bool = Field(default=True, description="Restart a FAILED connector or FAILED tasks automatically.")
    max_restarts: int | None = Field(
        default=10, ge=0, alias="maxRestarts", description="Give up after this many; null: never give up."
    )
    backoff_seconds: float = Field(default=30, gt=0, alias="backoffSeconds", description="Delay before the first.")
    max_backoff_seconds: float = Field(
        default=1800, gt=0, alias="maxBackoffSeconds", description="The delay doubles up to this cap."
    )
    reset_after_seconds: float = Field(
        default=600, gt=0, alias="resetAfterSeconds", description="Healthy this long, the count starts again."
    )


class DeadLetterQueue(_Spec):
    topic: str = Field(
        min_length=1,
        max_length=249,
        pattern=r"^[a-zA-Z0-9._-]+$",
        description="Where a sink puts the records it could not convert, transform or deliver.",
    )
    replication_factor: int = Field(default=3, ge=1, alias="replicationFactor", description="Replicas of the topic.")
    partitions: int = Field(default=1, ge=1, description="Partitions of the topic, if the operator creates it.")
    context_headers: bool = Field(
        default=True,
        alias="contextHeaders",
        description="Add headers saying where each record came from and why it failed (__connect.errors.*).",
    )


class ErrorHandling(_Spec):
    """Connect's errors.* settings as fields; the dead letter queue is for sink connectors."""

    tolerance: Literal["none", "all"] = Field(
        default="none", description="none: a bad record fails the task; all: it is skipped (and reported)."
    )
    retry_timeout_ms: int = Field(
        default=0, ge=-1, alias="retryTimeoutMs", description="How long a failed operation is retried; -1: forever."
    )
    retry_max_delay_ms: int = Field(
        default=60000, ge=0, alias="retryMaxDelayMs", description="The longest wait between retries."
    )
    log: bool = Field(default=False, description="Log each error, with the operation and the record's place.")
    log_messages: bool = Field(
        default=False, alias="logMessages", description="Include the record itself in those logs (beware: its data)."
    )
    dead_letter_queue: DeadLetterQueue | None = Field(
        default=None,
        alias="deadLetterQueue",
        description="Sinks: a topic for the failed records, which the operator creates before the connector.",
    )

    def connect_config(self) -> dict[str, str]:
        """The errors.* keys Connect reads, as it stores them."""
        config = {
            "errors.tolerance": self.tolerance,
            "errors.retry.timeout": str(self.retry_timeout_ms),
            "errors.retry.delay.max.ms": str(self.retry_max_delay_ms),
            "errors.log.enable": _flag(self.log),
            "errors.log.include.messages": _flag(self.log_messages),
        }
        if self.dead_letter_queue is not None:
            queue = self.dead_letter_queue
            config |= {
                "errors.deadletterqueue.topic.name": queue.topic,
                "errors.deadletterqueue.topic.replication.factor": str(queue.replication_factor),
                "errors.deadletterqueue.context.headers.enable": _flag(queue.context_headers),
            }
        return config


def _flag(value: bool) -> str:
    return "true" if value else "false"


class ConnectorSpec(_Spec):
    cluster: str = Field(
        min_length=1,
        max_length=253,
        description="The KafkaConnect (same namespace) this connector runs in. Editing it moves the connector: "
        "stopped and deleted in the old cluster before it starts in the new one, a source's offsets carried.",
    )
    connector_name: str | None = Field(
        default=None,
        alias="connectorName",
        min_length=1,
        max_length=249,
        pattern=r"^[^\s/\\](.*[^\s/\\])?$",
        description="The connector's name in Connect, for names Kubernetes forbids (My_Source); default "
        "metadata.name. Fixed once the connector exists; unique per cluster.",
    )
    class_name: str = Field(alias="class", min_length=1, description="The connector class.")
    tasks_max: int = Field(
        default=1,
        ge=1,
        le=TASKS_MAX_CEILING,
        alias="tasksMax",
        description="The most tasks the connector may run (at most the cluster's spec.maxTasksPerConnector).",
    )
    config: dict[str, ConfigValue] = Field(default_factory=dict, description="Connector configuration.")
    state: Literal["running", "paused", "stopped"] = Field(default="running", description="Desired state.")
    restart: RestartRequest | None = Field(default=None, description="A one-shot restart, honoured once per id.")
    task_restarts: list[TaskRestartRequest] = Field(
        default_factory=list, alias="taskRestarts", description="One-shot task restarts, honoured once per id."
    )
    offsets: OffsetsRequest | None = Field(default=None, description="A one-shot offsets operation, once per id.")
    auto_restart: AutoRestartPolicy | None = Field(
        default=None, alias="autoRestart", description="Overrides the cluster's auto-restart defaults."
    )
    error_handling: ErrorHandling | None = Field(
        default=None,
        alias="errorHandling",
        description="Tolerance, retries, error logs and a dead letter queue (Connect's errors.* keys, which "
        "config may then not set).",
    )

    @model_validator(mode="after")
    def _errors_set_once(self) -> ConnectorSpec:
        if self.error_handling is not None:
            clashes = sorted(key for key in self.config if key.startswith("errors."))
            if clashes:
                raise ValueError(
                    f"config may not set {', '.join(clashes)} when spec.errorHandling is set: it sets them"
                )
        return self

    @field_validator("config")
    @classmethod
    def _no_reserved_keys(cls, config: dict[str, ConfigValue]) -> dict[str, ConfigValue]:
        clashes = sorted(RESERVED_CONFIG_KEYS.intersection(config))
        if clashes:
            raise ValueError(
                f"config may not set {', '.join(clashes)}: use metadata.name, spec.class and spec.tasksMax"
            )
        return config


class TaskStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    id: int = Field(description="Task number.")
    state: str = Field(description="RUNNING, PAUSED, FAILED, UNASSIGNED, RESTARTING.")
    worker_id: str = Field(default="", alias="workerId", description="Worker running the task.")
    trace: str | None = Field(default=None, description="Start of the stack trace of a FAILED task.")


class AutoRestartStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    count: int = Field(default=0, description="Automatic restarts since the connector was last healthy.")
    last_restart_time: str | None = Field(default=None, alias="lastRestartTime", description="RFC 3339.")


class HandledRequests(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    restart: str | None = Field(default=None, description="Id of the last restart request honoured.")
    task_restarts: list[str] = Field(default_factory=list, alias="taskRestarts", description="Task restart ids.")
    offsets: str | None = Field(default=None, description="Id of the last offsets request honoured.")


class MoveStatus(BaseModel):
    """A move between clusters after the old one let go: what the new one must start from."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    id: str = Field(description="Names the offsets change that starts it here, so it is made once.")
    from_cluster: str = Field(alias="from", description="The KafkaConnect the connector was stopped and deleted in.")
    offsets: list[dict[str, Any]] = Field(
        default_factory=list, description="A source connector's offsets read there, to set before it starts here."
    )


class ConnectorStatus(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Reconciling, Stalled (kstatus), ConfigValid, Synced."
    )
    cluster: str | None = Field(default=None, description="The KafkaConnect the connector was last placed in.")
    connector_name: str | None = Field(
        default=None, alias="connectorName", description="The connector's name in Connect, fixed once created."
    )
    move: MoveStatus | None = Field(
        default=None, description="Set while a connector moved from another cluster is started from its offsets."
    )
    observed_generation: int | None = Field(default=None, alias="observedGeneration", description="Last handled.")
    state: str | None = Field(default=None, description="The connector's state in Connect.")
    worker_id: str | None = Field(default=None, alias="workerId", description="Worker running the connector.")
    tasks: list[TaskStatus] = Field(default_factory=list, description="The connector's tasks.")
    tasks_ready: str | None = Field(default=None, alias="tasksReady", description="RUNNING tasks / all, e.g. 2/3.")
    drift: list[str] = Field(
        default_factory=list, description="Config keys last found changed in Connect and reverted."
    )
    validation_errors: dict[str, list[str]] = Field(
        default_factory=dict, alias="validationErrors", description="Config key → Connect's validation messages."
    )
    auto_restart: AutoRestartStatus | None = Field(default=None, alias="autoRestart", description="Auto-restarts.")
    handled: HandledRequests | None = Field(default=None, description="One-shot requests already honoured.")
    offsets: list[dict[str, Any]] | None = Field(default=None, description="Offsets listed by the last list request.")
    sync: dict[str, Any] | None = Field(
        default=None, description="The sync engine's memory of this connector (writes, restarts, handled ids)."
    )
    dead_letter_queue: str | None = Field(
        default=None,
        alias="deadLetterQueue",
        description="The dead letter queue topic, once it exists in Kafka (created by the operator if it did not).",
    )


class ObjectMeta(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)
    name: str = Field(min_length=1, max_length=253)
    namespace: str | None = None
    generation: int | None = None


class Connector(BaseModel):
    """A Connector manifest as `kubectl apply` and `kco apply` read it."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)
    api_version: str = Field(alias="apiVersion")
    kind: Literal["Connector"]
    metadata: ObjectMeta
    spec: ConnectorSpec

    @model_validator(mode="after")
    def _known_api_version(self) -> Connector:
        if self.api_version != API_VERSION:
            raise ValueError(f"apiVersion must be {API_VERSION}, not {self.api_version}")
        return self
