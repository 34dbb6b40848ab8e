"""When a cluster's sync loop runs next: soon while its connectors are settling, else at the status interval.

A sync that creates or updates connectors sees them RUNNING only in a later read; without a follow-up that
later read is the next periodic sync, up to `status_interval_seconds` away, and `Ready` waits for it.
While connectors keep settling (fewer of them unsettled than at the sync before), the loop looks again
after `FIRST_FOLLOW_UP_SECONDS`; once a sync sees no progress the pause doubles up to the interval, so a
connector that never settles (a task that keeps failing) costs no more than a few extra syncs.
"""

from __future__ import annotations

from collections.abc import Iterable

from connect_operator.engine.results import ConnectorResult

FIRST_FOLLOW_UP_SECONDS = 0.5
# Connect states a connector passes through on its way to the one asked for.
_ON_THE_WAY = {None, "UNASSIGNED", "RESTARTING"}


def unsettled(results: Iterable[ConnectorResult]) -> int:
    """How many connectors a sync left in motion: a step done, a write not yet seen, or a connector (or one
    of its tasks) not yet assigned or started."""
    return sum(1 for result in results if _in_motion(result))


def _in_motion(result: ConnectorResult) -> bool:
    if result.unmanaged or result.deleted:
        return False
    if result.actions or result.waiting:
        return True
    if result.state in _ON_THE_WAY or (not result.tasks and result.state == "RUNNING"):
        return True
    return any(t.state in _ON_THE_WAY for t in result.tasks)


def next_follow_up(now: int, before: int, last: float | None, interval: float) -> float | None:
    """Seconds until a follow-up sync, or None for none (the next periodic one). `now`, `before`: connectors
    unsettled after this sync and the one before; `last`: the follow-up after the one before (None: none)."""
    if now == 0:
        return None
    if last is None or now < before:
        return min(FIRST_FOLLOW_UP_SECONDS, interval)
    return min(interval, last * 2)
