"""Features newer than the workers' Connect are not used: the version decides how a connector is created."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from connect_operator.connect.client import ConnectClient
from connect_operator.engine import syncing
from tests.support.engine import connector

pytestmark = pytest.mark.contract

CREATE, PUT = "POST /connectors (create)", "PUT /connectors/{name}/config (put)"


@pytest.mark.parametrize(
    ("version", "creates_with"),
    [((3, 9, 0), CREATE), ((3, 6, 2), PUT), ((), PUT)],
)
def test_a_connector_asked_stopped_is_created_in_that_state_only_where_connect_can(
    connect_url: str,
    unique: Callable[[str], str],
    tmp_path: Path,
    version: tuple[int, ...],
    creates_with: str,
) -> None:
    name = unique("versioned")
    desired = {name: connector(name, state="stopped", config={"file": str(tmp_path / "in.txt"), "topic": name})}

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            await syncing.sync(client, desired, {}, server_version=version)
            # Creating in a state (POST with initial_state) came with Connect 3.7 (KIP-980); before it, or
            # with the version unknown, the connector is written with PUT and stopped by the next sync.
            assert creates_with in client.stats.routes, sorted(client.stats.routes)
            other = {CREATE, PUT} - {creates_with}
            assert not other & client.stats.routes.keys()
            await client.delete(name)

    asyncio.run(scenario())
