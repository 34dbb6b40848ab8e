"""The chart's Argo CD health check (helm/kafka-connect-operator/files/argocd-health.lua) on a real Lua 5.1.

Rules by hand-written conditions, then on statuses today's builders write (which have no Reconciling or
Stalled yet), and with Reconciling/Stalled set the way the kstatus builders will set them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from lupa import lua51

from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.results import TaskResult
from connect_operator.status import connector, kafkaconnect
from connect_operator.status.conditions import set_condition
from tests.support.argocd import INVALID_STATUS, STATUSES, health, run
from tests.support.results import connector_result

pytestmark = pytest.mark.unit

NOW = "2026-12-01T00:00:00Z"
KINDS = ("Connector", "KafkaConnect")


def resource(kind: str, status: dict[str, Any] | None, generation: int = 1) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": kind,
        "metadata": {"name": "a", "namespace": "ns", "generation": generation, "uid": "u"},
        "spec": {},
    }
    if status is not None:
        obj["status"] = status
    return obj


def cond(type_: str, status: str, reason: str = "", message: str = "") -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "observedGeneration": 1,
        "lastTransitionTime": NOW,
    }


def observed(*conditions: dict[str, Any], generation: int | str = 1, **fields: Any) -> dict[str, Any]:
    return {"observedGeneration": generation, "conditions": list(conditions), **fields}


READY = cond("Ready", "True", "WorkersReady", "2/2 workers ready")


# Generation: nothing counts before the operator has seen the latest spec.


@pytest.mark.parametrize("kind", KINDS)
def test_an_object_without_status_waits_for_the_operator(kind: str) -> None:
    assert health(resource(kind, None, generation=1)) == (
        "Progressing",
        "waiting for the operator to observe generation 1",
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "status",
    [{}, {"conditions": [READY]}, {"observedGeneration": None, "conditions": [READY]}],
    ids=["empty", "no-observed-generation", "null-observed-generation"],
)
def test_a_status_without_observed_generation_has_not_observed_the_spec(kind: str, status: dict[str, Any]) -> None:
    assert health(resource(kind, status, generation=4)) == (
        "Progressing",
        "waiting for the operator to observe generation 4",
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "conditions",
    [[READY], [cond("Stalled", "True", "InvalidSpec", "bad")], [cond("Reconciling", "True", "Applying", "x")]],
    ids=["ready", "stalled", "reconciling"],
)
def test_a_status_behind_the_generation_is_progressing_whatever_it_says(
    kind: str, conditions: list[dict[str, Any]]
) -> None:
    obj = resource(kind, observed(*conditions, generation=2), generation=3)
    assert health(obj) == ("Progressing", "waiting for the operator to observe generation 3")


@pytest.mark.parametrize("kind", KINDS)
def test_a_status_at_or_past_the_generation_is_read(kind: str) -> None:
    assert health(resource(kind, observed(READY, generation=3), generation=3)) == ("Healthy", "2/2 workers ready")
    assert health(resource(kind, observed(READY, generation=4), generation=3)) == ("Healthy", "2/2 workers ready")


# The conditions, in order: Stalled, Reconciling, Ready (Suspended for a paused or stopped Connector), Degraded.


@pytest.mark.parametrize("kind", KINDS)
def test_stalled_is_degraded_with_its_reason_and_message_before_anything_else(kind: str) -> None:
    stalled = cond("Stalled", "True", "InvalidSpec", "spec.config: tasks.max is set by the operator")
    status = observed(
        READY,
        cond("Reconciling", "True", "Applying", "a write awaits observation"),
        stalled,
        state="PAUSED",
    )
    assert health(resource(kind, status)) == ("Degraded", "InvalidSpec: spec.config: tasks.max is set by the operator")


@pytest.mark.parametrize("kind", KINDS)
def test_stalled_false_or_unknown_is_not_degraded(kind: str) -> None:
    for value in ("False", "Unknown"):
        assert health(resource(kind, observed(READY, cond("Stalled", value, "InvalidSpec", "x"))))[0] == "Healthy"


@pytest.mark.parametrize("kind", KINDS)
def test_reconciling_is_progressing_with_its_reason_and_message_even_when_ready(kind: str) -> None:
    reconciling = cond("Reconciling", "True", "Moving", "from cluster a to cluster b")
    status = observed(READY, reconciling, cond("Stalled", "False", "AsExpected"), state="PAUSED")
    assert health(resource(kind, status)) == ("Progressing", "Moving: from cluster a to cluster b")


@pytest.mark.parametrize("kind", KINDS)
def test_ready_with_nothing_in_flight_is_healthy_with_readys_message(kind: str) -> None:
    status = observed(READY, cond("Reconciling", "False", "Done"), cond("Stalled", "False", "AsExpected"))
    assert health(resource(kind, status)) == ("Healthy", "2/2 workers ready")


@pytest.mark.parametrize(
    ("state", "expected"), [("PAUSED", "Suspended"), ("STOPPED", "Suspended"), ("RUNNING", "Healthy")]
)
def test_a_ready_connector_paused_or_stopped_as_asked_is_suspended(state: str, expected: str) -> None:
    ready = cond("Ready", "True", state.title(), f"{state}, 0/0 tasks running")
    assert health(resource("Connector", observed(ready, state=state))) == (expected, f"{state}, 0/0 tasks running")


def test_a_paused_connector_that_is_not_ready_is_not_suspended() -> None:
    status = observed(cond("Ready", "False", "ClusterNotReady", "KafkaConnect c is not Ready"), state="PAUSED")
    assert health(resource("Connector", status)) == ("Progressing", "ClusterNotReady: KafkaConnect c is not Ready")


def test_only_a_connector_is_suspended() -> None:
    assert health(resource("KafkaConnect", observed(READY, state="STOPPED"))) == ("Healthy", "2/2 workers ready")


def test_a_kafkaconnect_ready_and_degraded_is_healthy_and_says_degraded() -> None:
    degraded = cond("Degraded", "True", "PodDisruptionBudgetV1beta1", "policy/v1 is not served")
    assert health(resource("KafkaConnect", observed(READY, degraded))) == (
        "Healthy",
        "2/2 workers ready (Degraded PodDisruptionBudgetV1beta1: policy/v1 is not served)",
    )


def test_a_kafkaconnect_degraded_and_not_ready_with_nothing_in_flight_is_degraded() -> None:
    ready = cond("Ready", "False", "WorkersNotReady", "1/2 workers ready")
    degraded = cond("Degraded", "True", "WorkersShort", "1 of 2 workers crash-looping")
    status = observed(ready, degraded, cond("Reconciling", "False", "Done"))
    expected = "WorkersNotReady: 1/2 workers ready (Degraded WorkersShort: 1 of 2 workers crash-looping)"
    assert health(resource("KafkaConnect", status)) == ("Degraded", expected)
    # While work is in flight (a rollout), short of workers is progress, not degradation.
    rolling = observed(ready, degraded, cond("Reconciling", "True", "RollingOut", "1/2 workers updated"))
    assert health(resource("KafkaConnect", rolling)) == ("Progressing", "RollingOut: 1/2 workers updated")


def test_a_degraded_note_stands_alone_when_ready_has_no_message() -> None:
    status = observed(cond("Ready", "True", "WorkersReady"), cond("Degraded", "True", "", "one rack is missing"))
    assert health(resource("KafkaConnect", status)) == ("Healthy", "Degraded one rack is missing")


def test_degraded_false_changes_nothing() -> None:
    status = observed(READY, cond("Degraded", "False", "AsExpected"))
    assert health(resource("KafkaConnect", status)) == ("Healthy", "2/2 workers ready")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("ready", "message"),
    [
        (cond("Ready", "False", "NotCreated", "not in Connect yet"), "NotCreated: not in Connect yet"),
        (cond("Ready", "False", "ClusterNotReady"), "ClusterNotReady"),
        (cond("Ready", "False", "", "no reason given"), "no reason given"),
        (cond("Ready", "Unknown"), "Ready=Unknown"),
        ({"type": "Ready"}, "Ready="),
    ],
    ids=["reason-and-message", "reason-only", "message-only", "unknown", "bare"],
)
def test_not_ready_otherwise_is_progressing_with_readys_reason_and_message(
    kind: str, ready: dict[str, Any], message: str
) -> None:
    status = observed(ready, cond("Reconciling", "False", "Done"), cond("Stalled", "False", "AsExpected"))
    assert health(resource(kind, status)) == ("Progressing", message)


@pytest.mark.parametrize("kind", KINDS)
def test_no_ready_condition_yet_is_progressing(kind: str) -> None:
    status = observed(cond("Synced", "True", "Synced", "Create"))
    assert health(resource(kind, status)) == ("Progressing", "waiting for the operator to report Ready")


# Older statuses: no Reconciling or Stalled, and KafkaConnect's Progressing as the sign of work in flight.


def test_an_old_kafkaconnect_status_rolling_out_is_progressing_even_if_degraded() -> None:
    status = observed(
        cond("Ready", "False", "WorkersNotReady", "1/2 workers ready, 1 on the current configuration"),
        cond("Progressing", "True", "RollingOut", "1/2 workers ready, 1 on the current configuration"),
        cond("Degraded", "True", "PodDisruptionBudgetV1beta1", "policy/v1 is not served"),
    )
    expected = ("Progressing", "RollingOut: 1/2 workers ready, 1 on the current configuration")
    assert health(resource("KafkaConnect", status)) == expected


def test_progressing_counts_only_where_there_is_no_reconciling_condition() -> None:
    status = observed(READY, cond("Progressing", "True", "RollingOut", "x"), cond("Reconciling", "False", "Done"))
    assert health(resource("KafkaConnect", status)) == ("Healthy", "2/2 workers ready")


def test_an_old_connector_status_with_an_invalid_config_is_progressing_without_stalled() -> None:
    ready = cond("Ready", "False", "ConfigInvalid", "the config is invalid; see ConfigValid")
    old = observed(cond("ConfigValid", "False", "ValidationFailed", "topics: required"), ready)
    assert health(resource("Connector", old)) == (
        "Progressing",
        "ConfigInvalid: the config is invalid; see ConfigValid",
    )


# Missing and odd fields never make the script fail.


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"kind": "Connector"},
        {"kind": "Connector", "metadata": {}},
        {"kind": "Connector", "metadata": {"name": "a"}, "status": None},
        {"kind": "Connector", "metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": None}},
        {"kind": "Connector", "metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": []}},
        {"kind": "KafkaConnect", "metadata": {"generation": 1}, "status": {"observedGeneration": 1, "conditions": {}}},
        {"kind": "KafkaConnect", "metadata": {}, "status": {"conditions": ["Ready", 3, None, {"status": "True"}]}},
        {"kind": "Connector", "metadata": {"generation": "2"}, "status": {"observedGeneration": "2"}},
        {"kind": "Connector", "metadata": {"generation": 1}, "status": {"observedGeneration": 1, "state": None}},
    ],
    ids=repr,
)
def test_missing_or_odd_fields_give_a_status_not_an_error(obj: dict[str, Any]) -> None:
    status, message = health(obj)
    assert status == "Progressing" and message.startswith("waiting for the operator to "), (status, message)


def test_generations_decoded_as_strings_compare_as_numbers() -> None:
    # Argo CD decodes a json.Number as a Lua string: "9" < "10" must hold as numbers, not as text.
    obj = resource("Connector", observed(READY, generation="9"))
    obj["metadata"]["generation"] = "10"
    assert health(obj) == ("Progressing", "waiting for the operator to observe generation 10")


def test_without_a_generation_the_conditions_decide() -> None:
    obj = {
        "kind": "Connector",
        "metadata": {"name": "a"},
        "status": {"observedGeneration": None, "conditions": [READY]},
    }
    assert health(obj) == ("Healthy", "2/2 workers ready")
    assert health({"kind": "Connector", "metadata": {}}) == (
        "Progressing",
        "waiting for the operator to write a status",
    )


# Statuses today's builders write (connect_operator.status), and with Reconciling/Stalled added.


def _connector(status: dict[str, Any], generation: int = 3) -> dict[str, Any]:
    return resource("Connector", status, generation)


def _from_result(**changes: Any) -> dict[str, Any]:
    return connector.from_result({}, connector_result("a", **changes), ConnectorMemory(), 3, NOW)


def test_built_a_running_connector_is_healthy_once_nothing_is_in_flight() -> None:
    running = (TaskResult(0, "RUNNING", "w:8083", None),)
    assert health(_connector(_from_result(tasks=running))) == ("Healthy", "RUNNING, 1/1 tasks running")
    # The sync that created it is still waiting for the workers to report it.
    assert health(_connector(_from_result(tasks=running, actions=("Create",)))) == ("Progressing", "Applying: Create")


@pytest.mark.parametrize("state", ["PAUSED", "STOPPED"])
def test_built_a_paused_or_stopped_connector_is_suspended(state: str) -> None:
    tasks = (TaskResult(0, "PAUSED", "w:8083", None),) if state == "PAUSED" else ()
    status = _from_result(state=state, tasks=tasks)
    running = "0/1" if tasks else "0/0"
    assert health(_connector(status)) == ("Suspended", f"{state}, {running} tasks running")


def test_built_a_failed_task_is_progressing_with_its_trace() -> None:
    assert health(_connector(_from_result())) == ("Progressing", "Failed: task 1 FAILED: boom")


def test_built_an_invalid_config_is_stalled_so_degraded() -> None:
    status = _from_result(state=None, tasks=(), config_valid=False, field_errors={"topics": ("required",)})
    assert health(_connector(status)) == (
        "Degraded",
        "ConfigInvalid: Connect rejected the config; fix spec.config (see ConfigValid)",
    )


def test_built_a_write_awaiting_observation_is_progressing_once_reconciling() -> None:
    status = _from_result(tasks=(TaskResult(0, "RUNNING", "w:8083", None),))
    reconciling = set_condition(status["conditions"], "Reconciling", True, "Applying", "PUT config sent", 3, NOW)
    assert health(_connector({**status, "conditions": reconciling})) == ("Progressing", "Applying: PUT config sent")
    done = set_condition(reconciling, "Reconciling", False, "Done", "", 3, NOW)
    assert health(_connector({**status, "conditions": done})) == ("Healthy", "RUNNING, 1/1 tasks running")


def test_built_a_status_of_an_older_generation_is_progressing() -> None:
    status = _from_result(tasks=(TaskResult(0, "RUNNING", "w:8083", None),))
    assert health(_connector(status, generation=4)) == (
        "Progressing",
        "waiting for the operator to observe generation 4",
    )


def test_built_not_synced_over_a_paused_connector_is_progressing_not_suspended() -> None:
    paused = _from_result(state="PAUSED", tasks=())
    # The status patch merges: state stays PAUSED from before, Ready turns False.
    merged = {
        **paused,
        **connector.not_synced(paused, "ClusterNotReady", "KafkaConnect c is not Ready", 3, NOW, stalled=False),
    }
    assert merged["state"] == "PAUSED"
    assert health(_connector(merged)) == ("Progressing", "ClusterNotReady: KafkaConnect c is not Ready")


def test_built_not_synced_for_a_missing_cluster_is_stalled_so_degraded() -> None:
    status = connector.not_synced({}, "ClusterNotFound", "no KafkaConnect c", 3, NOW, stalled=True)
    assert health(_connector(status)) == ("Degraded", "ClusterNotFound: no KafkaConnect c")


def test_built_not_synced_without_a_generation_is_read_by_its_conditions() -> None:
    status = connector.not_synced({}, "ConnectUnreachable", "http://c:8083: refused", None, NOW, stalled=False)
    assert status["observedGeneration"] is None
    obj = {"apiVersion": "kco.dev/v1alpha1", "kind": "Connector", "metadata": {"name": "a"}, "status": status}
    assert health(obj) == ("Progressing", "ConnectUnreachable: http://c:8083: refused")


ALL_READY = kafkaconnect.Observation(
    generation=2,
    now=NOW,
    desired_replicas=2,
    replicas=2,
    ready_replicas=2,
    updated_replicas=2,
    deployment_current=True,
)


def _kafkaconnect(seen: kafkaconnect.Observation, previous: dict[str, Any] | None = None) -> dict[str, Any]:
    return resource("KafkaConnect", kafkaconnect.status(previous or {}, seen), generation=2)


def test_built_a_kafkaconnect_with_every_worker_ready_is_healthy() -> None:
    assert health(_kafkaconnect(ALL_READY)) == ("Healthy", "2/2 workers ready")


def test_built_a_kafkaconnect_rolling_out_is_progressing() -> None:
    rolling = replace(ALL_READY, ready_replicas=1, updated_replicas=1)
    expected = ("Progressing", "RollingOut: 1/2 workers ready, 1 on the current configuration")
    assert health(_kafkaconnect(rolling)) == expected
    warned = replace(rolling, warnings=(("PodDisruptionBudgetV1beta1", "policy/v1 is not served"),))
    assert health(_kafkaconnect(warned)) == expected


def test_built_a_kafkaconnect_with_a_warning_is_healthy_and_says_degraded() -> None:
    warned = replace(ALL_READY, warnings=(("PodDisruptionBudgetV1beta1", "policy/v1 is not served"),))
    assert health(_kafkaconnect(warned)) == (
        "Healthy",
        "2/2 workers ready (Degraded PodDisruptionBudgetV1beta1: policy/v1 is not served)",
    )


def test_built_a_kafkaconnect_with_a_problem_is_stalled_so_degraded() -> None:
    invalid = replace(ALL_READY, problem=("InvalidSpec", "spec.config: group.id is the operator's"))
    assert health(resource("KafkaConnect", kafkaconnect.status({}, invalid), 2)) == (
        "Degraded",
        "InvalidSpec: spec.config: group.id is the operator's",
    )


def test_built_a_kafkaconnect_after_a_spec_change_is_progressing_until_observed() -> None:
    status = kafkaconnect.status({}, ALL_READY)
    assert health(resource("KafkaConnect", status, generation=3)) == (
        "Progressing",
        "waiting for the operator to observe generation 3",
    )
    again = kafkaconnect.status(status, replace(ALL_READY, generation=3))
    assert health(resource("KafkaConnect", again, generation=3)) == ("Healthy", "2/2 workers ready")


# The harness is Argo CD's sandbox, not a full Lua.


def test_the_harness_runs_lua_5_1_without_the_libraries_argo_cd_leaves_out() -> None:
    assert run('return {status = "Healthy", message = _VERSION}', {}) == ("Healthy", "Lua 5.1")
    assert run('return {status = "Healthy", message = type(string) .. type(math) .. type(os)}', {}) == (
        "Healthy",
        "nilnilnil",
    )
    with pytest.raises(lua51.LuaError):
        run('local s = "healthy"; return {status = s:upper()}', {})


def test_the_harness_decodes_like_argo_cd_and_refuses_what_argo_cd_refuses() -> None:
    script = "return {status = 'Healthy', message = obj.a[1] .. tostring(obj.b) .. tostring(#obj.a)}"
    assert run(script, {"a": ["x", "y"], "b": None}) == ("Healthy", "xnil2")
    assert run('return {status = "Fine"}', {}) == ("Unknown", INVALID_STATUS)
    with pytest.raises(TypeError, match="expect table"):
        run('return "Healthy"', {})


def test_the_script_only_answers_what_argo_cd_accepts() -> None:
    assert {"Healthy", "Progressing", "Degraded", "Suspended"} <= STATUSES
    for obj in (resource("Connector", None), resource("KafkaConnect", observed(READY))):
        assert health(obj)[0] in STATUSES - {"Unknown"}
