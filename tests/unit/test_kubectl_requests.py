"""`kubectl kco`'s edits, fed to the operator's own reading of a Connector and its planner: what it acts on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.connect.models import TaskState
from connect_operator.engine import actions as act
from connect_operator.engine.desired import from_connector
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.observed import ObservedConnector
from connect_operator.engine.planner import PlannerSettings, plan
from connect_operator.kubectl import requests

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 3, 15, 9, tzinfo=UTC)


def resource(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": "src", "namespace": "ns"},
        "spec": {"cluster": "local", "class": "Src", "config": {"topic": "t"}, **spec},
    }


def merged(target: Any, patch: Any) -> Any:
    """RFC 7386, as the API server applies a merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out


def planned(obj: dict[str, Any], state: str = "RUNNING", mem: ConnectorMemory | None = None) -> tuple[act.Action, ...]:
    desired = from_connector(Connector.model_validate(obj))
    observed = ObservedConnector(
        name=desired.name,
        config=desired.full_config,
        state=state,
        worker_id="w1",
        trace=None,
        tasks=(TaskState(id=0, state=state, worker_id="w1"),),
        type="source",
    )
    memory = {desired.name: mem} if mem else {}
    return (
        plan({desired.name: desired}, {desired.name: observed}, memory, PlannerSettings(), 1e6)
        .connectors[desired.name]
        .actions
    )


def test_a_restart_patch_is_one_restart_the_planner_performs_with_the_flags_asked_for() -> None:
    patched = merged(resource(), requests.restart_patch("r1", include_tasks=True, only_failed=True))
    assert planned(patched) == (act.Restart(include_tasks=True, only_failed=True, request_id="r1"),)


def test_a_second_restart_drops_the_flags_of_the_first_and_is_acted_on_though_the_first_was_handled() -> None:
    first = merged(resource(), requests.restart_patch("r1", include_tasks=True, only_failed=True))
    handled = ConnectorMemory(handled_restart_id="r1")
    assert planned(first, mem=handled) == ()
    second = merged(first, requests.restart_patch("r2", include_tasks=False, only_failed=False))
    assert second["spec"]["restart"] == {"id": "r2", "includeTasks": False, "onlyFailed": False}
    assert planned(second, mem=handled) == (act.Restart(include_tasks=False, only_failed=False, request_id="r2"),)


@pytest.mark.parametrize(("state", "target"), [("paused", "PAUSED"), ("stopped", "STOPPED"), ("running", "RUNNING")])
def test_a_state_patch_is_the_state_change_the_planner_makes(state: requests.State, target: str) -> None:
    start = "PAUSED" if target == "RUNNING" else "RUNNING"
    assert planned(merged(resource(), requests.state_patch(state)), state=start) == (act.ChangeState(target),)  # type: ignore[arg-type]


def test_an_offsets_patch_replaces_an_earlier_alter_list_and_is_one_offsets_step() -> None:
    altered = resource(state="stopped", offsets={"id": "o1", "action": "alter", "offsets": [{"partition": {}}]})
    patched = merged(altered, requests.offsets_patch("o2", "reset"))
    assert patched["spec"]["offsets"] == {"id": "o2", "action": "reset", "offsets": []}
    assert planned(patched, state="STOPPED", mem=ConnectorMemory(handled_offsets_id="o1")) == (
        act.Offsets("reset", "o2", ()),
    )
    listing = merged(resource(), requests.offsets_patch("o3", "list"))
    assert planned(listing) == (act.Offsets("list", "o3", ()),)


def test_a_new_id_names_the_time_and_never_repeats_one_in_the_spec_or_handled() -> None:
    obj = resource(restart={"id": "kubectl-20261202T031509Z-abc"})
    obj["status"] = {"handled": {"restart": "kubectl-20261202T031509Z-abc-2", "offsets": "o9"}}
    used = requests.used_ids(obj)
    assert used == {"kubectl-20261202T031509Z-abc", "kubectl-20261202T031509Z-abc-2", "o9"}
    assert requests.new_request_id(NOW, "abc", used) == "kubectl-20261202T031509Z-abc-3"
    assert requests.new_request_id(NOW, "def", used) == "kubectl-20261202T031509Z-def"


def test_an_offsets_reset_is_refused_unless_the_connector_is_to_be_stopped() -> None:
    why = requests.offsets_reset_refusal(resource(state="paused"))
    assert why is not None
    assert "stopped" in why
    assert "kubectl kco stop src" in why
    assert requests.offsets_reset_refusal(resource()) is not None
    assert requests.offsets_reset_refusal(resource(state="stopped")) is None
