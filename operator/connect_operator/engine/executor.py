"""Run a plan against one Connect cluster: connectors in parallel (bounded), each one's steps in order.

One connector's failure stops only its own remaining steps; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from connect_operator.connect import errors
from connect_operator.connect.client import ConnectClient
from connect_operator.engine import actions as act
from connect_operator.engine.planner import ConnectorPlan, Plan
from connect_operator.engine.results import ConnectorOutcome

log = logging.getLogger(__name__)

# Connect 3.7 added the initial_state of a POSTed connector.
_INITIAL_STATE_SINCE = (3, 7)


async def execute(
    plan: Plan, client: ConnectClient, *, concurrency: int = 8, server_version: tuple[int, ...] = (3, 9)
) -> dict[str, ConnectorOutcome]:
    limit = asyncio.Semaphore(concurrency)

    async def bounded(connector_plan: ConnectorPlan) -> ConnectorOutcome:
        async with limit:
            return await _run_connector(connector_plan, client, server_version)

    todo = [p for p in plan.connectors.values() if p.actions]
    outcomes = await asyncio.gather(*(bounded(p) for p in todo))
    return {o.name: o for o in outcomes}


async def _run_connector(
    connector_plan: ConnectorPlan, client: ConnectClient, server_version: tuple[int, ...]
) -> ConnectorOutcome:
    outcome = ConnectorOutcome(connector_plan.name)
    for step in connector_plan.actions:
        try:
            proceed = await _run_step(connector_plan.name, step, client, outcome, server_version)
        except errors.ConnectError as exc:
            outcome.error = f"{act.describe(step)} failed: {exc.message or exc}"
            log.warning("Connector step failed", extra={"connector": connector_plan.name, "error": str(exc)})
            return outcome
        if not proceed:
            return outcome
        outcome.done.append(step)
    return outcome


async def _run_step(
    name: str, step: act.Action, client: ConnectClient, outcome: ConnectorOutcome, server_version: tuple[int, ...]
) -> bool:
    """Perform one step; False stops this connector's remaining steps without an error."""
    match step:
        case act.Validate(class_name=class_name, config=config):
            report = await client.validate(class_name, config)
            outcome.validation_errors = report.field_errors()
            return report.error_count == 0
        case act.Create(config=config, initial_state=initial):
            await _create(name, config, initial, client, server_version)
        case act.Update(config=config):
            await client.put_config(name, config)
        case act.ChangeState(target="PAUSED"):
            await client.pause(name)
        case act.ChangeState(target="STOPPED"):
            await client.stop(name)
        case act.ChangeState(target="RUNNING"):
            await client.resume(name)
        case act.Restart(include_tasks=include_tasks, only_failed=only_failed):
            await client.restart(name, include_tasks=include_tasks, only_failed=only_failed)
        case act.RestartTask(task=task):
            await client.restart_task(name, task)
        case act.Offsets(action="list"):
            listed = await client.offsets(name)
            outcome.offsets = [o.model_dump() for o in listed.offsets]
        case act.Offsets(action="alter", offsets=offsets):
            outcome.offsets_message = await client.alter_offsets(name, [dict(o) for o in offsets])
        case act.Offsets(action="reset"):
            outcome.offsets_message = await client.reset_offsets(name)
        case act.Delete():
            with contextlib.suppress(errors.ConnectNotFound):  # already gone: the goal is met
                await client.delete(name)
    return True


async def _create(
    name: str, config: Mapping[str, str], initial: str, client: ConnectClient, server_version: tuple[int, ...]
) -> None:
    if initial == "RUNNING" or server_version < _INITIAL_STATE_SINCE:
        # Older Connect: create running; the next sync pauses or stops it.
        await client.put_config(name, config)
        return
    try:
        await client.create(name, config, initial_state=initial)  # type: ignore[arg-type]
    except errors.ConnectConflict as exc:
        if "already exists" not in exc.message:
            raise
        await client.put_config(name, config)
