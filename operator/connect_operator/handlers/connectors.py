"""Connectors: one sync loop per KafkaConnect (a kopf daemon) runs the engine for all its Connectors.

Connector events only wake their cluster's loop; they make no REST call of their own. The loops read
their Connectors from kopf's index of them (`connectorview`), not from a LIST per sync. Deletion is
held by a finalizer until the loop has deleted the connector from Connect, for at most
`settings.delete_grace_seconds` while the cluster cannot be reached: then the Connector is released,
the connector is recorded as a leftover on its KafkaConnect and deleted by the next sync that gets
through. A KafkaConnect's own deletion first deletes every connector its Connectors declare.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Iterable
from typing import Any

import kopf
from kubernetes import client

from connect_operator import metrics
from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.connect.client import ConnectClient, RetryPolicy, Timeouts
from connect_operator.connect.errors import ConnectError, ConnectNotFound
from connect_operator.handlers import connectorview, events
from connect_operator.handlers.connector_sync import ClusterSession, sync_once, write_problem
from connect_operator.handlers.kafkaconnect import RestEndpoint, rest_endpoint
from connect_operator.handlers.loops import Loops
from connect_operator.kube import resources
from connect_operator.policy import connectors as policy
from connect_operator.policy import pacing
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_operator.status.conditions import rfc3339

log = logging.getLogger(__name__)


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings, api: client.ApiClient) -> None:
    loops = Loops()
    view = connectorview.ConnectorView()

    @kopf.index(GROUP, VERSION, "connectors", registry=registry, id=connectorview.CONNECTORS_BY_CLUSTER)
    def connectors_by_cluster(body: kopf.Body, **_: Any) -> dict[connectorview.Key, dict[str, Any]]:
        # One stripped copy per Connector, shared by the keys of both clusters during a move.
        obj = connectorview.stripped(body)
        return dict.fromkeys(connectorview.index_keys(obj), obj)

    @kopf.on.resume(GROUP, VERSION, "connectors", registry=registry)
    @kopf.on.create(GROUP, VERSION, "connectors", registry=registry)
    @kopf.on.update(GROUP, VERSION, "connectors", registry=registry, field="spec")
    async def connector_changed(
        body: kopf.Body, spec: kopf.Spec, status: kopf.Status, namespace: str | None, **_: Any
    ) -> None:
        namespace, cluster = namespace or "", str(spec.get("cluster", ""))
        if placed := status.get("cluster"):
            loops.wake(namespace, str(placed))  # a move: the old cluster lets go first
        if await asyncio.to_thread(resources.kafkaconnect, api, namespace, cluster) is None:
            # No loop will ever list it: say so here, within one event.
            await write_problem(api, body, policy.cluster_missing(cluster, namespace), _now())
            return
        loops.wake(namespace, cluster)

    @kopf.on.delete(GROUP, VERSION, "connectors", registry=registry)
    async def connector_deleted(body: kopf.Body, spec: kopf.Spec, namespace: str | None, **_: Any) -> None:
        namespace, cluster = namespace or "", str(spec.get("cluster", ""))
        name = policy.connect_name(body)
        key = f"{namespace}/{cluster}"
        if loops.take_deleted(key, name) or not await _cluster_keeps_its_connectors(api, namespace, cluster):
            view.forget(body)
            return
        # Awaited here rather than retried: retries of 200 Connectors deleted at once would each read the
        # KafkaConnect and patch kopf's progress, and starve the one sync loop that does the deleting.
        if await loops.wait_deleted(key, name, within=settings.delete_grace_seconds - _age(body)):
            view.forget(body)
            return
        if not await _cluster_keeps_its_connectors(api, namespace, cluster):
            view.forget(body)
            return  # deleted meanwhile: its own deletion deletes its connectors
        await asyncio.to_thread(_record_leftover, api, namespace, cluster, name)
        view.forget(body)
        events.warning(
            body,
            "ConnectorLeftInConnect",
            f"KafkaConnect {cluster} could not delete connector {name} within "
            f"{settings.delete_grace_seconds:.0f} s; "
            "released, and recorded in the KafkaConnect's status.leftoverConnectors: the next sync that reaches "
            "Connect deletes it",
        )

    # No watch of Secrets: it would list and stream every Secret of the watched namespaces (their data too)
    # to keep the few that Connectors reference. Each sync reads those by name instead, so a changed one
    # is seen within `status_interval_seconds`, well inside the `secret_propagation_seconds` a restart waits.

    @kopf.daemon(GROUP, VERSION, "kafkaconnects", registry=registry, cancellation_timeout=10)
    async def sync_connectors(
        body: kopf.Body,
        name: str,
        namespace: str | None,
        stopped: kopf.DaemonStopped,
        **kwargs: Any,
    ) -> None:
        key = (namespace or "", name)
        index: kopf.Index[connectorview.Key, dict[str, Any]] = kwargs[connectorview.CONNECTORS_BY_CLUSTER]

        def indexed() -> Iterable[dict[str, Any]]:
            return index.get(key, ())

        waker = loops.wakers.setdefault(f"{namespace}/{name}", asyncio.Event())
        session = ClusterSession(settings.connector_deadline_seconds, waker.set, key, indexed, view)
        await _sync_loop(body, f"{namespace}/{name}", api, settings, loops, session, stopped)

    @kopf.on.delete(GROUP, VERSION, "kafkaconnects", registry=registry)
    async def kafkaconnect_deleted(body: kopf.Body, **_: Any) -> None:
        await _delete_cluster_connectors(body, api, settings)


async def _sync_loop(
    body: kopf.Body,
    key: str,
    api: client.ApiClient,
    settings: OperatorSettings,
    loops: Loops,
    session: ClusterSession,
    stopped: kopf.DaemonStopped,
) -> None:
    """Sync, then wait for a wake (and the rest of its burst), a follow-up while settling, or the interval."""
    namespace, name = key.split("/", 1)
    waker = loops.wakers.setdefault(key, asyncio.Event())
    clock = asyncio.get_running_loop().time
    unsettled, changed_at = 0, clock()
    try:
        while not stopped:
            before, unsettled = unsettled, 0
            try:
                unsettled = await sync_once(body, api, settings, loops, session)
            except Exception:  # keep the loop alive; the next pass retries from scratch
                log.exception("Connector sync of %s failed", key)
            if unsettled != before:
                changed_at = clock()
            follow_up = pacing.next_follow_up(unsettled, clock() - changed_at, settings.status_interval_seconds)
            try:
                await asyncio.wait_for(waker.wait(), timeout=follow_up or settings.status_interval_seconds)
                await _burst(waker, settings.sync_quiet_seconds, settings.sync_burst_seconds)
            except TimeoutError:
                pass
            waker.clear()
    finally:
        await session.close()
        metrics.forget_cluster(namespace, name)
        loops.wakers.pop(key, None)


async def _burst(waker: asyncio.Event, quiet: float, longest: float) -> None:
    """Woken: wait until the wakes pause for `quiet` seconds, at most `longest` in all, so a burst of edits
    (an `apply` of many Connectors) lands in one sync while a lone edit waits only `quiet`."""
    deadline = asyncio.get_running_loop().time() + longest
    while (left := deadline - asyncio.get_running_loop().time()) > 0:
        waker.clear()
        try:
            await asyncio.wait_for(waker.wait(), timeout=min(quiet, left))
        except TimeoutError:
            return


async def _delete_cluster_connectors(body: kopf.Body, api: client.ApiClient, settings: OperatorSettings) -> None:
    """Delete from Connect every connector this cluster's Connectors declare (and its leftovers), so a
    KafkaConnect created later with the same name brings none of them back; then mark the Connectors."""
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    declared = [
        o
        for o in await asyncio.to_thread(resources.connectors_of, api, ref.namespace, ref.name)
        if (o.get("spec") or {}).get("cluster") == ref.name
    ]
    names = sorted({policy.connect_name(o) for o in declared} | set(body.status.get("leftoverConnectors") or ()))
    left = await _delete_all(await asyncio.to_thread(rest_endpoint, ref, settings, api, body.spec), names)
    if left and _age(body) < settings.delete_grace_seconds:
        raise kopf.TemporaryError(f"could not delete {', '.join(left)} from Connect yet", delay=5)
    if left:
        events.warning(
            body,
            "ConnectorsLeftInConnect",
            f"Connect was unreachable for {settings.delete_grace_seconds:.0f} s; left in its config topic: "
            f"{', '.join(left)}",
        )
    gone = policy.cluster_gone(ref.name)
    for obj in declared:
        if not obj["metadata"].get("deletionTimestamp"):
            await write_problem(api, obj, gone, _now())


async def _delete_all(endpoint: RestEndpoint, names: list[str]) -> list[str]:
    """The names that could not be deleted (Connect unreachable, or refusing)."""
    if not names:
        return []
    left = []
    try:
        timeouts, retry = Timeouts(connect=2, read=10), RetryPolicy(attempts=2)
        async with ConnectClient(endpoint.url, timeouts=timeouts, retry=retry, tls=endpoint.tls) as rest:
            for name in names:
                try:
                    with contextlib.suppress(ConnectNotFound):
                        await rest.delete(name)
                except ConnectError as exc:
                    log.warning("Could not delete connector %s: %s", name, exc)
                    left.append(name)
    except ConnectError:
        return names
    return left


async def _cluster_keeps_its_connectors(api: client.ApiClient, namespace: str, cluster: str) -> bool:
    """False with no such KafkaConnect, or one being deleted (which deletes its connectors itself)."""
    owner = await asyncio.to_thread(resources.kafkaconnect, api, namespace, cluster)
    return owner is not None and not owner["metadata"].get("deletionTimestamp")


def _record_leftover(api: client.ApiClient, namespace: str, cluster: str, name: str) -> None:
    def add(status: dict[str, Any]) -> dict[str, Any]:
        return {**status, "leftoverConnectors": sorted({*(status.get("leftoverConnectors") or ()), name})}

    resources.update_status(api, resources.KAFKACONNECTS, namespace, cluster, add)


def _age(body: kopf.Body) -> float:
    """Seconds since the object was marked for deletion."""
    stamp = body.meta.get("deletionTimestamp")
    if not stamp:
        return 0.0
    marked = datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    return (datetime.datetime.now(datetime.UTC) - marked).total_seconds()


def _now() -> str:
    return rfc3339(datetime.datetime.now(datetime.UTC).timestamp())
