"""One connector whose validation takes 30 s, through a proxy in front of real Connect: the others go on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connect_operator.connect.client import ConnectClient
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.inflight import InFlight
from tests.support import connect_http
from tests.support.engine import EngineDriver, connector, running
from tests.support.polling import poll_until
from tests.support.slow_proxy import SlowProxy

pytestmark = pytest.mark.contract

DEADLINE = 10.0
# Past the deadline a sync only reads the listing and plans.
MARGIN = 3.0
SLOW_VALIDATION = 30.0


@pytest.fixture
def slow_proxy(connect_url: str) -> Iterator[SlowProxy]:
    proxy = SlowProxy(connect_url)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _rest(connect_url: str, path: str) -> connect_http.Answer:
    return connect_http.call("GET", f"{connect_url}{path}")


def _running_in_connect(connect_url: str, name: str) -> Callable[[], Any]:
    def probe() -> Any:
        answer = _rest(connect_url, f"/connectors/{name}/status")
        body = answer.body if answer.status == 200 else {}
        tasks = [t["state"] for t in body.get("tasks", [])]
        return body.get("connector", {}).get("state") == "RUNNING" and tasks == ["RUNNING"]

    return probe


def test_a_slow_validation_delays_neither_the_sync_nor_the_others_and_its_connector_follows_validated_once(
    connect_url: str, slow_proxy: SlowProxy, unique: Callable[[str], str], tmp_path: Path
) -> None:
    slow, fresh_a, fresh_b, edited, doomed = (unique(p) for p in ("slow", "new", "new", "edit", "gone"))

    def source(name: str, topic: str) -> DesiredConnector:
        return connector(name, config={"file": str(tmp_path / f"{name}.txt"), "topic": topic})

    topic, new_topic = unique("t"), unique("t2")
    before = {edited: source(edited, topic), doomed: source(doomed, topic)}
    after = {
        slow: source(slow, topic),
        fresh_a: source(fresh_a, topic),
        fresh_b: source(fresh_b, topic),
        edited: source(edited, new_topic),
    }

    async def scenario() -> None:
        async with ConnectClient(slow_proxy.url) as client, InFlight(DEADLINE) as in_flight:
            engine = EngineDriver(client, in_flight=in_flight)
            await engine.converge(before, running(edited, doomed), 60, "the existing two RUNNING")

            slow_proxy.delay_validation(slow, SLOW_VALIDATION)
            asked_at = time.monotonic()
            first = await engine.sync(after, removed=frozenset({doomed}))
            assert first.seconds < DEADLINE + MARGIN, f"the sync took {first.seconds:.1f} s"
            assert first.results[slow].actions == ()
            assert first.results[slow].waiting.startswith("still running Validate")
            assert first.results[fresh_a].actions == first.results[fresh_b].actions == ("Validate", "Create")
            assert first.results[edited].actions == ("Validate", "Update")
            assert first.results[doomed].deleted

            assert _rest(connect_url, f"/connectors/{doomed}").status == 404
            assert _rest(connect_url, f"/connectors/{edited}/config").body["topic"] == new_topic
            assert _rest(connect_url, f"/connectors/{slow}").status == 404, "not created before it is validated"
            for name in (fresh_a, fresh_b):
                await asyncio.to_thread(poll_until, _running_in_connect(connect_url, name), 60, f"{name} RUNNING")

            await engine.converge(after, running(slow), SLOW_VALIDATION + 60, "the slow one RUNNING")
            created_after = time.monotonic() - asked_at
            later = engine.reports[engine.reports.index(first) + 1 :]
            print(f"first sync {first.seconds:.1f} s; slow one RUNNING after {created_after:.1f} s")
            assert created_after >= SLOW_VALIDATION, "created only once its validation finished"
            assert all(r.seconds < DEADLINE + MARGIN for r in later), [round(r.seconds, 1) for r in later]
            reported = [r.results[slow].actions for r in later if r.results[slow].actions]
            assert reported == [("Validate", "Create")], "the late steps reported once, by the sync that took them in"
            assert slow_proxy.validations(slow) == 1, "validated once, not again while in flight"
            assert slow_proxy.validations(fresh_a) == slow_proxy.validations(fresh_b) == 1
            assert _running_in_connect(connect_url, slow)()
            assert in_flight.names == frozenset()

    asyncio.run(scenario())
