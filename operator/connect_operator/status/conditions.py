"""Set a condition the kstatus way: lastTransitionTime moves only when the status flips."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


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
    previous = next((c for c in conditions if c.get("type") == type_), None)
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
