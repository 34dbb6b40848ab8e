"""Connectors whose steps outlived the sync that started them: held across syncs until they finish.

A sync waits for each connector at most `deadline_seconds`; what is still running then goes on in the
background, here, rather than being cancelled (a validation that always takes longer than the deadline
would otherwise never finish). The next sync collects what has finished, to remember and report it, and
plans nothing for the rest. One registry per Connect cluster, living as long as that cluster's sync loop;
its steps keep using the client they started with, so that client must stay open until `close`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from types import TracebackType

from connect_operator.engine.executor import Running
from connect_operator.engine.planner import InFlightStep
from connect_operator.engine.results import LateOutcome


class InFlight:
    """The unfinished steps of one Connect cluster's syncs, which run one at a time."""

    def __init__(self, deadline_seconds: float, on_finished: Callable[[], None] | None = None) -> None:
        """`on_finished`: called when held steps finish, e.g. to wake the sync loop to take them in."""
        self.deadline_seconds = deadline_seconds
        self._on_finished = on_finished
        self._runs: dict[str, Running] = {}

    @property
    def names(self) -> frozenset[str]:
        """The connectors with steps still held here (finished ones too, until collected)."""
        return frozenset(self._runs)

    def adopt(self, runs: Iterable[Running]) -> None:
        for run in runs:
            if run.name in self._runs:
                # The planner holds an in-flight connector, so no sync can start it twice.
                raise ValueError(f"connector {run.name} is already in flight")
            self._runs[run.name] = run
            if run.task is not None and self._on_finished is not None:
                run.task.add_done_callback(self._finished)

    def collect(self) -> tuple[dict[str, LateOutcome], dict[str, InFlightStep]]:
        """(finished since the last collect, taken out of the registry; still running, where they are)."""
        late = {name: run.late() for name, run in self._runs.items() if run.done}
        for name in late:
            del self._runs[name]
        return late, {name: run.where() for name, run in self._runs.items()}

    def _finished(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and self._on_finished is not None:
            self._on_finished()

    async def close(self) -> None:
        """Cancel whatever is still running and wait until it has stopped."""
        tasks = [run.task for run in self._runs.values() if run.task is not None]
        self._runs.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> InFlight:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
