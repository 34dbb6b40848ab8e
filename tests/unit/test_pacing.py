"""When a cluster's sync loop looks again: soon while its connectors make progress, backing off when they don't."""

from __future__ import annotations

from typing import Any

import pytest

from connect_operator.engine.results import ConnectorResult, TaskResult
from connect_operator.policy import pacing

pytestmark = pytest.mark.unit


def _result(state: str | None = "RUNNING", tasks: tuple[str, ...] = ("RUNNING",), **fields: Any) -> ConnectorResult:
    values: dict[str, Any] = {
        "name": "c",
        "state": state,
        "worker_id": "w",
        "trace": None,
        "tasks": tuple(TaskResult(i, s, "w", None) for i, s in enumerate(tasks)),
        "actions": (),
        "config_valid": True,
        "field_errors": {},
        "errors": (),
        "drift": (),
        "waiting": "",
        "unmanaged": False,
        "deleted": False,
        "restart_count": 0,
        "last_restart_at": None,
        "auto_restart_exhausted": False,
        "handled_restart_id": None,
        "handled_task_restart_ids": (),
        "handled_offsets_id": None,
        "offsets": None,
    }
    return ConnectorResult(**{**values, **fields})


def test_running_with_its_tasks_or_failed_is_settled_and_anything_on_its_way_is_not() -> None:
    assert pacing.unsettled([_result(), _result("FAILED", ("FAILED",)), _result("PAUSED", ("PAUSED",))]) == 0
    assert pacing.unsettled([_result(actions=("Create",))]) == 1
    assert pacing.unsettled([_result(waiting="the new connector is not listed by Connect yet")]) == 1
    assert pacing.unsettled([_result("RUNNING", ())]) == 1  # no task started yet
    assert pacing.unsettled([_result("UNASSIGNED", ())]) == 1
    assert pacing.unsettled([_result("RUNNING", ("RUNNING", "UNASSIGNED"))]) == 1
    assert pacing.unsettled([_result(None, ())]) == 1
    assert pacing.unsettled([_result("RUNNING", (), unmanaged=True)]) == 0


def test_settling_connectors_are_looked_at_again_soon_until_their_count_is_stuck() -> None:
    assert pacing.next_follow_up(0, 0.0, 15) is None  # all settled: the periodic sync only
    assert pacing.next_follow_up(200, 0.0, 15) == 0.5  # a sync that started something
    assert pacing.next_follow_up(150, 12.0, 15) == 0.5  # Connect between two rebalances
    assert pacing.next_follow_up(3, pacing.PATIENCE_SECONDS, 15) is None  # stuck: left to the periodic sync
    assert pacing.next_follow_up(3, 0.0, 0.2) == 0.2  # never slower than the interval itself
