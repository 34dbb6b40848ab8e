"""The sync engine against real Connect: create, no-op resyncs, edits, states, requests, failures, drift."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from connect_operator.api.v1alpha1.connector import AutoRestartPolicy, RestartRequest
from connect_operator.connect.client import ConnectClient
from connect_operator.engine import actions as act
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.planner import PlannerSettings
from tests.support.engine import SINK, EngineDriver, connector, in_state, running

pytestmark = pytest.mark.contract


def _puts(report_calls: dict[str, int]) -> int:
    return sum(count for route, count in report_calls.items() if route.startswith(("PUT", "POST")))


def _write_calls(client: ConnectClient) -> dict[str, int]:
    return {route: s.calls for route, s in client.stats.routes.items() if not route.startswith("GET")}


def test_create_then_resync_is_one_read_and_an_edit_is_one_put(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    a, b = unique("eng"), unique("eng")
    topic = unique("t")

    def desired(topic_of_b: str) -> dict[str, DesiredConnector]:
        return {
            a: connector(a, config={"file": str(tmp_path / "a.txt"), "topic": topic}),
            b: connector(b, config={"file": str(tmp_path / "b.txt"), "topic": topic_of_b}),
        }

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            engine = EngineDriver(client)
            first = desired(topic)
            await engine.converge(first, running(a, b), 60, "both RUNNING")
            writes_before = _puts(_write_calls(client))
            steady = await engine.sync(first)
            assert steady.rest_calls == 1, "steady state: one read, nothing else"
            assert steady.plan.action_count == 0
            assert _puts(_write_calls(client)) == writes_before

            edited = desired(unique("t2"))
            puts_before = _write_calls(client).get("PUT /connectors/{name}/config (put)", 0)
            report = await engine.sync(edited)
            assert report.results[b].actions == ("Validate", "Update")
            assert report.results[a].actions == ()
            assert _write_calls(client)["PUT /connectors/{name}/config (put)"] == puts_before + 1
            await engine.converge(
                edited, lambda r: r.plan.action_count == 0 and not r.results[b].waiting, 30, "the edit listed"
            )
            gone = await engine.converge(
                {}, lambda r: not ({a, b} & r.observed.keys()), 60, "deleted", removed=frozenset({a, b})
            )
            assert a not in gone.observed

    asyncio.run(scenario())


def test_states_from_every_state_and_a_restart_id_honoured_once(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("st")
    config = {"file": str(tmp_path / "s.txt"), "topic": unique("t")}

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            engine = EngineDriver(client)
            created = {name: connector(name, config=config, state="stopped")}
            first = await engine.converge(created, in_state(name, "STOPPED", 0), 60, "created STOPPED")
            assert first.observed[name].state == "STOPPED"
            # Every transition once: stopped→paused (no tasks: a paused connector makes none), paused→stopped,
            # stopped→running, running→paused, paused→running, running→stopped, and back to running.
            for state, tasks in [
                ("paused", 0),
                ("stopped", 0),
                ("running", 1),
                ("paused", 1),
                ("running", 1),
                ("stopped", 0),
                ("running", 1),
            ]:
                want = {name: connector(name, config=config, state=state)}
                await engine.converge(want, in_state(name, state.upper(), tasks), 60, f"{name} {state}")

            restart = RestartRequest(id="r-1", include_tasks=True)
            asked = {name: connector(name, config=config, restart=restart)}
            first_sync = await engine.sync(asked)
            assert first_sync.results[name].actions == ("Restart(r-1)",)
            assert first_sync.results[name].handled_restart_id == "r-1"
            for _ in range(3):  # the same manifest applied again and again
                again = await engine.sync(asked)
                assert not any(a.startswith("Restart") for a in again.results[name].actions)

    asyncio.run(scenario())


def test_failing_task_is_auto_restarted_with_growing_backoff_then_given_up(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("fail")
    # The sink cannot open a file in a directory that does not exist: its task fails at start.
    config = {"file": str(tmp_path / "missing-dir" / "out.txt"), "topics": unique("t")}
    policy = AutoRestartPolicy(backoff_seconds=1, max_backoff_seconds=4, max_restarts=3, reset_after_seconds=600)

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            engine = EngineDriver(client)
            desired = {name: connector(name, SINK, config=config, autoRestart=policy.model_dump(by_alias=True))}
            report = await engine.converge(
                desired, lambda r: r.results[name].auto_restart_exhausted, 90, "auto-restart to give up"
            )
            result = report.results[name]
            assert result.restart_count == 3
            assert [t.state for t in result.tasks] == ["FAILED"]
            assert result.tasks[0].trace and "missing-dir" in result.tasks[0].trace
            assert not result.ready
            restart_times = [
                r.memory[name].last_restart_at
                for r in engine.reports
                if any(a == "AutoRestart" for a in r.results[name].actions)
            ]
            assert len(restart_times) == 3
            gaps = [later - earlier for earlier, later in itertools.pairwise(t for t in restart_times if t is not None)]
            assert gaps[0] >= 1 and gaps[1] >= 2, f"backoff 1 s then 2 s, got {gaps}"

    asyncio.run(scenario())


def test_invalid_config_is_not_sent_and_drift_is_reverted_and_reported(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    bad, drifting = unique("bad"), unique("drift")
    bad_config = {"file": str(tmp_path / "x"), "topics": "t", "transforms": "x", "transforms.x.type": "no.Such"}
    good_config = {"file": str(tmp_path / "d.txt"), "topic": unique("t")}

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            engine = EngineDriver(client)
            desired = {bad: connector(bad, SINK, config=bad_config), drifting: connector(drifting, config=good_config)}
            report = await engine.converge(desired, running(drifting), 60, "the valid one RUNNING")
            assert report.results[bad].config_valid is False
            assert "transforms.x.type" in report.results[bad].field_errors
            assert bad not in await client.list_names(), "an invalid config is never sent"
            validations = client.stats.routes["PUT /connector-plugins/{class}/config/validate"].calls
            await engine.sync(desired)
            assert client.stats.routes["PUT /connector-plugins/{class}/config/validate"].calls == validations

            await client.put_config(drifting, {**desired[drifting].full_config, "topic": "hijacked", "extra": "1"})
            drift_seen = await engine.converge(desired, lambda r: bool(r.results[drifting].drift), 30, "drift")
            assert drift_seen.results[drifting].drift == ("extra", "topic")
            assert any(isinstance(a, act.Update) for a in drift_seen.plan.connectors[drifting].actions)
            await engine.converge(
                desired,
                lambda r: (r.observed[drifting].config or {}).get("topic") == good_config["topic"],
                30,
                "the drift reverted",
            )

    asyncio.run(scenario())


def test_unmanaged_connectors_are_reported_not_touched(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    stranger = unique("stranger")

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            await client.put_config(
                stranger, connector(stranger, config={"file": str(tmp_path / "s"), "topic": "t"}).full_config
            )
            engine = EngineDriver(client, PlannerSettings(unmanaged="report"))
            report = await engine.converge({}, lambda r: stranger in r.results, 30, "the stranger reported")
            assert report.results[stranger].unmanaged and report.results[stranger].actions == ()
            assert stranger in await client.list_names()

    asyncio.run(scenario())


def test_offsets_and_task_restart_requests_on_real_connect(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path
) -> None:
    name = unique("offs")
    source_file = tmp_path / "offsets.txt"
    source_file.write_text("one\ntwo\n")
    config = {"file": str(source_file), "topic": unique("t")}

    async def scenario() -> None:
        async with ConnectClient(connect_url) as client:
            engine = EngineDriver(client)
            await engine.converge({name: connector(name, config=config)}, running(name), 60, "RUNNING")
            restart_task = {name: connector(name, config=config, taskRestarts=[{"id": "t-1", "task": 0}])}
            report = await engine.sync(restart_task)
            assert report.results[name].actions == ("RestartTask(0, t-1)",)
            assert report.results[name].handled_task_restart_ids == ("t-1",)

            async def committed() -> None:
                for _ in range(60):
                    if (await client.offsets(name)).offsets:
                        return
                    await asyncio.sleep(0.5)
                raise AssertionError("the source never committed an offset")

            # Offsets are listed as committed; ask only once there is a position to show.
            await committed()
            stopped = {name: connector(name, config=config, state="stopped")}
            await engine.converge(stopped, in_state(name, "STOPPED", 0), 60, "STOPPED")
            listing = {name: connector(name, config=config, state="stopped", offsets={"id": "o-1", "action": "list"})}

            def has_position(report: syncing.SyncReport) -> bool:
                offsets = report.results[name].offsets
                return bool(offsets and offsets[0]["offset"])

            listed = await engine.converge(
                listing,
                has_position,
                60,
                "offsets listed with the source's position",
            )
            offsets = listed.results[name].offsets or []
            assert offsets[0]["partition"] == {"filename": str(source_file)}
            assert offsets[0]["offset"] == {"position": len("one\ntwo\n")}

            rewind = [{"partition": {"filename": str(source_file)}, "offset": {"position": 0}}]
            altering = {
                name: connector(
                    name, config=config, state="stopped", offsets={"id": "o-2", "action": "alter", "offsets": rewind}
                )
            }
            altered = await engine.converge(
                altering, lambda r: r.results[name].handled_offsets_id == "o-2", 30, "alter"
            )
            assert "Offsets(alter, o-2)" in altered.results[name].actions
            assert (await client.offsets(name)).offsets[0].offset == {"position": 0}

    asyncio.run(scenario())
