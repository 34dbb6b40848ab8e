"""When a cluster's sync loop runs next: soon while its connectors are settling, else at the status interval.

A sync that creates or updates connectors sees them RUNNING only in a later read; without a follow-up that
later read is the next periodic sync, up to `status_interval_seconds` away, and `Ready` waits for it.
While connectors are settling the loop looks again after `FIRST_FOLLOW_UP_SECONDS`, until their count
has not changed for `PATIENCE_SECONDS`: a connector that never settles (one whose task is never assigned)
costs a minute of extra syncs at most, then only the periodic ones.
"""

from __future__ import annotations

from collections.abc import Iterable

from connect_operator.engine.results import ConnectorResult

FIRST_FOLLOW_UP_SECONDS = 0.5
# Connect moves in steps (a rebalance takes some 3 s on the local broker, far more on a loaded group): a
# count that has not changed for this long is stuck, not settling, and left to the periodic sync.
PATIENCE_SECONDS = 30.0
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


def next_follow_up(now: int, quiet_for: float, interval: float) -> float | None:
    """Seconds until a follow-up sync, or None for none (the next periodic one). `now`: connectors unsettled
    after this sync; `quiet_for`: seconds since that count last changed (0 if this sync changed it)."""
    if now == 0 or quiet_for >= PATIENCE_SECONDS:
        return None
    return min(FIRST_FOLLOW_UP_SECONDS, interval)
