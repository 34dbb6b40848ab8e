"""Engine results to build statuses and metrics from in unit tests."""

from __future__ import annotations

from dataclasses import replace

from connect_operator.engine.results import ConnectorResult, TaskResult


def connector_result(name: str, **changes: object) -> ConnectorResult:
    base = ConnectorResult(
        name=name,
        state="RUNNING",
        worker_id="w:8083",
        trace=None,
        tasks=(TaskResult(0, "RUNNING", "w:8083", None), TaskResult(1, "FAILED", "w:8083", "boom")),
        actions=(),
        config_valid=True,
        field_errors={},
        errors=(),
        drift=(),
        waiting="",
        unmanaged=False,
        deleted=False,
        restart_count=0,
        last_restart_at=None,
        auto_restart_exhausted=False,
        handled_restart_id=None,
        handled_task_restart_ids=(),
        handled_offsets_id=None,
        offsets=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]
