"""The REST client against real Connect: typed results, typed errors with Connect's messages, counted calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from connect_operator.connect import errors
from connect_operator.connect.client import ConnectClient, RetryPolicy, Timeouts
from connect_worker import ports
from tests.support.engine import SINK, SOURCE

pytestmark = pytest.mark.contract


def test_reads_are_typed_and_counted(connect_url: str) -> None:
    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            info = await client.server_info()
            assert info.version_tuple()[:2] == (3, 9)
            plugins = {p.class_name for p in await client.plugins()}
            assert {SOURCE, SINK} <= plugins
            assert isinstance(await client.list_expanded(), dict)
            assert client.stats.routes["GET /"].calls == 1
            assert client.stats.total_calls == 3

    asyncio.run(scenario())


def test_errors_carry_connects_code_and_message(connect_url: str, unique: Callable[[str], str]) -> None:
    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            with pytest.raises(errors.ConnectNotFound) as missing:
                await client.status(unique("nobody"))
            assert missing.value.error_code == 404 and "no status found" in missing.value.message.lower()
            with pytest.raises(errors.ConnectBadRequest) as invalid:
                await client.put_config(unique("bad"), {"connector.class": SOURCE, "tasks.max": "x"})
            assert invalid.value.status == 400
            assert "tasks.max" in invalid.value.message

    asyncio.run(scenario())


def test_validation_reports_per_field_messages(connect_url: str) -> None:
    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            report = await client.validate(
                SINK, {"connector.class": SINK, "topics": "t", "transforms": "x", "transforms.x.type": "no.Such"}
            )
            assert report.error_count >= 1
            assert "transforms.x.type" in report.field_errors()

    asyncio.run(scenario())


def test_nothing_listening_fails_fast_after_bounded_retries() -> None:
    async def scenario() -> None:
        url = f"http://127.0.0.1:{ports.free_port()}"
        retry = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.02)
        async with ConnectClient(url, retry=retry, timeouts=Timeouts(connect=1, read=1)) as client:
            with pytest.raises(errors.ConnectUnavailable):
                await client.server_info()
            assert client.stats.routes["GET /"].calls == 3
            assert client.stats.routes["GET /"].failures == 1

    asyncio.run(scenario())


def test_writes_during_a_rebalance_are_absorbed(connect_url: str, unique: Callable[[str], str], tmp_path: Path) -> None:
    """Creating connectors at once makes Connect rebalance under the later requests; all still land."""
    names = [unique("reb") for _ in range(3)]

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            configs = [
                {"connector.class": SOURCE, "file": str(tmp_path / f"{n}.txt"), "topic": unique("t")} for n in names
            ]
            created = await asyncio.gather(*(client.put_config(n, c) for n, c in zip(names, configs, strict=True)))
            assert [info.name for info in created] == names
            await asyncio.gather(*(client.delete(n) for n in names))

    asyncio.run(scenario())
