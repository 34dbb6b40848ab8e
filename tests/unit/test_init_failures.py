"""Why workers do not start, read from their init containers' states, and how the KafkaConnect reports it."""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any

import pytest

from connect_operator.policy import kafkaconnect as policy
from connect_operator.status import initfailures, kafkaconnect
from connect_operator.status.conditions import find
from connect_worker import errors

pytestmark = pytest.mark.unit

MESSAGE = "PluginInstallFailed: plugin s3: cannot download https://repo/s3.jar: HTTP Error 404: Not Found\n"
FAILED = {"exitCode": 2, "reason": "Error", "message": MESSAGE}
S3 = (
    "PluginInstallFailed",
    "init container failed: plugin s3: cannot download https://repo/s3.jar: HTTP Error 404: Not Found",
)


def init(state: dict[str, Any], last: dict[str, Any] | None = None, name: str = "init") -> dict[str, Any]:
    return {"name": name, "state": state, "lastState": last or {}, "restartCount": 1}


def test_a_failure_counts_while_it_is_the_state_or_the_last_state_of_a_container_not_completed_since() -> None:
    assert initfailures.last_failure(init({"terminated": FAILED})) == FAILED
    backing_off = init({"waiting": {"reason": "CrashLoopBackOff"}}, {"terminated": FAILED})
    assert initfailures.last_failure(backing_off) == FAILED
    assert initfailures.last_failure(init({"running": {}}, {"terminated": FAILED})) == FAILED, "a retry under way"
    completed = init({"terminated": {"exitCode": 0, "reason": "Completed"}}, {"terminated": FAILED})
    assert initfailures.last_failure(completed) is None
    assert initfailures.last_failure(init({"waiting": {"reason": "PodInitializing"}})) is None


def test_the_reason_the_init_step_wrote_is_taken_and_the_rest_is_the_message() -> None:
    assert initfailures.problem_of(FAILED) == S3


def test_a_log_tail_or_an_unknown_first_word_is_a_generic_failure_with_the_exit_code() -> None:
    traceback = {"exitCode": 1, "message": "Traceback (most recent call last):\n  ...\nMemoryError\n"}
    assert initfailures.problem_of(traceback) == (
        "WorkerInitFailed",
        "init container exited with code 1: Traceback (most recent call last): ... MemoryError",
    )
    assert initfailures.problem_of({"exitCode": 1, "message": "INFO: starting"})[0] == "WorkerInitFailed"
    assert initfailures.problem_of({"exitCode": 137}) == (
        "WorkerInitFailed",
        "init container exited with code 137 and no message; see its log",
    )
    long_log = {"exitCode": 1, "message": "x" * 5000}
    assert len(initfailures.problem_of(long_log)[1]) < 500


def test_the_same_failure_in_two_pods_is_one_problem_and_other_containers_are_ignored() -> None:
    pods = [
        [init({"terminated": FAILED})],
        [init({"waiting": {"reason": "CrashLoopBackOff"}}, {"terminated": FAILED})],
        [init({"terminated": FAILED}, name="sidecar-init")],
        [],
    ]
    assert initfailures.init_failures(pods) == (S3,)


def test_every_reason_the_init_step_writes_is_one_the_operator_knows() -> None:
    classes = [c for _, c in inspect.getmembers(errors, inspect.isclass) if issubclass(c, errors.WorkerError)]
    assert {c.reason for c in classes} <= initfailures.INIT_REASONS
    assert errors.PluginError.reason == "PluginInstallFailed"


STARTING = kafkaconnect.Observation(generation=2, now="2026-12-01T00:00:00Z", desired_replicas=1, replicas=1)


def test_no_ready_worker_and_a_failed_init_container_make_ready_false_with_its_reason_and_message() -> None:
    status = kafkaconnect.status({}, replace(STARTING, init_failures=(S3,)))
    ready = find(status["conditions"], "Ready")
    assert ready is not None and (ready["status"], ready["reason"], ready["message"]) == ("False", *S3)
    assert find(status["conditions"], "Stalled")["status"] == "False"  # type: ignore[index]


def test_a_failed_init_container_beside_a_ready_worker_is_degraded_not_unready() -> None:
    serving = replace(STARTING, desired_replicas=2, replicas=2, ready_replicas=1, init_failures=(S3,))
    status = kafkaconnect.status({}, serving)
    assert find(status["conditions"], "Ready")["status"] == "True"  # type: ignore[index]
    degraded = find(status["conditions"], "Degraded")
    assert degraded is not None and degraded["status"] == "True" and S3[1] in degraded["message"]


def test_a_problem_of_the_reconcile_comes_before_an_init_failure() -> None:
    status = kafkaconnect.status({}, replace(STARTING, init_failures=(S3,), problem=("InvalidSpec", "bad")))
    assert find(status["conditions"], "Ready")["reason"] == "InvalidSpec"  # type: ignore[index]


def test_an_init_failure_is_new_until_the_status_reports_it() -> None:
    reported = kafkaconnect.status({}, replace(STARTING, init_failures=(S3,)))
    assert policy.new_init_failures({}, [S3]) == [S3]
    assert policy.new_init_failures(reported, [S3]) == []
    other = ("PluginInstallFailed", "init container failed: plugin jdbc: artifact ... has sha512 ...")
    assert policy.new_init_failures(reported, [S3, other]) == [other]
