"""A KafkaConnect's status from what was observed: the conditions, replicas, URL, plugins and Connect's version.

Ready=True means the cluster can serve: no problem stops the operator from acting on it (Stalled=False)
and at least one worker Pod is Ready. A worker Pod is Ready once its startup probe (`GET /health`: the
worker joined its group) passed and while its readiness probe (`GET /`, answered without the herder
thread) passes, so the rebalances a connector create or delete causes flip nothing. Fewer ready
workers than `spec.replicas` is Degraded=True, not Ready=False; a rollout or reconcile under way is
Reconciling=True (Progressing mirrors it, for readers of the older status).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from connect_operator.status.conditions import find, set_condition

MINIMUM_READY = 1  # ready workers a cluster needs to serve: any one of them takes REST calls for the group


@dataclass(frozen=True)
class Observation:
    generation: int | None
    now: str
    desired_replicas: int
    replicas: int = 0
    ready_replicas: int = 0
    updated_replicas: int = 0
    # The Deployment exists and its controller has seen its current spec (status.observedGeneration is current).
    deployment_current: bool = False
    url: str | None = None
    label_selector: str | None = None
    plugins: Sequence[dict[str, str]] | None = None
    connect_version: str | None = None  # from a ready worker's GET /
    connect_commit: str | None = None
    problem: tuple[str, str] | None = None  # (reason, message) that only a change can clear: Stalled
    # (reason, message) of a reconcile still under way (the generation not acted on yet), e.g. Kafka unreachable
    in_flight: tuple[str, str] | None = None
    warnings: tuple[tuple[str, str], ...] = field(default=())  # (reason, message) worth knowing
    # (reason, message) of worker Pods' init containers that failed (status.initfailures): why workers do not start
    init_failures: tuple[tuple[str, str], ...] = field(default=())


def status(previous: Mapping[str, Any], seen: Observation) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
    g, now = seen.generation, seen.now
    ready, desired = seen.ready_replicas, seen.desired_replicas
    counts = f"{ready}/{desired} workers ready"
    serving = desired > 0 and ready >= MINIMUM_READY
    if seen.problem:
        reason, message = seen.problem
        conditions = set_condition(conditions, "Stalled", True, reason, message, g, now)
        conditions = set_condition(conditions, "Ready", False, reason, message, g, now)
        reconciling: tuple[bool, str, str] = (False, reason, "waiting for a change that fixes the problem")
    else:
        conditions = set_condition(conditions, "Stalled", False, "AsExpected", "", g, now)
        if serving:
            conditions = set_condition(conditions, "Ready", True, "WorkersReady", counts, g, now)
        elif desired == 0:
            message = "spec.replicas is 0: no worker runs"
            conditions = set_condition(conditions, "Ready", False, "ScaledToZero", message, g, now)
        elif seen.init_failures:
            # Rather than "0/N workers ready": what keeps them from starting.
            reason, message = seen.init_failures[0][0], "; ".join(m for _, m in seen.init_failures)
            conditions = set_condition(conditions, "Ready", False, reason, message, g, now)
        else:
            conditions = set_condition(conditions, "Ready", False, "WorkersNotReady", counts, g, now)
        reconciling = _reconciling(seen, counts)
    for type_ in ("Reconciling", "Progressing"):
        conditions = set_condition(conditions, type_, *reconciling, g, now)
    short = [("WorkersNotReady", counts)] if not seen.problem and serving and ready < desired else []
    failing = list(seen.init_failures) if not seen.problem and serving else []
    degraded = short + failing + list(seen.warnings)
    if degraded:
        message = "; ".join(m for _, m in degraded)
        conditions = set_condition(conditions, "Degraded", True, degraded[0][0], message, g, now)
    else:
        conditions = set_condition(conditions, "Degraded", False, "AsExpected", "", g, now)
    result: dict[str, Any] = {
        "conditions": conditions,
        # A reconcile still under way has not acted on this generation: observedGeneration stays behind.
        "observedGeneration": previous.get("observedGeneration") if seen.in_flight else g,
        "replicas": seen.replicas,
        "readyReplicas": ready,
        "url": seen.url,
        "labelSelector": seen.label_selector,
    }
    # Read from a worker only when one answers: otherwise the last values stay (a merge patch keeps them).
    if seen.plugins is not None:
        result["connectorPlugins"] = list(seen.plugins)
    if seen.connect_version is not None:
        result["connectVersion"] = seen.connect_version
        result["connectCommit"] = seen.connect_commit
    return result


def _reconciling(seen: Observation, counts: str) -> tuple[bool, str, str]:
    if seen.in_flight:
        return (True, *seen.in_flight)
    desired = seen.desired_replicas
    rolled_out = (
        seen.deployment_current
        and seen.updated_replicas >= desired
        and seen.replicas == desired
        and seen.ready_replicas >= desired
    )
    if rolled_out:
        return False, "RolledOut", f"{counts} on the current configuration"
    return True, "RollingOut", f"{counts}, {seen.updated_replicas} on the current configuration"


def is_unannounced(previous: Mapping[str, Any], generation: int | None) -> bool:
    """Whether a reconcile of `generation` starts without the status saying so yet (a new generation)."""
    if previous.get("observedGeneration") == generation:
        return False
    reconciling = find(previous.get("conditions"), "Reconciling")
    return not (
        reconciling is not None
        and reconciling.get("status") == "True"
        and reconciling.get("observedGeneration") == generation
    )


def reconcile_started(previous: Mapping[str, Any], generation: int | None, now: str) -> dict[str, Any]:
    """The status while a reconcile of a new generation runs: Reconciling=True, everything else as it was."""
    conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
    message = f"acting on generation {generation}"
    for type_ in ("Reconciling", "Progressing"):
        conditions = set_condition(conditions, type_, True, "Reconciling", message, generation, now)
    return {**previous, "conditions": conditions}
