"""The pure planner: desired connectors + one observed snapshot + memory → ordered actions per connector.

Level-based: every call recomputes from the whole state, so running it again after a crash, a
missed event or a partial execution converges on the same place.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from connect_operator.api.v1alpha1.connector import AutoRestartPolicy
from connect_operator.engine import actions as act
from connect_operator.engine.desired import DesiredConnector, TargetState
from connect_operator.engine.memory import ConnectorMemory, EngineMemory
from connect_operator.engine.observed import ObservedConnector

# adopt: like ignore for connectors nobody declares; a Connector naming one takes it over.
UnmanagedPolicy = Literal["ignore", "report", "delete", "adopt"]
TAKEOVER_REFUSED = (
    "a connector of this name exists in Connect and was not created through a Connector; to take it over, "
    "set spec.unmanagedConnectors: adopt on the KafkaConnect (or delete it in Connect)"
)
_SETTLED_STATES = {"RUNNING", "PAUSED", "STOPPED"}


@dataclass(frozen=True)
class PlannerSettings:
    unmanaged: UnmanagedPolicy = "ignore"
    # A write shows in GET /connectors only after the workers have read the config topic:
    # within this window an unchanged snapshot means "not seen yet", not "lost".
    settle_seconds: float = 20.0
    # A config Connect rejected is validated again after this long (a plugin may have been added).
    revalidate_seconds: float = 300.0
    # Kubelets refresh mounted Secret files a while after a Secret changes; a restart any sooner
    # would resolve the old value again.
    secret_propagation_seconds: float = 0.0


@dataclass(frozen=True)
class ConnectorPlan:
    name: str
    actions: tuple[act.Action, ...] = ()
    drift: tuple[str, ...] = ()
    waiting: str = ""
    blocked: tuple[str, ...] = ()
    unmanaged: bool = False
    in_sync_hash: str | None = None
    cached_invalid: Mapping[str, tuple[str, ...]] | None = None
    auto_restart_exhausted: bool = False
    healthy: bool = False
    reset_after_seconds: float | None = None
    # The Secrets digest to remember as resolved without a restart, or the newer one now waiting.
    secrets_record: str | None = None
    secrets_pending: str | None = None
    # Steps of an earlier sync are still running for it: nothing new is planned and nothing remembered
    # until their outcome is in, so no two syncs ever act on one connector at once.
    in_flight: bool = False


@dataclass(frozen=True)
class InFlightStep:
    """Where a connector's unfinished steps are: the step under way (None: waiting for a slot), since when."""

    step: act.Action | None
    since: float


@dataclass(frozen=True)
class Plan:
    connectors: Mapping[str, ConnectorPlan] = field(default_factory=dict)

    @property
    def action_count(self) -> int:
        return sum(len(p.actions) for p in self.connectors.values())


def plan(
    desired: Mapping[str, DesiredConnector],
    observed: Mapping[str, ObservedConnector],
    memory: EngineMemory,
    settings: PlannerSettings,
    now: float,
    removed: frozenset[str] = frozenset(),
    protected: frozenset[str] = frozenset(),
    in_flight: Mapping[str, InFlightStep] | None = None,
) -> Plan:
    """`removed`: declared connectors being deleted. `protected`: declared but not syncable now (an invalid
    resource): left alone, never taken for unmanaged. `in_flight`: connectors whose steps from an earlier
    sync are still running: held (see `hold`), whatever else is true of them."""
    plans: dict[str, ConnectorPlan] = {}
    for name, want in desired.items():
        plans[name] = _plan_connector(want, observed.get(name), memory.get(name, ConnectorMemory()), settings, now)
    for name in sorted(removed - desired.keys()):
        if name in observed:
            plans[name] = ConnectorPlan(name, actions=(act.Delete("removed"),))
    for name in sorted(observed.keys() - desired.keys() - removed - protected):
        if settings.unmanaged == "delete":
            plans[name] = ConnectorPlan(name, actions=(act.Delete("unmanaged"),), unmanaged=True)
        elif settings.unmanaged == "report":
            plans[name] = ConnectorPlan(name, unmanaged=True)
    return hold(Plan(plans), in_flight or {}, now)


def hold(the_plan: Plan, in_flight: Mapping[str, InFlightStep], now: float) -> Plan:
    """`the_plan` with each in-flight connector waiting on its running steps instead of planning any."""
    if not in_flight:
        return the_plan
    plans = dict(the_plan.connectors)
    for name, where in in_flight.items():
        before = plans.get(name)
        plans[name] = ConnectorPlan(
            name, waiting=_in_flight_text(where, now), unmanaged=before.unmanaged if before else False, in_flight=True
        )
    return replace(the_plan, connectors=plans)


def _in_flight_text(where: InFlightStep, now: float) -> str:
    # Since when, not for how long: a text that ticks would change the status at every sync, and a sync
    # loop follows up every 0.5 s while connectors settle (200 held connectors: hundreds of writes a second).
    del now
    since = datetime.datetime.fromtimestamp(where.since, datetime.UTC).strftime("%H:%M:%S UTC")
    if where.step is None:
        return f"queued behind slower connectors since {since}"
    return f"still running {act.describe(where.step)} since {since}"


def _plan_connector(
    want: DesiredConnector, seen: ObservedConnector | None, mem: ConnectorMemory, settings: PlannerSettings, now: float
) -> ConnectorPlan:
    target = want.full_config
    if seen is not None and not want.adoptable and mem.applied_hash is None:
        return ConnectorPlan(want.name, blocked=(TAKEOVER_REFUSED,))
    digest = want.config_hash
    recently_written = mem.applied_hash == digest and _within(mem.applied_at, settings.settle_seconds, now)
    known_invalid = (
        mem.invalid_hash == digest
        and mem.validated_at is not None
        and now - mem.validated_at < settings.revalidate_seconds
    )

    if seen is None or seen.config is None:
        if recently_written:
            return ConnectorPlan(want.name, waiting="the new connector is not listed by Connect yet")
        if known_invalid:
            return ConnectorPlan(want.name, cached_invalid=mem.invalid_errors)
        create = act.Create(
            target,
            digest,
            want.state,
            restart_id=want.restart.id if want.restart else None,
            task_restart_ids=tuple(r.id for r in want.task_restarts),
            secrets_version=want.secrets_version,
        )
        return ConnectorPlan(want.name, actions=(act.Validate(want.class_name, target, digest), create))

    steps: list[act.Action] = []
    drift: tuple[str, ...] = ()
    in_sync: str | None = None
    waiting = ""
    if dict(seen.config) == target:
        in_sync = digest
    elif recently_written:
        waiting = "the new config is not listed by Connect yet"
    elif mem.applied_hash == digest:
        # We wrote exactly this spec before and it has changed since: someone edited it through REST.
        drift = tuple(sorted(k for k in target.keys() | seen.config.keys() if target.get(k) != seen.config.get(k)))
        steps.append(act.Update(target, digest, drift))
    elif known_invalid:
        return ConnectorPlan(want.name, cached_invalid=mem.invalid_errors)
    else:
        steps += [act.Validate(want.class_name, target, digest), act.Update(target, digest)]

    blocked: list[str] = []
    state_step = _state_step(want.state, seen.state, mem, settings, now)
    if state_step:
        steps.append(state_step)
    steps += _requested_restarts(want, seen, mem, blocked)
    offsets_step = _offsets_step(want, seen, mem, blocked)
    if offsets_step:
        steps.append(offsets_step)
    secrets_step, record, pending = _secrets_step(want, seen, mem, settings, now)
    if secrets_step:
        steps.append(secrets_step)
    auto, exhausted = _auto_restart(want, seen, mem, now)
    if auto and not any(isinstance(s, act.Restart) for s in steps):
        steps.append(auto)
    return ConnectorPlan(
        want.name,
        actions=tuple(steps),
        drift=drift,
        waiting=waiting,
        blocked=tuple(blocked),
        in_sync_hash=in_sync,
        auto_restart_exhausted=exhausted,
        healthy=seen.is_healthy_running,
        reset_after_seconds=want.auto_restart.reset_after_seconds,
        secrets_record=record,
        secrets_pending=pending,
    )


def _state_step(
    want: TargetState, state: str | None, mem: ConnectorMemory, settings: PlannerSettings, now: float
) -> act.ChangeState | None:
    if state is None or state in {want, "RESTARTING"}:
        return None
    if want == "RUNNING" and state not in {"PAUSED", "STOPPED"}:
        return None  # FAILED and UNASSIGNED are for auto-restart and the group to mend, not resume
    already_asked = mem.state_command == want
    if already_asked and (state not in _SETTLED_STATES or _within(mem.state_command_at, settings.settle_seconds, now)):
        # FAILED or UNASSIGNED keep showing after the target state is recorded; don't repeat it.
        return None
    return act.ChangeState(want)


def _requested_restarts(
    want: DesiredConnector, seen: ObservedConnector, mem: ConnectorMemory, blocked: list[str]
) -> list[act.Action]:
    steps: list[act.Action] = []
    if want.restart and want.restart.id != mem.handled_restart_id:
        steps.append(act.Restart(want.restart.include_tasks, want.restart.only_failed, want.restart.id))
    task_ids = {t.id for t in seen.tasks}
    for request in want.task_restarts:
        if request.id in mem.handled_task_restart_ids:
            continue
        if request.task in task_ids:
            steps.append(act.RestartTask(request.task, request.id))
        else:
            blocked.append(f"task restart {request.id}: no task {request.task} (tasks: {sorted(task_ids)})")
    return steps


def _offsets_step(
    want: DesiredConnector, seen: ObservedConnector, mem: ConnectorMemory, blocked: list[str]
) -> act.Offsets | None:
    request = want.offsets
    if request is None or request.id == mem.handled_offsets_id:
        return None
    if request.action != "list" and seen.state != "STOPPED":
        blocked.append(f"offsets {request.action} {request.id} waits for state: stopped (now {seen.state})")
        return None
    return act.Offsets(request.action, request.id, tuple(request.offsets))


def _secrets_step(
    want: DesiredConnector, seen: ObservedConnector, mem: ConnectorMemory, settings: PlannerSettings, now: float
) -> tuple[act.Restart | None, str | None, str | None]:
    """(restart, digest to record without restarting, digest now waiting for the kubelets).

    The restart records its digest only once Connect has done it, so a failed one is tried again; it is
    not folded into another restart in the same plan, which may run before the files are current."""
    version = want.secrets_version
    if version is None or version == mem.secrets_version:
        return None, None, None
    if mem.secrets_version is None:
        return None, version, None  # first sight: these are the values it started with
    pending_since = mem.secrets_pending_since if mem.secrets_pending == version else None
    since = now if pending_since is None else pending_since
    if now - since < settings.secret_propagation_seconds:
        return None, None, version
    if seen.state == "STOPPED":
        return None, version, None  # resuming starts it afresh, from files that are current by now
    return act.Restart(include_tasks=True, only_failed=False, secrets_version=version), None, None


def next_restart_delay(policy: AutoRestartPolicy, count: int) -> float:
    """Seconds after restart number `count` before the next may run: 0, base, 2·base, … up to the cap."""
    return 0.0 if count == 0 else min(policy.backoff_seconds * 2 ** (count - 1), policy.max_backoff_seconds)


def _auto_restart(
    want: DesiredConnector, seen: ObservedConnector, mem: ConnectorMemory, now: float
) -> tuple[act.Restart | None, bool]:
    policy = want.auto_restart
    if not policy.enabled or want.state != "RUNNING" or not seen.is_failed:
        return None, False
    if policy.max_restarts is not None and mem.restart_count >= policy.max_restarts:
        return None, True
    if mem.last_restart_at is not None and now < mem.last_restart_at + next_restart_delay(policy, mem.restart_count):
        return None, False
    return act.Restart(include_tasks=True, only_failed=True), False


def _within(at: float | None, window: float, now: float) -> bool:
    return at is not None and now - at < window
