"""What a sync did and found, per connector: the executor's outcomes, the status-ready results, and the
memory carried to the next sync. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connect_operator.connect.models import TaskState
from connect_operator.engine import actions as act
from connect_operator.engine.memory import ConnectorMemory, EngineMemory
from connect_operator.engine.observed import ObservedConnector
from connect_operator.engine.planner import ConnectorPlan, Plan

TRACE_LIMIT = 2000


@dataclass
class ConnectorOutcome:
    """What executing one connector's actions did. Filled in by the executor as steps succeed."""

    name: str
    done: list[act.Action] = field(default_factory=list)
    error: str | None = None
    validation_errors: dict[str, list[str]] | None = None
    offsets: list[dict[str, Any]] | None = None
    offsets_message: str = ""


@dataclass(frozen=True)
class LateOutcome:
    """Steps an earlier sync left running past its deadline, now finished: what that sync planned for the
    connector, what the steps did, and when they ended (the time a write is remembered at)."""

    plan: ConnectorPlan
    outcome: ConnectorOutcome
    finished_at: float


@dataclass(frozen=True)
class TaskResult:
    id: int
    state: str
    worker_id: str
    trace: str | None


@dataclass(frozen=True)
class ConnectorResult:
    """Everything a status needs about one connector after one sync."""

    name: str
    state: str | None
    worker_id: str
    trace: str | None
    tasks: tuple[TaskResult, ...]
    actions: tuple[str, ...]
    config_valid: bool | None
    field_errors: Mapping[str, tuple[str, ...]]
    errors: tuple[str, ...]
    drift: tuple[str, ...]
    waiting: str
    unmanaged: bool
    deleted: bool
    restart_count: int
    last_restart_at: float | None
    auto_restart_exhausted: bool
    handled_restart_id: str | None
    handled_task_restart_ids: tuple[str, ...]
    handled_offsets_id: str | None
    offsets: list[dict[str, Any]] | None

    @property
    def ready(self) -> bool:
        """Running as asked, with no FAILED part, no error and a valid config; RUNNING means with tasks."""
        failed = self.state == "FAILED" or any(t.state == "FAILED" for t in self.tasks)
        taskless = self.state == "RUNNING" and not self.tasks
        return (
            not failed
            and not taskless
            and not self.errors
            and self.config_valid is not False
            and self.state is not None
        )


def remember(memory: EngineMemory, plan: Plan, outcomes: Mapping[str, ConnectorOutcome], now: float) -> EngineMemory:
    """The memory after executing `plan`: writes made, requests handled, restarts counted."""
    updated = dict(memory)
    for name, connector_plan in plan.connectors.items():
        if connector_plan.in_flight:
            continue  # its steps are still running: their outcome is remembered when it comes in
        before = memory.get(name, ConnectorMemory())
        outcome = outcomes.get(name, ConnectorOutcome(name))
        if any(isinstance(a, act.Delete) for a in outcome.done):
            updated.pop(name, None)
            continue
        updated[name] = _remember_one(before, connector_plan, outcome, now)
    return updated


def remember_late(memory: EngineMemory, late: Mapping[str, LateOutcome]) -> EngineMemory:
    """The memory once late outcomes are in: each remembered as its own sync would have, had it waited."""
    for name, entry in late.items():
        memory = remember(memory, Plan({name: entry.plan}), {name: entry.outcome}, entry.finished_at)
    return memory


def with_late(outcomes: Mapping[str, ConnectorOutcome], late: Mapping[str, LateOutcome]) -> dict[str, ConnectorOutcome]:
    """This sync's outcomes with late ones folded in, for the report: late steps first, then this sync's."""
    merged = dict(outcomes)
    for name, entry in late.items():
        now = outcomes.get(name, ConnectorOutcome(name))
        then = entry.outcome
        merged[name] = ConnectorOutcome(
            name,
            done=[*then.done, *now.done],
            error=now.error or then.error,
            validation_errors=now.validation_errors if now.validation_errors is not None else then.validation_errors,
            offsets=now.offsets if now.offsets is not None else then.offsets,
            offsets_message=now.offsets_message or then.offsets_message,
        )
    return merged


def _remember_one(mem: ConnectorMemory, plan: ConnectorPlan, outcome: ConnectorOutcome, now: float) -> ConnectorMemory:
    changes: dict[str, Any] = {}
    if plan.in_sync_hash and mem.applied_hash != plan.in_sync_hash:
        changes.update(applied_hash=plan.in_sync_hash, applied_at=None)
    if plan.healthy:
        healthy_since = mem.healthy_since if mem.healthy_since is not None else now
        changes["healthy_since"] = healthy_since
        reset_after = plan.reset_after_seconds
        if mem.restart_count and reset_after is not None and now - healthy_since >= reset_after:
            changes.update(restart_count=0, last_restart_at=None)
    elif mem.healthy_since is not None:
        changes["healthy_since"] = None
    if outcome.validation_errors is not None:
        validate = next(a for a in plan.actions if isinstance(a, act.Validate))
        errors = {k: tuple(v) for k, v in outcome.validation_errors.items()}
        changes.update(invalid_hash=validate.config_hash if errors else None, invalid_errors=errors, validated_at=now)
    if plan.secrets_record is not None:
        changes.update(secrets_version=plan.secrets_record, secrets_pending=None, secrets_pending_since=None)
    elif plan.secrets_pending is not None and mem.secrets_pending != plan.secrets_pending:
        changes.update(secrets_pending=plan.secrets_pending, secrets_pending_since=now)
    for step in outcome.done:
        changes.update(_remember_step(mem, step, now, changes))
    return mem.evolve(**changes)


def _remember_step(mem: ConnectorMemory, step: act.Action, now: float, so_far: Mapping[str, Any]) -> dict[str, Any]:
    match step:
        case act.Create(config_hash=digest, restart_id=restart_id, task_restart_ids=task_ids, secrets_version=secrets):
            handled = tuple(dict.fromkeys((*mem.handled_task_restart_ids, *task_ids)))
            return {
                "secrets_version": secrets,
                "applied_hash": digest,
                "applied_at": now,
                "restart_count": 0,
                "last_restart_at": None,
                "handled_restart_id": restart_id or mem.handled_restart_id,
                "handled_task_restart_ids": handled,
            }
        case act.Update(config_hash=digest):
            return {"applied_hash": digest, "applied_at": now}
        case act.ChangeState(target=target):
            return {"state_command": target, "state_command_at": now}
        case act.Restart(secrets_version=str() as secrets):
            return {"secrets_version": secrets, "secrets_pending": None, "secrets_pending_since": None}
        case act.Restart(request_id=None):
            count = int(so_far.get("restart_count", mem.restart_count))
            return {"restart_count": count + 1, "last_restart_at": now, "healthy_since": None}
        case act.Restart(request_id=rid):
            return {"handled_restart_id": rid}
        case act.RestartTask(request_id=rid):
            handled = tuple(so_far.get("handled_task_restart_ids", mem.handled_task_restart_ids))
            return {"handled_task_restart_ids": (*handled, rid)}
        case act.Offsets(request_id=rid):
            return {"handled_offsets_id": rid}
        case _:
            return {}


def summarise(
    plan: Plan,
    observed: Mapping[str, ObservedConnector],
    outcomes: Mapping[str, ConnectorOutcome],
    memory_after: EngineMemory,
) -> dict[str, ConnectorResult]:
    results = {}
    for name, connector_plan in plan.connectors.items():
        seen = observed.get(name)
        outcome = outcomes.get(name, ConnectorOutcome(name))
        mem = memory_after.get(name, ConnectorMemory())
        if outcome.validation_errors is not None:
            field_errors = {k: tuple(v) for k, v in outcome.validation_errors.items()}
        else:
            field_errors = dict(connector_plan.cached_invalid or {})
        config_valid = (
            not field_errors if (outcome.validation_errors is not None or connector_plan.cached_invalid) else None
        )
        errors = [outcome.error] if outcome.error else []
        results[name] = ConnectorResult(
            name=name,
            state=seen.state if seen else None,
            worker_id=seen.worker_id if seen else "",
            trace=_truncate(seen.trace) if seen else None,
            tasks=tuple(_task(t) for t in seen.tasks) if seen else (),
            actions=tuple(act.describe(a) for a in outcome.done),
            config_valid=config_valid,
            field_errors=field_errors,
            errors=(*errors, *connector_plan.blocked),
            drift=connector_plan.drift,
            waiting=connector_plan.waiting,
            unmanaged=connector_plan.unmanaged,
            deleted=any(isinstance(a, act.Delete) for a in outcome.done),
            restart_count=mem.restart_count,
            last_restart_at=mem.last_restart_at,
            auto_restart_exhausted=connector_plan.auto_restart_exhausted,
            handled_restart_id=mem.handled_restart_id,
            handled_task_restart_ids=mem.handled_task_restart_ids,
            handled_offsets_id=mem.handled_offsets_id,
            offsets=outcome.offsets,
        )
    return results


def _task(task: TaskState) -> TaskResult:
    return TaskResult(task.id, task.state, task.worker_id, _truncate(task.trace))


def _truncate(trace: str | None) -> str | None:
    if trace is None or len(trace) <= TRACE_LIMIT:
        return trace
    return trace[:TRACE_LIMIT] + f"… ({len(trace) - TRACE_LIMIT} more characters)"
