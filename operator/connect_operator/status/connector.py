"""A Connector's status from one sync's result: conditions, state, tasks, drift, requests, engine memory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.results import ConnectorResult
from connect_operator.status.conditions import rfc3339, set_condition


def from_result(
    previous: Mapping[str, Any],
    result: ConnectorResult,
    memory: ConnectorMemory,
    generation: int | None,
    now: str,
    *,
    cluster: str | None = None,
    connector_name: str | None = None,
) -> dict[str, Any]:
    """`cluster`, `connector_name`: where the connector lives and its name in Connect, recorded once it exists."""
    conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
    if result.config_valid is False:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in result.field_errors.items())
        conditions = set_condition(
            conditions,
            "ConfigValid",
            False,
            "ValidationFailed",
            f"Connect rejected the config, nothing was sent: {detail}",
            generation,
            now,
        )
    elif result.config_valid is True or result.state is not None:
        conditions = set_condition(conditions, "ConfigValid", True, "Valid", "", generation, now)
    failed = [t for t in result.tasks if t.state == "FAILED"]
    if result.errors:
        conditions = set_condition(conditions, "Synced", False, "SyncFailed", "; ".join(result.errors), generation, now)
    elif result.waiting:
        conditions = set_condition(conditions, "Synced", False, "Waiting", result.waiting, generation, now)
    else:
        done = ", ".join(result.actions) or "nothing to change"
        conditions = set_condition(conditions, "Synced", True, "Synced", done, generation, now)
    if result.config_valid is False:
        ready = (False, "ConfigInvalid", "the config is invalid; see ConfigValid")
    elif result.state == "FAILED" or failed:
        what = "the connector" if result.state == "FAILED" else f"task {failed[0].id}"
        trace = (result.trace if result.state == "FAILED" else failed[0].trace) or ""
        ready = (False, "Failed", f"{what} FAILED: {trace.splitlines()[0] if trace else 'no trace'}")
    elif result.state is None:
        ready = (False, "NotCreated", result.waiting or "not in Connect yet")
    elif result.errors:
        ready = (False, "SyncFailed", "; ".join(result.errors))
    elif result.state == "RUNNING" and not result.tasks:
        ready = (False, "NoTasks", "RUNNING, but Connect has not started any task (yet)")
    else:
        running = sum(t.state == "RUNNING" for t in result.tasks)
        ready = (True, result.state.title(), f"{result.state}, {running}/{len(result.tasks)} tasks running")
    if result.config_valid is False:
        stalled = (True, "ConfigInvalid", "Connect rejected the config; fix spec.config (see ConfigValid)")
    elif result.auto_restart_exhausted:
        stalled = (
            True,
            "AutoRestartsExhausted",
            f"still FAILED after {result.restart_count} automatic restarts; fix the cause, then ask for a "
            "restart with a new spec.restart.id",
        )
    else:
        stalled = (False, "AsExpected", "")
    if stalled[0]:
        reconciling = (False, stalled[1], "waiting for a change to the spec")
    elif result.actions or result.waiting or result.state is None:
        reconciling = (True, "Applying", result.waiting or ", ".join(result.actions) or "creating the connector")
    else:
        reconciling = (False, "InSync", "")
    conditions = set_condition(conditions, "Reconciling", *reconciling, generation, now)
    conditions = set_condition(conditions, "Stalled", *stalled, generation, now)
    # Ready last: kstatus readers take it as the summary of the others.
    conditions = set_condition(conditions, "Ready", ready[0], ready[1], ready[2], generation, now)
    running = sum(t.state == "RUNNING" for t in result.tasks)
    exists = result.state is not None or "Create" in result.actions
    status: dict[str, Any] = {
        "conditions": conditions,
        "observedGeneration": generation,
        "cluster": cluster if exists and cluster is not None else previous.get("cluster"),
        "connectorName": connector_name if exists and connector_name else previous.get("connectorName"),
        "state": result.state,
        "workerId": result.worker_id or None,
        "tasks": [{"id": t.id, "state": t.state, "workerId": t.worker_id, "trace": t.trace} for t in result.tasks],
        "tasksReady": f"{running}/{len(result.tasks)}",
        "drift": list(result.drift),
        "validationErrors": {k: list(v) for k, v in result.field_errors.items()},
        "autoRestart": {
            "count": result.restart_count,
            "lastRestartTime": None if result.last_restart_at is None else rfc3339(result.last_restart_at),
        },
        "handled": {
            "restart": result.handled_restart_id,
            "taskRestarts": list(result.handled_task_restart_ids),
            "offsets": result.handled_offsets_id,
        },
        "sync": memory.to_json(),
    }
    if result.offsets is not None:
        status["offsets"] = result.offsets
    return status


def not_synced(
    previous: Mapping[str, Any],
    reason: str,
    message: str,
    generation: int | None,
    now: str,
    *,
    stalled: bool,
) -> dict[str, Any]:
    """Nothing could be synced: say why, keep what was known.

    `stalled`: a problem only a person can fix (the generation was acted on: it was refused);
    otherwise one that passes by itself (a cluster not ready yet), and the generation is not yet acted on.
    """
    conditions = list(previous.get("conditions") or [])
    if stalled:
        conditions = set_condition(conditions, "Reconciling", False, reason, "waiting for a change", generation, now)
        conditions = set_condition(conditions, "Stalled", True, reason, message, generation, now)
    else:
        conditions = set_condition(conditions, "Reconciling", True, reason, message, generation, now)
        conditions = set_condition(conditions, "Stalled", False, "AsExpected", "", generation, now)
    conditions = set_condition(conditions, "Synced", False, reason, message, generation, now)
    conditions = set_condition(conditions, "Ready", False, reason, message, generation, now)
    observed = generation if stalled else previous.get("observedGeneration")
    return {"conditions": conditions, "observedGeneration": observed}
