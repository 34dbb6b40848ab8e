"""The edits `kubectl kco` makes to a Connector: merge patches of the spec fields the operator honours.

Nothing here talks to Connect. A restart or an offsets operation is a one-shot request the planner
acts on once per id (it compares `spec.restart.id` and `spec.offsets.id` with the handled ids it
remembers), so each verb writes a fresh id; a state change is `spec.state`, which the planner keeps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

State = Literal["running", "paused", "stopped"]


def used_ids(obj: Mapping[str, Any]) -> set[str]:
    """Ids a new request must not reuse: those in the spec now and those the operator has honoured."""
    spec = obj.get("spec") or {}
    handled = (obj.get("status") or {}).get("handled") or {}
    ids = {(spec.get("restart") or {}).get("id"), (spec.get("offsets") or {}).get("id")}
    ids |= {handled.get("restart"), handled.get("offsets")}
    return {i for i in ids if isinstance(i, str) and i}


def new_request_id(now: datetime, token: str, used: set[str]) -> str:
    """A readable, unique id: when it was asked for (UTC) and a random token; never one already used.

    An id equal to a handled one would be silently ignored, so a clash (same second, same token) is
    suffixed rather than trusted to chance."""
    base = f"kubectl-{now.strftime('%Y%m%dT%H%M%SZ')}-{token}"
    candidate, n = base, 1
    while candidate in used:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def restart_patch(request_id: str, *, include_tasks: bool, only_failed: bool) -> dict[str, Any]:
    # The whole request object each time: a merge patch keeps no stale flag from an older request.
    return {"spec": {"restart": {"id": request_id, "includeTasks": include_tasks, "onlyFailed": only_failed}}}


def state_patch(state: State) -> dict[str, Any]:
    return {"spec": {"state": state}}


def offsets_patch(request_id: str, action: Literal["list", "reset"]) -> dict[str, Any]:
    # `offsets: []` replaces what an earlier alter request listed; reset and list take none.
    return {"spec": {"offsets": {"id": request_id, "action": action, "offsets": []}}}


def offsets_reset_refusal(obj: Mapping[str, Any]) -> str | None:
    """Why a reset is not written now, or None. The operator would hold it until the connector is stopped;
    saying so here beats a request that waits silently."""
    state = (obj.get("spec") or {}).get("state") or "running"
    if state != "stopped":
        name = (obj.get("metadata") or {}).get("name", "")
        return f"offsets reset needs spec.state: stopped (now {state}); run `kubectl kco stop {name}` first"
    return None


def desired_state(obj: Mapping[str, Any]) -> str:
    return str((obj.get("spec") or {}).get("state") or "running")
