"""One sync of one Connect cluster: read once, plan, execute, summarise, remember.

With an `InFlight` registry, a sync first takes in the outcomes of steps an earlier sync left running,
waits for its own connectors at most the registry's deadline, and leaves the unfinished ones to it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from connect_operator.connect.client import ConnectClient
from connect_operator.engine import executor, observed, planner, results
from connect_operator.engine.actions import Create
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.inflight import InFlight
from connect_operator.engine.memory import EngineMemory
from connect_operator.engine.planner import PlannerSettings


@dataclass(frozen=True)
class SyncReport:
    results: Mapping[str, results.ConnectorResult]
    memory: EngineMemory
    plan: planner.Plan
    observed: Mapping[str, observed.ObservedConnector]
    rest_calls: int
    seconds: float


async def sync(
    client: ConnectClient,
    desired: Mapping[str, DesiredConnector],
    memory: EngineMemory,
    settings: PlannerSettings = PlannerSettings(),
    *,
    removed: frozenset[str] = frozenset(),
    protected: frozenset[str] = frozenset(),
    concurrency: int = 8,
    server_version: tuple[int, ...] = (3, 9),
    clock: Callable[[], float] = time.time,
    in_flight: InFlight | None = None,
    before_creates: Callable[[frozenset[str]], Awaitable[None]] | None = None,
) -> SyncReport:
    """Without `in_flight`, wait for every connector's steps (a one-shot caller has nothing to hold the rest).

    `before_creates`: told which connectors this sync is about to create, before any write, so a caller
    can record them as its own first (a crash between the create and its status then loses nothing).

    `rest_calls` counts this sync's calls, and any that steps left running by an earlier sync made meanwhile.
    """
    started, calls_before = time.monotonic(), client.stats.total_calls
    seen = observed.from_expanded(await client.list_expanded())
    # Collected only once the read has succeeded: a sync that fails here loses no late outcome.
    late, running = in_flight.collect() if in_flight is not None else ({}, {})
    memory = results.remember_late(memory, late)
    now = clock()
    the_plan = planner.plan(desired, seen, memory, settings, now, removed, protected, running)
    creating = frozenset(n for n, p in the_plan.connectors.items() if any(isinstance(a, Create) for a in p.actions))
    if before_creates is not None and creating:
        await before_creates(creating)
    execution = await executor.execute(
        the_plan,
        client,
        concurrency=concurrency,
        server_version=server_version,
        deadline_seconds=in_flight.deadline_seconds if in_flight is not None else None,
        clock=clock,
    )
    done_at = clock()
    if in_flight is not None:
        in_flight.adopt(execution.unfinished.values())
    held = planner.hold(the_plan, {name: run.where() for name, run in execution.unfinished.items()}, done_at)
    memory_after = results.remember(memory, held, execution.outcomes, done_at)
    return SyncReport(
        results=results.summarise(held, seen, results.with_late(execution.outcomes, late), memory_after),
        memory=memory_after,
        plan=the_plan,
        observed=seen,
        rest_calls=client.stats.total_calls - calls_before,
        seconds=time.monotonic() - started,
    )
