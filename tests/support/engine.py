"""Driving the sync engine in tests: sync repeatedly until a condition holds, with a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.connect.client import ConnectClient
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector, from_connector
from connect_operator.engine.inflight import InFlight
from connect_operator.engine.memory import EngineMemory
from connect_operator.engine.planner import PlannerSettings

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def connector(name: str, class_name: str = SOURCE, **spec: Any) -> DesiredConnector:
    manifest = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {"cluster": "engine", "class": class_name, **spec},
    }
    return from_connector(Connector.model_validate(manifest))


@dataclass
class EngineDriver:
    """Holds the engine's memory between syncs, as the operator and `kco` do (and, given one, what is in flight)."""

    client: ConnectClient
    settings: PlannerSettings = field(default_factory=PlannerSettings)
    memory: EngineMemory = field(default_factory=dict)
    reports: list[syncing.SyncReport] = field(default_factory=list)
    in_flight: InFlight | None = None

    async def sync(
        self, desired: Mapping[str, DesiredConnector], removed: frozenset[str] = frozenset()
    ) -> syncing.SyncReport:
        report = await syncing.sync(
            self.client, desired, self.memory, self.settings, removed=removed, in_flight=self.in_flight
        )
        self.memory = report.memory
        self.reports.append(report)
        return report

    async def converge(
        self,
        desired: Mapping[str, DesiredConnector],
        done: Callable[[syncing.SyncReport], bool],
        seconds: float,
        what: str,
        removed: frozenset[str] = frozenset(),
    ) -> syncing.SyncReport:
        deadline = time.monotonic() + seconds
        while True:
            report = await self.sync(desired, removed)
            if done(report):
                return report
            if time.monotonic() > deadline:
                summary = {
                    n: (r.state, [t.state for t in r.tasks], r.actions, r.errors, r.waiting)
                    for n, r in report.results.items()
                }
                raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}; last: {summary}")
            await asyncio.sleep(0.5)


def running(*names: str, tasks: int = 1) -> Callable[[syncing.SyncReport], bool]:
    def check(report: syncing.SyncReport) -> bool:
        return all(_in_state(report, n, "RUNNING", tasks) for n in names)

    return check


def in_state(name: str, state: str, tasks: int) -> Callable[[syncing.SyncReport], bool]:
    return lambda report: _in_state(report, name, state, tasks)


def _in_state(report: syncing.SyncReport, name: str, state: str, tasks: int) -> bool:
    seen = report.observed.get(name)
    return bool(seen and seen.state == state and [t.state for t in seen.tasks] == [state] * tasks)
