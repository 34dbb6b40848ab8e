"""The planner, exhaustively: desired + observed + memory → actions. Pure; no Connect needed."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_operator.api.v1alpha1.connector import (
    AutoRestartPolicy,
    OffsetsRequest,
    RestartRequest,
    TaskRestartRequest,
)
from connect_operator.connect.models import TaskState
from connect_operator.engine import actions as act
from connect_operator.engine.desired import DesiredConnector, TargetState
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.observed import ObservedConnector
from connect_operator.engine.planner import (
    TAKEOVER_REFUSED,
    PlannerSettings,
    UnmanagedPolicy,
    next_restart_delay,
    plan,
)
from connect_operator.engine.results import ConnectorOutcome, remember

pytestmark = pytest.mark.unit

NOW = 1_000_000.0
SETTINGS = PlannerSettings()


def want(name: str = "c", **changes: Any) -> DesiredConnector:
    base: dict[str, Any] = {"name": name, "class_name": "Src", "tasks_max": 1, "config": {"topic": "t"}}
    return DesiredConnector(**{**base, **changes})


def seen(
    desired: DesiredConnector, state: str = "RUNNING", tasks: tuple[str, ...] = ("RUNNING",), **config: str
) -> ObservedConnector:
    return ObservedConnector(
        name=desired.name,
        config={**desired.full_config, **config},
        state=state,
        worker_id="w1",
        trace=None,
        tasks=tuple(TaskState(id=i, state=s, worker_id="w1") for i, s in enumerate(tasks)),
        type="source",
    )


def actions_for(
    desired: DesiredConnector,
    observed: ObservedConnector | None,
    mem: ConnectorMemory | None = None,
    settings: PlannerSettings = SETTINGS,
    now: float = NOW,
) -> tuple[act.Action, ...]:
    memory = {desired.name: mem} if mem else {}
    result = plan({desired.name: desired}, {observed.name: observed} if observed else {}, memory, settings, now)
    return result.connectors[desired.name].actions


def test_unchanged_spec_plans_nothing_even_without_memory() -> None:
    c = want()
    assert actions_for(c, seen(c)) == ()


@given(
    st.dictionaries(st.text(min_size=1).filter(lambda k: k not in {"name", "connector.class", "tasks.max"}), st.text()),
    st.integers(1, 50),
    st.sampled_from(["RUNNING", "PAUSED", "STOPPED"]),
)
def test_any_spec_already_in_place_plans_nothing(config: dict[str, str], tasks: int, state: str) -> None:
    c = want(config=config, tasks_max=tasks, state=state)
    assert actions_for(c, seen(c, state=state, tasks=(state,) * tasks)) == ()


def test_absent_connector_is_validated_then_created_in_its_desired_state() -> None:
    c = want(state="STOPPED")
    steps = actions_for(c, None)
    assert [type(s) for s in steps] == [act.Validate, act.Create]
    create = steps[1]
    assert isinstance(create, act.Create)
    assert create.initial_state == "STOPPED"
    assert create.config == {"topic": "t", "connector.class": "Src", "tasks.max": "1", "name": "c"}


def test_a_create_not_yet_listed_is_waited_for_not_repeated() -> None:
    c = want()
    mem = ConnectorMemory(applied_hash=c.config_hash, applied_at=NOW - 5)
    result = plan({"c": c}, {}, {"c": mem}, SETTINGS, NOW).connectors["c"]
    assert result.actions == ()
    assert "not listed" in result.waiting


def test_a_create_lost_after_the_settle_window_is_made_again() -> None:
    c = want()
    mem = ConnectorMemory(applied_hash=c.config_hash, applied_at=NOW - SETTINGS.settle_seconds - 1)
    assert [type(s) for s in actions_for(c, None, mem)] == [act.Validate, act.Create]


def test_spec_change_is_validated_then_put() -> None:
    old, new = want(config={"topic": "a"}), want(config={"topic": "b"})
    mem = ConnectorMemory(applied_hash=old.config_hash)
    steps = actions_for(new, seen(old), mem)
    assert [type(s) for s in steps] == [act.Validate, act.Update]
    assert steps[1] == act.Update(new.full_config, new.config_hash, ())


def test_drift_behind_our_back_is_reported_by_key_and_reverted_without_validation() -> None:
    c = want()
    mem = ConnectorMemory(applied_hash=c.config_hash, applied_at=NOW - 100)
    observed = seen(c, topic="changed", extra="added")
    result = plan({"c": c}, {"c": observed}, {"c": mem}, SETTINGS, NOW).connectors["c"]
    assert result.drift == ("extra", "topic")
    assert result.actions == (act.Update(c.full_config, c.config_hash, ("extra", "topic")),)


def test_our_own_update_not_yet_listed_is_not_drift() -> None:
    old, new = want(config={"topic": "a"}), want(config={"topic": "b"})
    mem = ConnectorMemory(applied_hash=new.config_hash, applied_at=NOW - 2)
    result = plan({"c": new}, {"c": seen(old)}, {"c": mem}, SETTINGS, NOW).connectors["c"]
    assert result.actions == () and result.drift == () and result.waiting


def test_a_config_connect_rejected_is_not_sent_again_until_revalidation() -> None:
    c = want()
    errors = {"topic": ("Missing required configuration",)}
    mem = ConnectorMemory(invalid_hash=c.config_hash, invalid_errors=errors, validated_at=NOW - 10)
    result = plan({"c": c}, {}, {"c": mem}, SETTINGS, NOW).connectors["c"]
    assert result.actions == ()
    assert result.cached_invalid == errors
    later = NOW + SETTINGS.revalidate_seconds
    assert [type(s) for s in actions_for(c, None, mem, now=later)] == [act.Validate, act.Create]


STATE_TABLE = [
    # desired, observed, expected ChangeState target or None
    ("RUNNING", "RUNNING", None),
    ("RUNNING", "PAUSED", "RUNNING"),
    ("RUNNING", "STOPPED", "RUNNING"),
    ("RUNNING", "FAILED", None),
    ("RUNNING", "UNASSIGNED", None),
    ("RUNNING", "RESTARTING", None),
    ("PAUSED", "RUNNING", "PAUSED"),
    ("PAUSED", "PAUSED", None),
    ("PAUSED", "STOPPED", "PAUSED"),
    ("PAUSED", "FAILED", "PAUSED"),
    ("PAUSED", "UNASSIGNED", "PAUSED"),
    ("PAUSED", "RESTARTING", None),
    ("STOPPED", "RUNNING", "STOPPED"),
    ("STOPPED", "PAUSED", "STOPPED"),
    ("STOPPED", "STOPPED", None),
    ("STOPPED", "FAILED", "STOPPED"),
    ("STOPPED", "UNASSIGNED", "STOPPED"),
    ("STOPPED", "RESTARTING", None),
]


@pytest.mark.parametrize(("desired_state", "observed_state", "expected"), STATE_TABLE)
def test_state_machine(desired_state: TargetState, observed_state: str, expected: TargetState | None) -> None:
    c = want(state=desired_state, auto_restart=AutoRestartPolicy(enabled=False))
    steps = actions_for(c, seen(c, state=observed_state, tasks=()))
    assert steps == ((act.ChangeState(expected),) if expected else ())


def test_a_state_command_is_not_repeated_while_connect_applies_it() -> None:
    c = want(state="STOPPED")
    mem = ConnectorMemory(state_command="STOPPED", state_command_at=NOW - 1)
    assert actions_for(c, seen(c, state="RUNNING"), mem) == ()
    stale = ConnectorMemory(state_command="STOPPED", state_command_at=NOW - SETTINGS.settle_seconds - 1)
    assert actions_for(c, seen(c, state="RUNNING"), stale) == (act.ChangeState("STOPPED"),)
    failed = seen(c, state="FAILED")
    assert actions_for(c, failed, stale) == (), "FAILED keeps showing after the target state is recorded"


def test_restart_request_is_honoured_once_per_id() -> None:
    c = want(restart=RestartRequest(id="r1", include_tasks=True, only_failed=False))
    assert actions_for(c, seen(c)) == (act.Restart(True, False, "r1"),)
    assert actions_for(c, seen(c), ConnectorMemory(handled_restart_id="r1")) == ()


def test_restart_ids_pending_at_creation_count_as_handled() -> None:
    c = want(restart=RestartRequest(id="r1"), task_restarts=(TaskRestartRequest(id="t1", task=0),))
    the_plan = plan({"c": c}, {}, {}, SETTINGS, NOW)
    create = the_plan.connectors["c"].actions[1]
    outcome = ConnectorOutcome("c", done=list(the_plan.connectors["c"].actions))
    mem = remember({}, the_plan, {"c": outcome}, NOW)["c"]
    assert isinstance(create, act.Create)
    assert mem.handled_restart_id == "r1" and mem.handled_task_restart_ids == ("t1",)
    assert actions_for(c, seen(c), mem) == ()


def test_task_restart_of_a_missing_task_is_reported_not_sent() -> None:
    c = want(task_restarts=(TaskRestartRequest(id="a", task=0), TaskRestartRequest(id="b", task=5)))
    result = plan({"c": c}, {"c": seen(c)}, {}, SETTINGS, NOW).connectors["c"]
    assert result.actions == (act.RestartTask(0, "a"),)
    assert "no task 5" in result.blocked[0]


@pytest.mark.parametrize("state", ["RUNNING", "PAUSED", "STOPPED"])
def test_offsets_list_runs_in_any_state(state: str) -> None:
    c = want(state=state, offsets=OffsetsRequest(id="o1", action="list"))
    assert act.Offsets("list", "o1") in actions_for(c, seen(c, state=state))


def test_offsets_alter_and_reset_wait_for_stopped() -> None:
    entry = {"partition": {"filename": "f"}, "offset": {"position": 3}}
    for request in (OffsetsRequest(id="o", action="reset"), OffsetsRequest(id="o", action="alter", offsets=[entry])):
        running = want(offsets=request)
        result = plan({"c": running}, {"c": seen(running)}, {}, SETTINGS, NOW).connectors["c"]
        assert not any(isinstance(a, act.Offsets) for a in result.actions)
        assert "waits for state: stopped" in result.blocked[0]
        stopped = want(state="STOPPED", offsets=request)
        steps = actions_for(stopped, seen(stopped, state="STOPPED", tasks=()))
        assert steps == (act.Offsets(request.action, "o", tuple(request.offsets)),)
        assert (
            actions_for(stopped, seen(stopped, state="STOPPED", tasks=()), ConnectorMemory(handled_offsets_id="o"))
            == ()
        )


POLICY = AutoRestartPolicy(backoff_seconds=10, max_backoff_seconds=35, max_restarts=4, reset_after_seconds=60)


def test_failed_task_is_restarted_with_exponential_backoff_until_the_limit() -> None:
    c = want(auto_restart=POLICY)
    failing = seen(c, tasks=("FAILED",))
    auto = act.Restart(include_tasks=True, only_failed=True)
    assert actions_for(c, failing) == (auto,)
    assert [next_restart_delay(POLICY, n) for n in range(5)] == [0, 10, 20, 35, 35]
    for count, delay in [(1, 10), (2, 20), (3, 35)]:
        mem = ConnectorMemory(restart_count=count, last_restart_at=NOW)
        assert actions_for(c, failing, mem, now=NOW + delay - 0.1) == ()
        assert actions_for(c, failing, mem, now=NOW + delay) == (auto,)
    exhausted = plan(
        {"c": c}, {"c": failing}, {"c": ConnectorMemory(restart_count=4, last_restart_at=NOW)}, SETTINGS, NOW + 1000
    ).connectors["c"]
    assert exhausted.actions == () and exhausted.auto_restart_exhausted


def test_failed_connector_is_restarted_but_not_when_it_should_be_stopped() -> None:
    c = want(auto_restart=POLICY)
    assert actions_for(c, seen(c, state="FAILED", tasks=())) == (act.Restart(True, True),)
    stopped = want(state="STOPPED", auto_restart=POLICY)
    assert actions_for(stopped, seen(stopped, state="FAILED", tasks=())) == (act.ChangeState("STOPPED"),)
    disabled = want(auto_restart=AutoRestartPolicy(enabled=False))
    assert actions_for(disabled, seen(disabled, tasks=("FAILED",))) == ()


def test_restart_count_grows_then_resets_after_a_healthy_period() -> None:
    c = want(auto_restart=POLICY)
    failing, healthy = seen(c, tasks=("FAILED",)), seen(c)
    memory: dict[str, ConnectorMemory] = {}
    first = plan({"c": c}, {"c": failing}, memory, SETTINGS, NOW)
    memory = dict(remember(memory, first, {"c": ConnectorOutcome("c", done=list(first.connectors["c"].actions))}, NOW))
    assert memory["c"].restart_count == 1
    for at in (NOW + 10, NOW + 40, NOW + 71):
        step = plan({"c": c}, {"c": healthy}, memory, SETTINGS, at)
        memory = dict(remember(memory, step, {}, at))
    assert memory["c"].restart_count == 0, "healthy for over resetAfterSeconds"


@pytest.mark.parametrize(
    ("policy", "expected"), [("ignore", None), ("report", ()), ("delete", (act.Delete("unmanaged"),))]
)
def test_unmanaged_connectors_follow_the_policy(
    policy: UnmanagedPolicy, expected: tuple[act.Action, ...] | None
) -> None:
    mine, stranger = want("mine"), want("stranger")
    the_plan = plan(
        {"mine": mine}, {"mine": seen(mine), "stranger": seen(stranger)}, {}, PlannerSettings(unmanaged=policy), NOW
    )
    if expected is None:
        assert "stranger" not in the_plan.connectors
    else:
        assert the_plan.connectors["stranger"].unmanaged
        assert the_plan.connectors["stranger"].actions == expected


def test_removed_connector_is_deleted_only_if_present() -> None:
    gone, here = want("gone"), want("here")
    the_plan = plan({}, {"here": seen(here)}, {}, SETTINGS, NOW, removed=frozenset({"gone", "here"}))
    assert the_plan.connectors["here"].actions == (act.Delete("removed"),)
    assert "gone" not in the_plan.connectors
    assert gone.name == "gone"


def test_memory_round_trips_through_json() -> None:
    mem = ConnectorMemory(
        applied_hash="h", restart_count=2, handled_task_restart_ids=("x",), invalid_errors={"k": ("bad",)}
    )
    assert ConnectorMemory.from_json(mem.to_json()) == mem


def test_protected_connectors_are_never_taken_for_unmanaged() -> None:
    held = want("held")
    the_plan = plan(
        {}, {"held": seen(held)}, {}, PlannerSettings(unmanaged="delete"), NOW, protected=frozenset({"held"})
    )
    assert "held" not in the_plan.connectors


def _sync(
    c: DesiredConnector,
    observed: ObservedConnector,
    memory: dict[str, ConnectorMemory],
    settings: PlannerSettings,
    at: float,
) -> tuple[tuple[act.Action, ...], dict[str, ConnectorMemory]]:
    """One sync whose actions all succeed: (actions, the memory after)."""
    the_plan = plan({c.name: c}, {c.name: observed}, memory, settings, at)
    done = the_plan.connectors[c.name].actions
    return done, dict(remember(memory, the_plan, {c.name: ConnectorOutcome(c.name, done=list(done))}, at))


def test_secret_change_restarts_the_connector_once_after_kubelets_refresh_the_files() -> None:
    settings = PlannerSettings(secret_propagation_seconds=60)
    first, second = want(secrets_version="v1"), want(secrets_version="v2")
    done, memory = _sync(first, seen(first), {}, settings, NOW)
    assert done == () and memory["c"].secrets_version == "v1", "first sight: recorded, no restart"
    done, memory = _sync(second, seen(second), memory, settings, NOW + 1)
    assert done == () and memory["c"].secrets_pending == "v2", "waits for the kubelets"
    done, memory = _sync(second, seen(second), memory, settings, NOW + 30)
    assert done == () and memory["c"].secrets_pending_since == NOW + 1, "the wait is not restarted"
    done, memory = _sync(second, seen(second), memory, settings, NOW + 61)
    assert done == (act.Restart(include_tasks=True, only_failed=False, secrets_version="v2"),)
    assert act.describe(done[0]) == "Restart(secret changed)"
    assert memory["c"].secrets_version == "v2" and memory["c"].restart_count == 0, "not an auto-restart"
    assert _sync(second, seen(second), memory, settings, NOW + 62)[0] == ()


def test_unknown_or_unchanged_secrets_never_restart() -> None:
    mem = ConnectorMemory(secrets_version="v1")
    assert actions_for(want(secrets_version=None), seen(want()), mem) == ()
    assert actions_for(want(secrets_version="v1"), seen(want()), mem) == ()


def test_a_stopped_connector_only_records_the_new_secrets() -> None:
    c = want(secrets_version="v2", state="STOPPED")
    done, memory = _sync(
        c, seen(c, state="STOPPED", tasks=()), {"c": ConnectorMemory(secrets_version="v1")}, SETTINGS, NOW
    )
    assert done == () and memory["c"].secrets_version == "v2"


def test_a_secret_restart_that_fails_is_tried_again() -> None:
    c = want(secrets_version="v2")
    memory = {"c": ConnectorMemory(secrets_version="v1")}
    the_plan = plan({"c": c}, {"c": seen(c)}, memory, SETTINGS, NOW)
    assert the_plan.connectors["c"].actions == (act.Restart(True, False, secrets_version="v2"),)
    failed = ConnectorOutcome("c", error="Connect unavailable")
    after = remember(memory, the_plan, {"c": failed}, NOW)
    assert after["c"].secrets_version == "v1"
    assert actions_for(c, seen(c), after["c"]) == (act.Restart(True, False, secrets_version="v2"),)


def test_a_config_change_does_not_stand_in_for_the_secret_restart() -> None:
    """The update may run before the kubelets refresh the files: the secret restart still follows."""
    c = want(secrets_version="v2", config={"topic": "new"})
    old = seen(want(config={"topic": "old"}))
    done, memory = _sync(c, old, {"c": ConnectorMemory(secrets_version="v1")}, SETTINGS, NOW)
    assert [type(a) for a in done] == [act.Validate, act.Update, act.Restart]
    assert memory["c"].secrets_version == "v2"


def test_a_create_records_the_secrets_it_resolved() -> None:
    c = want(secrets_version="v1")
    the_plan = plan({"c": c}, {}, {}, SETTINGS, NOW)
    outcome = ConnectorOutcome("c", done=list(the_plan.connectors["c"].actions))
    assert remember({}, the_plan, {"c": outcome}, NOW)["c"].secrets_version == "v1"


def test_a_connector_found_in_connect_that_this_declaration_did_not_create_is_left_alone_unless_adoptable() -> None:
    theirs = want("theirs", adoptable=False)
    changed = seen(theirs, file="/other")
    refused = plan({"theirs": theirs}, {"theirs": changed}, {}, SETTINGS, NOW).connectors["theirs"]
    assert refused.actions == () and refused.blocked == (TAKEOVER_REFUSED,)
    # Adopted (or ours: written before), a matching config is taken over without a write or a restart.
    adopted = plan({"theirs": want("theirs")}, {"theirs": seen(want("theirs"))}, {}, SETTINGS, NOW)
    assert adopted.connectors["theirs"].actions == ()
    ours = plan({"theirs": theirs}, {"theirs": changed}, {"theirs": ConnectorMemory(applied_hash="x")}, SETTINGS, NOW)
    assert ours.connectors["theirs"].actions, "a connector this declaration wrote before is still synced"
    # Not in Connect yet: created as always.
    assert plan({"theirs": theirs}, {}, {}, SETTINGS, NOW).connectors["theirs"].actions
