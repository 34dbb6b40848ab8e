"""What the sync loops and the Connector delete handlers share: a handler awaits its connector's deletion
from Connect (no retries, no API calls while it waits), waking the loop, and learns of it once."""

from __future__ import annotations

import asyncio

import pytest

from connect_operator.handlers.loops import Loops

pytestmark = pytest.mark.unit

KEY = "team/connect"


def test_a_waiting_handler_returns_as_soon_as_a_sync_marks_its_connector_deleted() -> None:
    async def scenario() -> tuple[bool, float, bool]:
        loops = Loops()
        started = asyncio.get_running_loop().time()
        waiting = asyncio.create_task(loops.wait_deleted(KEY, "orders", within=30))
        await asyncio.sleep(0)  # let it start waiting
        loops.mark_deleted(KEY, ["orders", "billing"])
        done = await asyncio.wait_for(waiting, 5)
        return done, asyncio.get_running_loop().time() - started, loops.take_deleted(KEY, "orders")

    done, waited, again = asyncio.run(scenario())
    assert done and waited < 1.0
    assert not again, "each deletion is taken once: a Connector of that name made later starts over"


def test_a_handler_gives_up_after_its_time_and_wakes_the_loop_each_slice() -> None:
    async def scenario() -> tuple[bool, int]:
        loops = Loops()
        waker = loops.wakers.setdefault(KEY, asyncio.Event())
        wakes = 0

        async def count_wakes() -> None:
            nonlocal wakes
            while True:
                await waker.wait()
                wakes += 1
                waker.clear()

        counting = asyncio.create_task(count_wakes())
        done = await loops.wait_deleted(KEY, "orders", within=0.35, rewake_every=0.1)
        counting.cancel()
        return done, wakes

    done, wakes = asyncio.run(scenario())
    assert not done
    assert wakes >= 3, "the loop is woken again while the handler waits (a sync may have missed the deletion)"


def test_a_deletion_in_another_cluster_does_not_release_the_handler() -> None:
    async def scenario() -> bool:
        loops = Loops()
        waiting = asyncio.create_task(loops.wait_deleted(KEY, "orders", within=0.3, rewake_every=0.05))
        await asyncio.sleep(0)
        loops.mark_deleted("team/other", ["orders"])
        return await waiting

    assert not asyncio.run(scenario())


def test_an_already_marked_deletion_is_seen_without_waiting() -> None:
    async def scenario() -> bool:
        loops = Loops()
        loops.mark_deleted(KEY, ["orders"])
        return await asyncio.wait_for(loops.wait_deleted(KEY, "orders", within=0), 1)

    assert asyncio.run(scenario())
