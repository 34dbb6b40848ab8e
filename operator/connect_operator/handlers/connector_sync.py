"""One sync of a cluster's Connectors: read them (the watch's copy), screen, read Secrets, one engine sync,
statuses and Events."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

import kopf
from kubernetes import client

from connect_operator import metrics
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.connect.client import ConnectClient
from connect_operator.connect.errors import ConnectError
from connect_operator.connect.models import parse_version
from connect_operator.engine import syncing
from connect_operator.engine.inflight import InFlight
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.planner import PlannerSettings
from connect_operator.engine.results import ConnectorResult
from connect_operator.handlers import events, precheck
from connect_operator.handlers.connectorview import ConnectorView, Key
from connect_operator.handlers.kafkaconnect import RestEndpoint, rest_endpoint
from connect_operator.handlers.loops import Loops
from connect_operator.kafka import topics
from connect_operator.kube import resources, secrets
from connect_operator.policy import connectors as policy
from connect_operator.policy import deadletters, moves, pacing
from connect_operator.render import kafkaclient, names
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_operator.status import connector as connector_status
from connect_operator.status.conditions import find, rfc3339

log = logging.getLogger(__name__)
OFFSETS_API_SINCE = (3, 6)


class ClusterSession:
    """One loop's client of its cluster's REST API and the connectors' steps still in flight on it, and
    how it reads its Connectors.

    Held steps keep using the client they started with, so both live as long as the loop, and are
    replaced together only when the cluster's REST URL changes.
    """

    def __init__(
        self,
        deadline_seconds: float,
        wake: Callable[[], None],
        key: Key,
        indexed: Callable[[], Iterable[Mapping[str, Any]]],
        view: ConnectorView,
    ) -> None:
        self._deadline, self._wake = deadline_seconds, wake
        self._key, self._indexed, self._view = key, indexed, view
        self._rest: ConnectClient | None = None
        self._endpoint: RestEndpoint | None = None
        self.in_flight = InFlight(deadline_seconds, on_finished=wake)
        # Dead letter queue topics known to exist: checked in Kafka once per loop, not once per sync.
        self.queues_ready: set[str] = set()

    def connectors(self) -> list[Mapping[str, Any]]:
        """The Connectors bound to this cluster or still placed in it: no API call (see `connectorview`)."""
        return self._view.read(self._key, self._indexed())

    def remember(self, written: Mapping[str, Any] | None) -> None:
        """An object as one of this loop's writes returned it: newer than the watch's copy for a while."""
        self._view.record(self._key, written)

    async def client(self, endpoint: RestEndpoint) -> ConnectClient:
        # A renewed REST certificate is a new endpoint too: the old client would present the old one.
        if self._rest is not None and self._endpoint == endpoint:
            return self._rest
        await self.close()
        self.in_flight = InFlight(self._deadline, on_finished=self._wake)
        self._rest = ConnectClient(endpoint.url, stats=metrics.rest_stats(), tls=endpoint.tls)
        self._endpoint = endpoint
        return self._rest

    async def close(self) -> None:
        await self.in_flight.close()
        if self._rest is not None:
            await self._rest.close()
            self._rest = None


async def sync_once(
    body: kopf.Body, api: client.ApiClient, settings: OperatorSettings, loops: Loops, session: ClusterSession
) -> int:
    """One sync; how many of its connectors are still settling (see `policy.pacing`): the loop looks again soon."""
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    now = rfc3339(time.time())
    found = session.connectors()
    listed = [o for o in found if _bound(o, ref)]
    leaving = [o for o in found if moves.is_leaving(o, ref.name)]
    by_name = {obj["metadata"]["name"]: obj for obj in listed}
    if gate := policy.cluster_gate(ref.name, body.status):
        for obj in listed:
            session.remember(await write_problem(api, obj, gate, now))
        return 0
    cluster_spec = KafkaConnectSpec.model_validate(dict(body.spec))
    screened = policy.screen(ref.name, cluster_spec, by_name, await _arrivals_waiting(api, ref, listed))
    reads = await asyncio.to_thread(secrets.read_all, api, ref.namespace, screened.secrets_to_read)
    statuses = {n: o.get("status") or {} for n, o in by_name.items()}
    declared = policy.declare(screened, cluster_spec, reads, statuses, ref.name)
    del reads  # Secret values go no further than their digests
    for name, problem in declared.problems.items():
        metrics.forget(ref.namespace, ref.name, policy.connect_name(by_name[name]))
        session.remember(await write_problem(api, by_name[name], problem, now))
    queue_problems = await _ensure_dead_letter_queues(api, ref, cluster_spec, settings, declared, by_name, session)
    for name, problem in queue_problems.items():
        session.remember(await write_problem(api, by_name[name], problem, now))
    arrived = _start_arrivals(declared, by_name)
    leftovers = set(body.status.get("leftoverConnectors") or ()) - declared.desired.keys()
    removed = declared.removed | leftovers
    endpoint = await asyncio.to_thread(rest_endpoint, ref, settings, api, body.spec)
    version = _connect_version(body.status)  # one answer for the whole sync
    try:
        report = await syncing.sync(
            await session.client(endpoint),
            {n: d for n, d in declared.desired.items() if declared.owners[n] not in queue_problems},
            declared.memory,
            PlannerSettings(
                unmanaged=cluster_spec.unmanaged_connectors,
                secret_propagation_seconds=settings.secret_propagation_seconds,
            ),
            removed=frozenset(removed),
            protected=frozenset(
                [policy.connect_name(by_name[n]) for n in [*declared.problems, *queue_problems]]
                + [policy.connect_name(o) for o in leaving]
            ),
            in_flight=session.in_flight,
            concurrency=settings.connect_write_concurrency,
            server_version=version,
            before_creates=lambda names: _claim(api, [by_name[declared.owners[n]] for n in names], ref, session),
        )
    except ConnectError as exc:
        metrics.record_sync_failure(ref.namespace, ref.name)
        unreachable = policy.Problem("ConnectUnreachable", f"{endpoint.url}: {exc}", stalled=False)
        for connect_name in declared.desired:
            session.remember(await write_problem(api, by_name[declared.owners[connect_name]], unreachable, now))
        return 0
    metrics.record_sync(ref.namespace, ref.name, report.seconds, report.results, removed - report.observed.keys())
    for obj in leaving:
        await _leave(api, obj, ref, session, await session.client(endpoint), report.observed, loops, now, version)
    gone = policy.released(removed, report.observed.keys(), report.results)
    loops.mark_deleted(f"{ref.namespace}/{ref.name}", gone)
    await _cluster_report(api, body, cluster_spec, report.results, leftovers - gone)

    async def write(connect_name: str, result: ConnectorResult) -> None:
        owner = declared.owners.get(connect_name)
        if owner is None:
            return
        obj = by_name[owner]
        memory = report.memory.get(connect_name, ConnectorMemory())
        await _write_result(api, obj, result, memory, ref, now, session.remember)
        if owner in arrived:
            await _arrival_done(api, obj, ref, session.remember)

    await _bounded(write(n, r) for n, r in report.results.items())
    return pacing.unsettled(report.results.values()) + len(leaving)


async def _ensure_dead_letter_queues(
    api: client.ApiClient,
    ref: ClusterRef,
    cluster_spec: KafkaConnectSpec,
    settings: OperatorSettings,
    declared: policy.Declared,
    by_name: Mapping[str, Mapping[str, Any]],
    session: ClusterSession,
) -> dict[str, policy.Problem]:
    """Each declared dead letter queue topic created (cleanup.policy=delete) before Connect uses it: Connect
    would otherwise make it itself, with one partition, or fail the task. Resource name → problem."""
    owners = {connect_name: by_name[owner] for connect_name, owner in declared.owners.items()}
    needed = deadletters.wanted(owners, session.queues_ready)
    if not needed:
        return {}
    try:
        client_config = await asyncio.to_thread(precheck.kafka_client_config, api, ref.namespace, cluster_spec)
    except precheck.HeldBack as held:
        return {declared.owners[n]: policy.Problem(held.reason, held.message, stalled=False) for n in needed}
    queues = {q.topic: q for q in needed.values()}
    wanted = [
        topics.TopicWanted(q.topic, q.partitions, q.replication_factor, "dead letter queue", cleanup_policy="delete")
        for q in queues.values()
    ]
    created, found = await asyncio.to_thread(
        topics.ensure, cluster_spec.bootstrap_servers, wanted, settings.kafka_admin_timeout_seconds, client_config
    )
    failed = deadletters.failures(queues, [kafkaclient.redact(p, client_config) for p in found])
    problems = {}
    for connect_name, queue in needed.items():
        obj = owners[connect_name]
        if queue.topic in failed:
            message = deadletters.problem_message(queue.topic, failed[queue.topic])
            problems[declared.owners[connect_name]] = policy.Problem(
                "DeadLetterQueueUnavailable", message, stalled=False
            )
            continue
        if queue.topic in created:
            events.normal(obj, "DeadLetterQueueCreated", f"Created topic {queue.topic} ({queue.partitions} partitions)")
        written = await asyncio.to_thread(
            resources.write_status, api, resources.CONNECTORS, obj, {"deadLetterQueue": queue.topic}
        )
        session.remember(written)
    session.queues_ready |= set(queues) - set(failed)
    return problems


async def _arrivals_waiting(
    api: client.ApiClient, ref: ClusterRef, listed: list[Mapping[str, Any]]
) -> dict[str, policy.Problem]:
    """Connectors moved here whose old cluster has not let go yet (a deleted old cluster has let go)."""
    held: dict[str, policy.Problem] = {}
    for obj in listed:
        old = moves.placed_in(obj)
        if old is None or old == ref.name:
            continue
        exists = await asyncio.to_thread(resources.kafkaconnect, api, ref.namespace, old) is not None
        if problem := moves.arriving_problem(obj, ref.name, exists):
            held[obj["metadata"]["name"]] = problem
    return held


def _start_arrivals(declared: policy.Declared, by_name: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Connectors moved here start stopped from the old cluster's offsets; the ones whose move is complete."""
    complete: set[str] = set()
    for connect_name, want in list(declared.desired.items()):
        owner = declared.owners[connect_name]
        move = (by_name[owner].get("status") or {}).get("move")
        declared.desired[connect_name], done = moves.arriving(want, move, declared.memory[connect_name])
        if done:
            complete.add(owner)
    return complete


async def _arrival_done(
    api: client.ApiClient, obj: Mapping[str, Any], ref: ClusterRef, remember: Callable[[Mapping[str, Any] | None], None]
) -> None:
    # A patch from the status as read: it carries just `move: null`, whatever this sync wrote since.
    status = obj.get("status") or {}
    remember(await asyncio.to_thread(resources.write_status, api, resources.CONNECTORS, obj, {**status, "move": None}))
    moved_from = (status.get("move") or {}).get("from")
    events.normal(obj, "MovedIn", f"Runs in KafkaConnect {ref.name} now, moved from {moved_from}")


async def _leave(
    api: client.ApiClient,
    obj: Mapping[str, Any],
    ref: ClusterRef,
    session: ClusterSession,
    rest: ConnectClient,
    observed: Mapping[str, Any],
    loops: Loops,
    now: str,
    version: tuple[int, ...],
) -> None:
    """The old cluster's half of a move: stop, read a source's offsets, delete, let go. Never runs twice."""
    name = policy.connect_name(obj)
    seen = observed.get(name)
    step = moves.leaving_step(seen.state if seen is not None else None)
    target = str((obj.get("spec") or {}).get("cluster", ""))
    try:
        if step == "stop":
            await rest.stop(name)
            events.normal(
                obj, "MoveStopping", f"Stopping connector {name} in KafkaConnect {ref.name} to move it to {target}"
            )
            return
        offsets: list[dict[str, Any]] = []
        if step == "read-and-delete":
            # The offsets API came with Connect 3.6 (KIP-875): older workers have no offsets to hand over.
            if seen is not None and seen.type == "source" and version >= OFFSETS_API_SINCE:
                offsets = [o.model_dump() for o in (await rest.offsets(name)).offsets]
            await rest.delete(name)
    except ConnectError as exc:
        log.warning("Moving connector %s out of %s: %s", name, ref.name, exc)
        return
    status = obj.get("status") or {}
    memory = ConnectorMemory.from_json(status.get("sync") or {}).handled_only()
    move = {"id": f"move-from-{ref.name}-{now}", "from": ref.name, "offsets": offsets}
    released = {**status, "cluster": None, "move": move, "sync": memory.to_json()}
    session.remember(await asyncio.to_thread(resources.write_status, api, resources.CONNECTORS, obj, released))
    carried = f", with {len(offsets)} source offsets" if offsets else ""
    events.normal(obj, "MovedOut", f"Stopped and deleted connector {name} in KafkaConnect {ref.name}{carried}")
    loops.wake(ref.namespace, target)


async def _claim(
    api: client.ApiClient, objects: list[Mapping[str, Any]], ref: ClusterRef, session: ClusterSession
) -> None:
    """Record, before creating them, that this cluster places these connectors: if the operator dies
    between the create and the status write, the connector found later is known as its own, not adopted."""

    async def claim(obj: Mapping[str, Any]) -> None:
        annotations = obj["metadata"].get("annotations") or {}
        record = policy.handled_record(annotations)
        if record.get("cluster") != ref.name:
            value = json.dumps({**record, "cluster": ref.name}, sort_keys=True)
            session.remember(
                await asyncio.to_thread(
                    resources.annotate, api, resources.CONNECTORS, obj, names.HANDLED_ANNOTATION, value
                )
            )

    await _bounded(claim(obj) for obj in objects)


# Kubernetes writes of one sync at once: each is its own object, so none waits on another's round trip
# (200 status writes one after the other took seconds); bounded, to stay a polite client.
KUBE_WRITES_AT_ONCE = 8


async def _bounded(writes: Iterable[Coroutine[Any, Any, None]]) -> None:
    limit = asyncio.Semaphore(KUBE_WRITES_AT_ONCE)

    async def one(write: Coroutine[Any, Any, None]) -> None:
        async with limit:
            await write

    await asyncio.gather(*(one(w) for w in writes))


def _connect_version(cluster_status: Mapping[str, Any]) -> tuple[int, ...]:
    """The workers' Connect version, as the KafkaConnect's status reports it: features newer than it (creating
    in a state, KIP-980) are not used. Unknown yet: none of them."""
    reported = cluster_status.get("connectVersion")
    return parse_version(str(reported)) if reported else ()


def _bound(obj: Mapping[str, Any], ref: ClusterRef) -> bool:
    # A Connector whose spec names another cluster is left to that cluster's loop.
    return (obj.get("spec") or {}).get("cluster") == ref.name


async def _write_result(
    api: client.ApiClient,
    obj: Mapping[str, Any],
    result: ConnectorResult,
    memory: ConnectorMemory,
    ref: ClusterRef,
    now: str,
    remember: Callable[[Mapping[str, Any] | None], None],
) -> None:
    previous = obj.get("status") or {}
    status = connector_status.from_result(
        previous, result, memory, _generation(obj), now, cluster=ref.name, connector_name=result.name
    )
    remember(await asyncio.to_thread(resources.write_status, api, resources.CONNECTORS, obj, status))
    handled = policy.handled_of(memory, status.get("cluster"))
    annotations = obj["metadata"].get("annotations") or {}
    if handled and handled != policy.handled_record(annotations):
        value = json.dumps(handled, sort_keys=True)
        remember(
            await asyncio.to_thread(resources.annotate, api, resources.CONNECTORS, obj, names.HANDLED_ANNOTATION, value)
        )
    ready = find(status["conditions"], "Ready") or {}
    reason, message = str(ready.get("reason", "")), str(ready.get("message", ""))
    failing = ready.get("status") == "False" and reason in {"Failed", "ConfigInvalid"}
    if failing and policy.is_new_problem(previous, reason, message):
        events.warning(obj, reason, message)
    if result.auto_restart_exhausted and not _was_stalled(previous, "AutoRestartsExhausted"):
        stalled = find(status["conditions"], "Stalled") or {}
        events.warning(obj, "AutoRestartsExhausted", str(stalled.get("message", "")))
    if result.drift:
        reverted = ", ".join(result.drift)
        events.warning(
            obj, "DriftReverted", f"Config changed in Connect behind the operator's back was reverted: {reverted}"
        )
    elif result.actions:
        events.normal(obj, "Synced", f"Did {', '.join(result.actions)}")


async def write_problem(
    api: client.ApiClient, obj: Mapping[str, Any], problem: policy.Problem, now: str
) -> dict[str, Any] | None:
    """Ready=False with the problem's reason; one Warning Event the first time this problem is seen. The object
    as written (None: nothing to write, or the write failed)."""
    previous = obj.get("status") or {}
    status = connector_status.not_synced(
        previous, problem.reason, problem.message, _generation(obj), now, stalled=problem.stalled
    )
    written = await asyncio.to_thread(resources.write_status, api, resources.CONNECTORS, obj, status)
    if policy.is_new_problem(previous, problem.reason, problem.message):
        events.warning(obj, problem.reason, problem.message)
    return written


async def _cluster_report(
    api: client.ApiClient,
    body: kopf.Body,
    cluster_spec: KafkaConnectSpec,
    results: Mapping[str, ConnectorResult],
    leftovers: set[str],
) -> None:
    """The KafkaConnect's own record of connectors nobody declares (report) and of leftovers still in Connect."""
    unmanaged = (
        sorted(n for n, r in results.items() if r.unmanaged) if cluster_spec.unmanaged_connectors == "report" else None
    )
    change: dict[str, Any] = {"leftoverConnectors": sorted(leftovers) or None, "unmanagedConnectors": unmanaged}
    previous = {k: body.status.get(k) for k in change}
    if change == previous:
        return
    # Delete handlers add leftovers while this sync runs: drop only the names it settled, from a fresh read.
    settled = set(previous["leftoverConnectors"] or ()) - leftovers

    def report(status: dict[str, Any]) -> dict[str, Any]:
        left = sorted(set(status.get("leftoverConnectors") or ()) - settled) or None
        return {**status, "leftoverConnectors": left, "unmanagedConnectors": unmanaged}

    meta = body.meta
    await asyncio.to_thread(
        resources.update_status, api, resources.KAFKACONNECTS, meta["namespace"], meta["name"], report
    )
    if unmanaged and unmanaged != previous["unmanagedConnectors"]:
        events.normal(
            body,
            "UnmanagedConnectors",
            f"Connectors in Connect without a Connector resource: {', '.join(unmanaged)}",
        )


def _was_stalled(previous: Mapping[str, Any], reason: str) -> bool:
    stalled = find(previous.get("conditions"), "Stalled")
    return bool(stalled and stalled.get("status") == "True" and stalled.get("reason") == reason)


def _generation(obj: Mapping[str, Any]) -> int | None:
    value = obj["metadata"].get("generation")
    return int(value) if value is not None else None
