"""The engine when the cluster misbehaves: a worker killed mid-sync, and connectors nobody declared."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from connect_operator.connect.client import ConnectClient
from connect_operator.engine.planner import PlannerSettings
from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.engine import EngineDriver, connector, running

pytestmark = pytest.mark.contract


@pytest.fixture
def own_cluster(testbed: Testbed, unique: Callable[[str], str]) -> Iterator[ConnectCluster]:
    cluster = testbed.new_cluster(unique("disrupt"), {"scheduled.rebalance.max.delay.ms": "2000"})
    try:
        cluster.start(2)
        yield cluster
    finally:
        cluster.stop()


def test_worker_killed_mid_sync_loses_and_duplicates_nothing(
    own_cluster: ConnectCluster, unique: Callable[[str], str], tmp_path: Path
) -> None:
    names = [unique("k") for _ in range(3)]
    desired = {n: connector(n, config={"file": str(tmp_path / f"{n}.txt"), "topic": unique("t")}) for n in names}
    survivor, victim = own_cluster.workers

    async def scenario() -> None:
        async with ConnectClient(survivor.rest_url) as client:
            engine = EngineDriver(client)
            first_sync = asyncio.create_task(engine.sync(desired))
            await asyncio.sleep(0.2)  # the creates are in flight
            victim.kill()
            try:
                await first_sync
            except Exception as exc:  # a sync may fail as a whole while the group re-forms; the next one mends
                print(f"first sync interrupted: {exc!r}")
            await engine.converge(desired, running(*names), 90, "every connector RUNNING on the survivor")
            listed = await client.list_names()
            assert sorted(n for n in listed if n in desired) == sorted(names)
            info = await client.list_expanded()
            for name in names:
                listed_info = info[name].info
                assert listed_info is not None and listed_info.config == desired[name].full_config
                assert len(listed_info.tasks) == 1, "exactly one task: nothing created twice"

    asyncio.run(scenario())


def test_unmanaged_delete_policy_removes_only_undeclared_connectors(
    own_cluster: ConnectCluster, unique: Callable[[str], str], tmp_path: Path
) -> None:
    mine, stranger = unique("mine"), unique("stranger")
    url = own_cluster.workers[0].rest_url

    async def scenario() -> None:
        async with ConnectClient(url) as client:
            await client.put_config(
                stranger, connector(stranger, config={"file": str(tmp_path / "s"), "topic": "t"}).full_config
            )
            desired = {mine: connector(mine, config={"file": str(tmp_path / "m"), "topic": "t"})}
            engine = EngineDriver(client, PlannerSettings(unmanaged="delete"))
            report = await engine.converge(
                desired, lambda r: stranger not in r.observed and running(mine)(r), 90, "stranger deleted, mine running"
            )
            about_stranger = [r.results[stranger] for r in engine.reports if stranger in r.results]
            assert any(result.unmanaged and result.deleted for result in about_stranger)
            assert report.observed.keys() == {mine}

    asyncio.run(scenario())
