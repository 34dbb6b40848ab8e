"""A KafkaConnect's status from what was observed: Ready, Progressing, Degraded, replicas, URL, plugins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connect_operator.status.conditions import set_condition


@dataclass(frozen=True)
class Observation:
    generation: int | None
    now: str
    desired_replicas: int
    replicas: int = 0
    ready_replicas: int = 0
    updated_replicas: int = 0
    url: str | None = None
    label_selector: str | None = None
    plugins: Sequence[dict[str, str]] | None = None
    problem: tuple[str, str] | None = None  # (reason, message) that stops the cluster from working
    warnings: tuple[tuple[str, str], ...] = field(default=())  # (reason, message) worth knowing


def status(previous: dict[str, Any], seen: Observation) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = list(previous.get("conditions") or [])
    g, now = seen.generation, seen.now
    rolled_out = seen.updated_replicas >= seen.desired_replicas and seen.replicas == seen.desired_replicas
    all_ready = seen.ready_replicas >= seen.desired_replicas and rolled_out
    if seen.problem:
        reason, message = seen.problem
        conditions = set_condition(conditions, "Ready", False, reason, message, g, now)
        conditions = set_condition(conditions, "Progressing", False, reason, message, g, now)
    elif all_ready:
        ready_message = f"{seen.ready_replicas}/{seen.desired_replicas} workers ready"
        conditions = set_condition(conditions, "Ready", True, "WorkersReady", ready_message, g, now)
        conditions = set_condition(conditions, "Progressing", False, "RolledOut", ready_message, g, now)
    else:
        message = (
            f"{seen.ready_replicas}/{seen.desired_replicas} workers ready, "
            f"{seen.updated_replicas} on the current configuration"
        )
        conditions = set_condition(conditions, "Ready", False, "WorkersNotReady", message, g, now)
        conditions = set_condition(conditions, "Progressing", True, "RollingOut", message, g, now)
    if seen.warnings:
        reason, message = seen.warnings[0]
        conditions = set_condition(conditions, "Degraded", True, reason, "; ".join(m for _, m in seen.warnings), g, now)
    else:
        conditions = set_condition(conditions, "Degraded", False, "AsExpected", "", g, now)
    result: dict[str, Any] = {
        "conditions": conditions,
        "observedGeneration": g,
        "replicas": seen.replicas,
        "readyReplicas": seen.ready_replicas,
        "url": seen.url,
        "labelSelector": seen.label_selector,
    }
    if seen.plugins is not None:
        result["connectorPlugins"] = list(seen.plugins)
    return result
