"""Connectors whose steps outlive a sync: held by the planner, remembered and reported once finished."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_operator.connect.models import TaskState
from connect_operator.engine import actions as act
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.executor import Running
from connect_operator.engine.inflight import InFlight
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.observed import ObservedConnector
from connect_operator.engine.planner import ConnectorPlan, InFlightStep, PlannerSettings, plan
from connect_operator.engine.results import ConnectorOutcome, LateOutcome, remember, remember_late, summarise, with_late

pytestmark = pytest.mark.unit

NOW = 1_000_000.0
SETTINGS = PlannerSettings()


def want(name: str, **changes: Any) -> DesiredConnector:
    base: dict[str, Any] = {"name": name, "class_name": "Src", "tasks_max": 1, "config": {"topic": "t"}}
    return DesiredConnector(**{**base, **changes})


def seen(desired: DesiredConnector, **config: str) -> ObservedConnector:
    return ObservedConnector(
        name=desired.name,
        config={**desired.full_config, **config},
        state="RUNNING",
        worker_id="w1",
        trace=None,
        tasks=(TaskState(id=0, state="RUNNING", worker_id="w1"),),
        type="source",
    )


def validating(c: DesiredConnector, since: float) -> InFlightStep:
    return InFlightStep(act.Validate(c.class_name, c.full_config, c.config_hash), since)


def test_an_in_flight_connector_gets_no_steps_and_says_what_it_waits_for_while_others_are_planned() -> None:
    slow, other = want("slow", config={"topic": "new"}), want("other")
    observed = {"slow": seen(want("slow"))}
    result = plan(
        {"slow": slow, "other": other}, observed, {}, SETTINGS, NOW, in_flight={"slow": validating(slow, NOW - 12)}
    )
    held = result.connectors["slow"]
    assert held.actions == () and held.in_flight
    assert held.waiting == f"still running Validate since {_clock(NOW - 12)}"
    assert [type(a) for a in result.connectors["other"].actions] == [act.Validate, act.Create]


def test_a_connector_still_waiting_for_a_slot_is_reported_as_queued() -> None:
    c = want("c")
    result = plan({"c": c}, {}, {}, SETTINGS, NOW, in_flight={"c": InFlightStep(None, NOW - 3)})
    assert result.connectors["c"].waiting == f"queued behind slower connectors since {_clock(NOW - 3)}"


def test_the_held_text_does_not_change_from_one_sync_to_the_next() -> None:
    # A ticking text would rewrite the Connector's status at every sync while it is held.
    c = want("c")
    texts = {
        plan({"c": c}, {}, {}, SETTINGS, now, in_flight={"c": validating(c, NOW - 12)}).connectors["c"].waiting
        for now in (NOW, NOW + 0.5, NOW + 7, NOW + 61)
    }
    assert len(texts) == 1, texts


def _clock(at: float) -> str:
    return datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%H:%M:%S UTC")


@pytest.mark.parametrize("unmanaged", ["delete", "report"])
def test_an_in_flight_connector_that_is_removed_or_unmanaged_is_not_deleted_meanwhile(unmanaged: Any) -> None:
    gone, stray = want("gone"), want("stray")
    observed = {"gone": seen(gone), "stray": seen(stray)}
    in_flight = {"gone": validating(gone, NOW), "stray": InFlightStep(act.Delete("unmanaged"), NOW)}
    result = plan({}, observed, {}, PlannerSettings(unmanaged=unmanaged), NOW, frozenset({"gone"}), in_flight=in_flight)
    assert result.action_count == 0
    assert result.connectors["stray"].unmanaged, "still reported as unmanaged while its delete runs"


@given(st.sets(st.sampled_from(["a", "b", "c", "d"])), st.sets(st.sampled_from(["a", "b", "c", "d"])))
def test_no_in_flight_connector_is_ever_given_a_step(listed: set[str], in_flight_names: set[str]) -> None:
    desired = {n: want(n, config={"topic": "wanted"}) for n in ("a", "b", "c")}
    observed = {n: seen(want(n)) for n in listed}
    in_flight = {n: InFlightStep(None, NOW) for n in in_flight_names}
    result = plan(
        desired, observed, {}, PlannerSettings(unmanaged="delete"), NOW, frozenset({"d"}), in_flight=in_flight
    )
    assert all(not result.connectors[n].actions for n in in_flight_names)
    assert all(result.connectors[n].actions for n in desired.keys() - in_flight_names)


def test_the_memory_of_an_in_flight_connector_is_left_alone() -> None:
    c = want("c")
    before = {"c": ConnectorMemory(healthy_since=NOW - 100, restart_count=2)}
    held = plan({"c": c}, {"c": seen(c)}, before, SETTINGS, NOW, in_flight={"c": validating(c, NOW)})
    assert remember(before, held, {}, NOW) == before


def test_a_late_create_is_remembered_as_written_when_it_finished_so_it_is_not_validated_again() -> None:
    c = want("c")
    first = plan({"c": c}, {}, {}, SETTINGS, NOW).connectors["c"]
    finished = LateOutcome(first, ConnectorOutcome("c", done=list(first.actions)), finished_at=NOW + 30)
    memory = remember_late({}, {"c": finished})
    assert memory["c"].applied_hash == c.config_hash and memory["c"].applied_at == NOW + 30
    # Connect has not listed it yet: within the settle window that is expected, not a reason to retry.
    after = plan({"c": c}, {}, memory, SETTINGS, NOW + 31).connectors["c"]
    assert after.actions == () and "not listed" in after.waiting


def test_a_late_validation_failure_is_remembered_and_reported_as_invalid() -> None:
    c = want("c")
    first = plan({"c": c}, {}, {}, SETTINGS, NOW).connectors["c"]
    rejected = ConnectorOutcome("c", validation_errors={"topic": ["no such topic"]})
    late = {"c": LateOutcome(first, rejected, finished_at=NOW + 30)}
    memory = remember_late({}, late)
    now_plan = plan({"c": c}, {}, memory, SETTINGS, NOW + 31)
    assert now_plan.connectors["c"].actions == (), "known invalid: not validated again"
    result = summarise(now_plan, {}, with_late({}, late), memory)["c"]
    assert result.config_valid is False and result.field_errors == {"topic": ("no such topic",)}


def test_late_steps_and_their_validation_are_reported_with_this_syncs_own_steps_after_them() -> None:
    validate, update = act.Validate("Src", {}, "h"), act.Update({"topic": "t"}, "h")
    late = {
        "c": LateOutcome(ConnectorPlan("c"), ConnectorOutcome("c", done=[validate, update], validation_errors={}), NOW)
    }
    merged = with_late({"c": ConnectorOutcome("c", done=[act.ChangeState("PAUSED")], error="boom")}, late)
    assert [type(a) for a in merged["c"].done] == [act.Validate, act.Update, act.ChangeState]
    assert merged["c"].validation_errors == {}, "the late validation found nothing wrong"
    assert merged["c"].error == "boom"


def _running(name: str, task: asyncio.Task[None], finished_at: float | None = None) -> Running:
    run = Running(ConnectorPlan(name, actions=(act.Delete("removed"),)), queued_at=NOW)
    run.task, run.finished_at = task, finished_at
    return run


def test_finished_steps_are_collected_once_and_close_cancels_the_rest() -> None:
    async def forever() -> None:
        await asyncio.Event().wait()

    async def at_once() -> None:
        return None

    async def scenario() -> None:
        hanging, quick = asyncio.create_task(forever()), asyncio.create_task(at_once())
        await quick
        registry = InFlight(deadline_seconds=1)
        registry.adopt([_running("slow", hanging), _running("quick", quick, finished_at=NOW + 1)])
        late, running = registry.collect()
        assert late.keys() == {"quick"} and late["quick"].finished_at == NOW + 1
        assert running == {"slow": InFlightStep(None, NOW)}
        assert registry.collect()[0] == {}, "handed over once"
        await asyncio.wait_for(registry.close(), timeout=5)
        assert hanging.cancelled() and registry.names == frozenset()

    asyncio.run(scenario())


def test_the_registry_says_when_held_steps_finish() -> None:
    async def scenario() -> None:
        release, told = asyncio.Event(), asyncio.Event()

        async def until_released() -> None:
            await release.wait()

        registry = InFlight(deadline_seconds=1, on_finished=told.set)
        registry.adopt([_running("slow", asyncio.create_task(until_released()))])
        assert not told.is_set()
        release.set()
        await asyncio.wait_for(told.wait(), timeout=5)
        await registry.close()

    asyncio.run(scenario())
