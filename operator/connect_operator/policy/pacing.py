"""When a cluster's sync loop runs next: soon while its connectors are settling, else at the status interval.

A sync that creates or updates connectors sees them RUNNING only in a later read; without a follow-up that
later read is the next periodic sync, up to `status_interval_seconds` away, and `Ready` waits for it.
While settling, the pause doubles from `first` up to the interval, so a connector that never settles
(a task that keeps failing) costs no more than a few extra syncs.
"""

from __future__ import annotations

from collections.abc import Iterable

from connect_operator.engine.results import ConnectorResult

FIRST_FOLLOW_UP_SECONDS = 0.5
# Connect states a connector passes through on its way to the one asked for.
_ON_THE_WAY = {None, "UNASSIGNED", "RESTARTING"}


def settling(results: Iterable[ConnectorResult]) -> bool:
    """Whether a sync left something in motion: a step done, a write not yet seen, or a connector (or one
    of its tasks) not yet assigned or started."""
    for result in results:
        if result.unmanaged or result.deleted:
            continue
        if result.actions or result.waiting:
            return True
        if result.state in _ON_THE_WAY or (not result.tasks and result.state == "RUNNING"):
            return True
        if any(t.state in _ON_THE_WAY for t in result.tasks):
            return True
    return False


def next_follow_up(settling_now: bool, last: float | None, interval: float) -> float | None:
    """Seconds until a follow-up sync, or None for none (the next periodic one). `last`: the follow-up after
    the previous sync (None if there was none)."""
    if not settling_now:
        return None
    if last is None:
        return min(FIRST_FOLLOW_UP_SECONDS, interval)
    return min(interval, last * 2)
