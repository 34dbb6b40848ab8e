"""One sync of one Connect cluster: read once, plan, execute, summarise, remember."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connect_operator.connect.client import ConnectClient
from connect_operator.engine import executor, observed, planner, results
from connect_operator.engine.desired import DesiredConnector
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
) -> SyncReport:
    started, calls_before = time.monotonic(), client.stats.total_calls
    seen = observed.from_expanded(await client.list_expanded())
    now = clock()
    the_plan = planner.plan(desired, seen, memory, settings, now, removed, protected)
    outcomes = await executor.execute(the_plan, client, concurrency=concurrency, server_version=server_version)
    memory_after = results.remember(memory, the_plan, outcomes, clock())
    return SyncReport(
        results=results.summarise(the_plan, seen, outcomes, memory_after),
        memory=memory_after,
        plan=the_plan,
        observed=seen,
        rest_calls=client.stats.total_calls - calls_before,
        seconds=time.monotonic() - started,
    )
