"""A real ConnectStandalone (3.9) worker: what the operator relies on in mode standalone, checked, not assumed.

It starts with a worker config and no connector files; the REST calls the sync engine makes work as in
distributed mode (no rebalances: none answers 409); a connector is gone when the process ends, its
source offsets are not: a new process reading the same file gives them back once the connector exists again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from connect_operator.connect.client import ConnectClient
from connect_operator.connect.errors import ConnectError
from connect_worker import ports
from connect_worker.process import WorkerProcess
from connect_worker.properties import StandaloneWorkerSpec
from connect_worker.testbed import Testbed

pytestmark = pytest.mark.contract

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
T = TypeVar("T")


def _worker(testbed: Testbed, folder: Path, offsets: Path) -> WorkerProcess:
    assert testbed.runtime is not None
    spec = StandaloneWorkerSpec(
        bootstrap_servers=testbed.bootstrap_servers,
        offsets_file=str(offsets),
        rest_host="127.0.0.1",
        rest_port=ports.free_port(),
        plugin_path=str(folder / "plugins"),
        extra={"offset.flush.interval.ms": "1000"},
    )
    return WorkerProcess(testbed.runtime, spec, folder)


def test_a_standalone_worker_serves_the_engines_calls_and_its_offsets_outlive_the_process(
    testbed: Testbed, tmp_path: Path
) -> None:
    offsets_file = tmp_path / "claim" / "connect.offsets"
    source = tmp_path / "in.txt"
    source.write_text("".join(f"line-{i}\n" for i in range(10)))
    config = {"connector.class": SOURCE, "tasks.max": "1", "file": str(source), "topic": f"standalone-{tmp_path.name}"}
    first = _worker(testbed, tmp_path / "first", offsets_file)
    first.start()
    try:
        first.wait_ready()
        recorded = asyncio.run(_lifecycle(first.rest_url, config))
    finally:
        first.stop()
    assert offsets_file.is_file()

    second = _worker(testbed, tmp_path / "second", offsets_file)
    second.start()
    try:
        second.wait_ready()
        assert asyncio.run(_after_restart(second.rest_url, config)) == recorded
    finally:
        second.stop()


async def _lifecycle(url: str, config: dict[str, str]) -> list[dict[str, object]]:
    """Every call the engine makes, in the order it makes them; the offsets the source wrote."""
    async with ConnectClient(url) as rest:
        assert await rest.list_names() == [], "started with no connector files, so no connectors"
        validated = await rest.validate(SOURCE, {**config, "name": "src"})
        assert validated.error_count == 0
        await rest.create("src", config, initial_state="STOPPED")
        assert (await rest.status("src")).connector.state == "STOPPED"
        await rest.put_config("src", {**config, "tasks.max": "1"})
        await rest.resume("src")
        await _until_state(rest, "RUNNING")
        await rest.pause("src")
        await _until_state(rest, "PAUSED")
        await rest.resume("src")
        await rest.restart("src", include_tasks=True, only_failed=False)
        await rest.restart_task("src", 0)
        await _until_state(rest, "RUNNING")
        listed = await rest.list_expanded()
        assert set(listed) == {"src"}
        await rest.stop("src")
        await _until_state(rest, "STOPPED")

        async def read_all() -> list[dict[str, object]] | None:
            found = [o.model_dump() for o in (await rest.offsets("src")).offsets]
            return found if found and found[0]["offset"] == {"position": 70} else None

        recorded = await _poll(read_all, "the offsets of all 10 lines (70 bytes)")
        # Alter and reset (the Connector's spec.offsets), then put back what the source wrote.
        await rest.alter_offsets("src", [{"partition": recorded[0]["partition"], "offset": {"position": 8}}])
        assert (await rest.offsets("src")).offsets[0].offset == {"position": 8}
        await rest.reset_offsets("src")
        assert (await rest.offsets("src")).offsets == []
        await rest.alter_offsets("src", recorded)
        return recorded


async def _after_restart(url: str, config: dict[str, str]) -> list[dict[str, object]]:
    async with ConnectClient(url) as rest:
        assert await rest.list_names() == [], "a standalone worker forgets its connectors with its process"
        with pytest.raises(ConnectError):
            await rest.offsets("src")
        await rest.create("src", config, initial_state="STOPPED")
        return [o.model_dump() for o in (await rest.offsets("src")).offsets]


async def _until_state(rest: ConnectClient, state: str) -> None:
    async def reached() -> bool:
        return (await rest.status("src")).connector.state == state

    await _poll(reached, f"the connector {state}")


async def _poll(probe: Callable[[], Awaitable[T | None]], what: str, seconds: float = 60.0) -> T:
    """tests.support.polling's rule in the client's own event loop: poll with a deadline, fail naming `what`."""
    deadline = time.monotonic() + seconds
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = await probe()
            last = value
        except ConnectError as exc:  # mid-transition: keep the last error
            value, last = None, exc
        if value:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}; last seen: {last!r}")
