"""Moving a connector between clusters: stopped and deleted in the old one before it starts in the new one.

The old cluster's loop stops the connector, reads a source's offsets from the stopped connector, deletes
it, and lets go (status.cluster cleared, status.move recorded). Only then does the new cluster's loop
create it, stopped, set the offsets, and start it: it never runs in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Literal

from connect_operator.api.v1alpha1.connector import OffsetsRequest
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.policy.connectors import Problem

LeavingStep = Literal["stop", "read-and-delete", "release"]


def placed_in(obj: Mapping[str, Any]) -> str | None:
    """The cluster the connector was last placed in (it may still run there)."""
    placed = (obj.get("status") or {}).get("cluster")
    return str(placed) if placed else None


def is_leaving(obj: Mapping[str, Any], cluster_name: str) -> bool:
    return placed_in(obj) == cluster_name and (obj.get("spec") or {}).get("cluster") != cluster_name


def arriving_problem(obj: Mapping[str, Any], cluster_name: str, old_cluster_exists: bool) -> Problem | None:
    """Why a connector moved here must wait: the old cluster has not let go of it yet."""
    placed = placed_in(obj)
    if placed is None or placed == cluster_name or not old_cluster_exists:
        return None
    return Problem(
        "Moving",
        f"waiting for KafkaConnect {placed} to stop and delete the connector before it starts here",
        stalled=False,
    )


def leaving_step(state_in_connect: str | None) -> LeavingStep:
    """The next step of the old cluster: stop it, then read offsets and delete it; gone: let go."""
    if state_in_connect is None:
        return "release"
    return "read-and-delete" if state_in_connect == "STOPPED" else "stop"


def arriving(
    desired: DesiredConnector, move: Mapping[str, Any] | None, memory: ConnectorMemory
) -> tuple[DesiredConnector, bool]:
    """(what to ask of Connect, whether the move is complete). A source with offsets starts stopped, its
    offsets are set once (the move's id), and then it takes the state its spec asks for."""
    if not move:
        return desired, False
    offsets = list(move.get("offsets") or [])
    if not offsets or memory.handled_offsets_id == move["id"]:
        return desired, True
    request = OffsetsRequest(id=str(move["id"]), action="alter", offsets=offsets)
    return replace(desired, state="STOPPED", offsets=request), False
