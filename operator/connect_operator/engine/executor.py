"""Run a plan against one Connect cluster: connectors in parallel (bounded), each one's steps in order.

One connector's failure stops only its own remaining steps; the others go on. With a deadline, the
connectors not finished by then are handed back still running (`Running`), each giving up its slot, so
a slow one holds up neither the sync nor the connectors queued behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from connect_operator.connect import errors
from connect_operator.connect.client import ConnectClient
from connect_operator.engine import actions as act
from connect_operator.engine.planner import ConnectorPlan, InFlightStep, Plan
from connect_operator.engine.results import ConnectorOutcome, LateOutcome

log = logging.getLogger(__name__)

# Connect 3.7 added the initial_state of a POSTed connector.
_INITIAL_STATE_SINCE = (3, 7)


@dataclass(eq=False)
class Running:
    """One connector's steps, possibly still under way: the plan, the outcome so far, and where they are."""

    plan: ConnectorPlan
    queued_at: float
    outcome: ConnectorOutcome = field(init=False)
    step: act.Action | None = None  # None: not started, waiting for a slot
    step_since: float | None = None
    finished_at: float | None = None
    task: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.outcome = ConnectorOutcome(self.plan.name)

    @property
    def name(self) -> str:
        return self.plan.name

    @property
    def done(self) -> bool:
        return self.task is not None and self.task.done()

    def where(self) -> InFlightStep:
        return InFlightStep(self.step, self.queued_at if self.step_since is None else self.step_since)

    def late(self) -> LateOutcome:
        """The outcome of finished steps; a step that raised what no step expects counts as its failure."""
        assert self.task is not None and self.task.done() and self.finished_at is not None, "still running"
        if not self.task.cancelled() and (exc := self.task.exception()) is not None:
            what = act.describe(self.step) if self.step else "a step"
            self.outcome.error = f"{what} failed: {type(exc).__name__}: {exc}"
            log.error("Connector step failed", extra={"connector": self.name}, exc_info=exc)
        return LateOutcome(self.plan, self.outcome, self.finished_at)


@dataclass(frozen=True)
class Execution:
    outcomes: dict[str, ConnectorOutcome]
    # Past the deadline and still running: the caller keeps them (see `inflight.InFlight`).
    unfinished: dict[str, Running]


async def execute(
    plan: Plan,
    client: ConnectClient,
    *,
    concurrency: int = 8,
    server_version: tuple[int, ...] = (3, 9),
    deadline_seconds: float | None = None,
    clock: Callable[[], float] = time.time,
) -> Execution:
    """Without a deadline, wait for every connector; with one, at most that long."""
    limit = asyncio.Semaphore(concurrency)
    holding: set[str] = set()

    async def bounded(run: Running) -> None:
        try:
            await limit.acquire()
            holding.add(run.name)
            await _run_connector(run, client, server_version, clock)
        finally:
            run.finished_at = clock()
            if run.name in holding:
                holding.discard(run.name)
                limit.release()

    runs = [Running(p, clock()) for p in plan.connectors.values() if p.actions]
    for run in runs:
        run.task = asyncio.create_task(bounded(run), name=f"connector {run.name}")
    tasks = [run.task for run in runs if run.task]
    try:
        if tasks:
            await asyncio.wait(tasks, timeout=deadline_seconds)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    unfinished = {run.name: run for run in runs if not run.done}
    for name in unfinished.keys() & holding:
        # Past the deadline a connector runs on without a slot, so the ones queued behind it start.
        holding.discard(name)
        limit.release()
    finished = [run for run in runs if run.name not in unfinished]
    failures = [exc for run in finished if run.task and (exc := run.task.exception()) is not None]
    if failures:  # a failure no step expects fails the sync, as it always has, leaving nothing running
        for run in unfinished.values():
            if run.task:
                run.task.cancel()
        raise failures[0]
    return Execution({run.name: run.outcome for run in finished}, unfinished)


async def _run_connector(
    run: Running, client: ConnectClient, server_version: tuple[int, ...], clock: Callable[[], float]
) -> None:
    connector_plan, outcome = run.plan, run.outcome
    for step in connector_plan.actions:
        run.step, run.step_since = step, clock()
        try:
            proceed = await _run_step(connector_plan.name, step, client, outcome, server_version)
        except errors.ConnectError as exc:
            outcome.error = f"{act.describe(step)} failed: {exc.message or exc}"
            log.warning("Connector step failed", extra={"connector": connector_plan.name, "error": str(exc)})
            return
        if not proceed:
            return
        outcome.done.append(step)


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
