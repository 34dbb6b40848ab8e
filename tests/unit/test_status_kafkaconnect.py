"""A KafkaConnect's conditions from observations: Ready means it can serve, the rest says how well and why."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from connect_operator.policy import kafkaconnect as policy
from connect_operator.status import kafkaconnect
from connect_operator.status.conditions import find

pytestmark = pytest.mark.unit

NOW, LATER = "2026-12-01T00:00:00Z", "2026-12-01T00:05:00Z"
ROLLED_OUT = kafkaconnect.Observation(
    generation=3,
    now=NOW,
    desired_replicas=2,
    replicas=2,
    ready_replicas=2,
    updated_replicas=2,
    deployment_current=True,
)


def conditions(status: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """type → (status, reason)."""
    return {c["type"]: (c["status"], c["reason"]) for c in status["conditions"]}


def test_every_worker_ready_on_the_current_configuration_is_ready_and_nothing_else() -> None:
    shown = conditions(kafkaconnect.status({}, ROLLED_OUT))
    assert shown == {
        "Stalled": ("False", "AsExpected"),
        "Ready": ("True", "WorkersReady"),
        "Reconciling": ("False", "RolledOut"),
        "Progressing": ("False", "RolledOut"),
        "Degraded": ("False", "AsExpected"),
    }


def test_one_of_two_workers_ready_still_serves_degraded_and_reconciling() -> None:
    status = kafkaconnect.status({}, replace(ROLLED_OUT, ready_replicas=1))
    shown = conditions(status)
    assert shown["Ready"] == ("True", "WorkersReady")
    assert shown["Degraded"] == ("True", "WorkersNotReady")
    assert shown["Reconciling"] == ("True", "RollingOut")
    degraded = find(status["conditions"], "Degraded")
    assert degraded is not None and degraded["message"] == "1/2 workers ready"


def test_no_ready_worker_cannot_serve() -> None:
    shown = conditions(kafkaconnect.status({}, replace(ROLLED_OUT, ready_replicas=0)))
    assert shown["Ready"] == ("False", "WorkersNotReady")
    assert shown["Degraded"] == ("False", "AsExpected"), "not serving at all is Ready=False, not Degraded"
    assert shown["Reconciling"] == ("True", "RollingOut")


def test_scaled_to_zero_is_not_ready_and_rolled_out() -> None:
    seen = replace(ROLLED_OUT, desired_replicas=0, replicas=0, ready_replicas=0, updated_replicas=0)
    shown = conditions(kafkaconnect.status({}, seen))
    assert shown["Ready"] == ("False", "ScaledToZero")
    assert shown["Reconciling"] == ("False", "RolledOut")


@pytest.mark.parametrize(
    "seen",
    [
        replace(ROLLED_OUT, deployment_current=False),  # the Deployment controller has not seen the new spec
        replace(ROLLED_OUT, updated_replicas=1),  # one worker still on the old configuration
        replace(ROLLED_OUT, replicas=3, ready_replicas=3),  # the surge worker is still there
    ],
    ids=["deployment-not-observed", "old-worker-left", "surge-worker-left"],
)
def test_a_rollout_under_way_is_reconciling_and_still_ready(seen: kafkaconnect.Observation) -> None:
    shown = conditions(kafkaconnect.status({}, seen))
    assert shown["Reconciling"] == ("True", "RollingOut") and shown["Progressing"] == ("True", "RollingOut")
    assert shown["Ready"] == ("True", "WorkersReady")


@pytest.mark.parametrize("reason", sorted(policy.RECONCILE_PROBLEMS))
def test_a_problem_only_a_change_clears_is_stalled_and_not_ready_and_the_refresh_keeps_it(reason: str) -> None:
    status = kafkaconnect.status({}, replace(ROLLED_OUT, problem=(reason, "what to fix")))
    shown = conditions(status)
    assert shown["Stalled"] == ("True", reason)
    assert shown["Ready"] == ("False", reason)
    assert shown["Reconciling"] == ("False", reason)
    assert status["observedGeneration"] == 3, "the generation was acted on: refused"
    # The status timer finds the problem again in what was written, so a refresh does not clear it.
    assert policy.standing_problem(status) == (reason, "what to fix")


def test_a_reconcile_still_under_way_leaves_observed_generation_behind() -> None:
    before = kafkaconnect.status({}, ROLLED_OUT)
    seen = replace(ROLLED_OUT, generation=4, in_flight=("KafkaUnreachable", "cannot reach Kafka at k:9092"))
    status = kafkaconnect.status(before, seen)
    shown = conditions(status)
    assert status["observedGeneration"] == 3
    assert shown["Reconciling"] == ("True", "KafkaUnreachable")
    assert shown["Stalled"] == ("False", "AsExpected") and shown["Ready"] == ("True", "WorkersReady")


def test_ready_keeps_its_transition_time_while_a_worker_restarts() -> None:
    status = kafkaconnect.status({}, ROLLED_OUT)
    for ready in (1, 1, 2):
        status = kafkaconnect.status(status, replace(ROLLED_OUT, ready_replicas=ready, now=LATER))
        condition = find(status["conditions"], "Ready")
        assert condition is not None and condition["status"] == "True" and condition["lastTransitionTime"] == NOW
    degraded = find(status["conditions"], "Degraded")
    assert degraded is not None and degraded["status"] == "False"
    assert degraded["lastTransitionTime"] == LATER, "Degraded flipped to True and back"


def test_warnings_join_the_worker_shortfall_in_degraded() -> None:
    seen = replace(ROLLED_OUT, ready_replicas=1, warnings=(("PodDisruptionBudgetV1beta1", "policy/v1 is not served"),))
    degraded = find(kafkaconnect.status({}, seen)["conditions"], "Degraded")
    assert degraded is not None and degraded["reason"] == "WorkersNotReady"
    assert degraded["message"] == "1/2 workers ready; policy/v1 is not served"


def test_connect_version_is_shown_once_read_and_otherwise_left_as_stored() -> None:
    read = kafkaconnect.status({}, replace(ROLLED_OUT, connect_version="3.9.0", connect_commit="a1b2"))
    assert (read["connectVersion"], read["connectCommit"]) == ("3.9.0", "a1b2")
    unread = kafkaconnect.status(read, ROLLED_OUT)
    assert "connectVersion" not in unread and "connectCommit" not in unread, "a merge patch keeps the stored ones"


def test_a_new_generation_is_announced_once_before_its_reconcile() -> None:
    acted = kafkaconnect.status({}, ROLLED_OUT)
    assert not kafkaconnect.is_unannounced(acted, 3), "the same generation again (resume): nothing to announce"
    assert kafkaconnect.is_unannounced(acted, 4)
    started = kafkaconnect.reconcile_started(acted, 4, LATER)
    shown = conditions(started)
    assert shown["Reconciling"] == ("True", "Reconciling") and shown["Progressing"] == ("True", "Reconciling")
    assert shown["Ready"] == ("True", "WorkersReady") and started["observedGeneration"] == 3
    assert not kafkaconnect.is_unannounced(started, 4), "a retried reconcile of 4 writes no second announcement"
    assert kafkaconnect.is_unannounced({}, 1), "a new KafkaConnect"
