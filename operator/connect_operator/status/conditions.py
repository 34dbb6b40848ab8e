"""Conditions the kstatus way: lastTransitionTime moves only when the status flips; one reader of each."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any


def rfc3339(epoch: float) -> str:
    """The one timestamp format of status, conditions and Events: RFC 3339 in UTC, whole seconds."""
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def set_condition(
    conditions: Sequence[dict[str, Any]],
    type_: str,
    status: bool | None,
    reason: str,
    message: str,
    generation: int | None,
    now: str,
) -> list[dict[str, Any]]:
    """A new list with `type_` set; the others are kept as they are."""
    value = "Unknown" if status is None else ("True" if status else "False")
    previous = find(conditions, type_)
    transition = previous.get("lastTransitionTime") if previous and previous.get("status") == value else now
    updated = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": transition,
    }
    return [c for c in conditions if c.get("type") != type_] + [updated]


def find(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> Mapping[str, Any] | None:
    return next((c for c in conditions or () if c.get("type") == type_), None)


def is_ready(status: Mapping[str, Any] | None) -> bool:
    """Whether a resource's status says Ready=True."""
    ready = find((status or {}).get("conditions"), "Ready")
    return ready is not None and ready.get("status") == "True"
