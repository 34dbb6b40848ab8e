"""Connectors: one sync loop per KafkaConnect (a kopf daemon) runs the engine for all its Connectors.

Connector events only wake their cluster's loop; they make no REST call of their own. Deletion is
held by a finalizer until the loop has deleted the connector from Connect (or the cluster is gone).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator import metrics
from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.connect.client import ConnectClient
from connect_operator.connect.errors import ConnectError
from connect_operator.engine import syncing
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.planner import PlannerSettings
from connect_operator.handlers.kafkaconnect import rest_url
from connect_operator.kube import secrets
from connect_operator.policy import connectors as policy
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_operator.status import connector as connector_status
from connect_operator.status.conditions import rfc3339
from connect_operator.status.patch import merge_patch

log = logging.getLogger(__name__)
DEBOUNCE_SECONDS = 0.3


@dataclass
class Loops:
    """What the sync loops and the Connector handlers share (one event loop: kopf's)."""

    wakers: dict[str, asyncio.Event] = field(default_factory=dict)
    deleted: dict[str, set[str]] = field(default_factory=dict)
    # "namespace/cluster" → the Secrets its Connectors reference, so a Secret change wakes just those.
    referenced: dict[str, set[str]] = field(default_factory=dict)

    def wake(self, namespace: str, cluster: str) -> None:
        self.wakers.setdefault(f"{namespace}/{cluster}", asyncio.Event()).set()

    def clusters_using(self, namespace: str, secret: str) -> list[str]:
        prefix = f"{namespace}/"
        return [
            key.removeprefix(prefix)
            for key, used in self.referenced.items()
            if key.startswith(prefix) and secret in used
        ]


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings, api: client.ApiClient) -> None:
    loops = Loops()

    @kopf.on.resume(GROUP, VERSION, "connectors", registry=registry)
    @kopf.on.create(GROUP, VERSION, "connectors", registry=registry)
    @kopf.on.update(GROUP, VERSION, "connectors", registry=registry, field="spec")
    async def connector_changed(spec: kopf.Spec, namespace: str | None, **_: Any) -> None:
        loops.wake(namespace or "", str(spec.get("cluster", "")))

    @kopf.on.delete(GROUP, VERSION, "connectors", registry=registry)
    async def connector_deleted(body: kopf.Body, spec: kopf.Spec, name: str, namespace: str | None, **_: Any) -> None:
        namespace = namespace or ""
        cluster = str(spec.get("cluster", ""))
        key = f"{namespace}/{cluster}"
        if name in loops.deleted.get(key, set()):
            loops.deleted[key].discard(name)
            return
        if not await asyncio.to_thread(_kafkaconnect, api, namespace, cluster):
            kopf.warn(body, reason="ClusterGone", message=f"KafkaConnect {cluster} is gone; released without a delete")
            return
        loops.wake(namespace, cluster)
        raise kopf.TemporaryError("waiting for the sync loop to delete the connector from Connect", delay=1)

    def referenced(name: str, namespace: str | None, **_: Any) -> bool:
        return bool(loops.clusters_using(namespace or "", name))

    @kopf.on.event("", "v1", "secrets", registry=registry, when=referenced)
    async def secret_changed(name: str, namespace: str | None, **_: Any) -> None:
        for cluster in loops.clusters_using(namespace or "", name):
            loops.wake(namespace or "", cluster)

    @kopf.daemon(GROUP, VERSION, "kafkaconnects", registry=registry, cancellation_timeout=10)
    async def sync_connectors(
        body: kopf.Body, name: str, namespace: str | None, stopped: kopf.DaemonStopped, **_: Any
    ) -> None:
        key = f"{namespace}/{name}"
        waker = loops.wakers.setdefault(key, asyncio.Event())
        try:
            while not stopped:
                try:
                    await _sync_once(body, api, settings, loops)
                except Exception:  # keep the loop alive; the next pass retries from scratch
                    log.exception("Connector sync of %s failed", key)
                try:
                    await asyncio.wait_for(waker.wait(), timeout=settings.status_interval_seconds)
                    await asyncio.sleep(DEBOUNCE_SECONDS)  # let a burst of edits land in one sync
                except TimeoutError:
                    pass
                waker.clear()
        finally:
            metrics.forget_cluster(namespace or "", name)
            loops.referenced.pop(key, None)
            loops.wakers.pop(key, None)


async def _sync_once(body: kopf.Body, api: client.ApiClient, settings: OperatorSettings, loops: Loops) -> None:
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    now = rfc3339(time.time())
    listed = await asyncio.to_thread(_connectors_of, api, ref)
    by_name = {obj["metadata"]["name"]: obj for obj in listed}
    if gate := policy.cluster_gate(ref.name, body.status):
        for obj in listed:
            await _write_not_synced(api, obj, gate, now)
        return
    cluster_spec = KafkaConnectSpec.model_validate(dict(body.spec))
    screened = policy.screen(ref.name, cluster_spec, by_name)
    reads = await asyncio.to_thread(secrets.read_all, api, ref.namespace, screened.secrets_to_read)
    declared = policy.declare(screened, cluster_spec, reads, {n: o.get("status") or {} for n, o in by_name.items()})
    del reads  # Secret values go no further than their digests
    loops.referenced[f"{ref.namespace}/{ref.name}"] = declared.referenced
    for name, problem in declared.problems.items():
        metrics.forget(ref.namespace, ref.name, name)
        await _write_not_synced(api, by_name[name], problem, now)
    desired, memory, removed = declared.desired, declared.memory, declared.removed
    url = await asyncio.to_thread(rest_url, ref, settings, api)
    try:
        async with ConnectClient(url, stats=metrics.rest_stats()) as rest:
            report = await syncing.sync(
                rest,
                desired,
                memory,
                PlannerSettings(
                    unmanaged=cluster_spec.unmanaged_connectors,
                    secret_propagation_seconds=settings.secret_propagation_seconds,
                ),
                removed=frozenset(removed),
                protected=frozenset(declared.problems),
            )
    except ConnectError as exc:
        metrics.record_sync_failure(ref.namespace, ref.name)
        for name in desired:
            await _write_not_synced(api, by_name[name], ("ConnectUnreachable", f"{url}: {exc}"), now)
        return
    metrics.record_sync(ref.namespace, ref.name, report.seconds, report.results, removed - report.observed.keys())
    released = policy.released(removed, report.observed.keys(), report.results)
    loops.deleted.setdefault(f"{ref.namespace}/{ref.name}", set()).update(released)
    for name, result in report.results.items():
        if name not in by_name or name in removed:
            continue
        obj = by_name[name]
        mem = report.memory.get(name, ConnectorMemory())
        status = connector_status.from_result(obj.get("status") or {}, result, mem, _generation(obj), now)
        await _write_status(api, obj, status)
        if result.drift:
            kopf.warn(
                _body(obj),
                reason="DriftReverted",
                message=f"Config changed in Connect behind the operator's back was reverted: {', '.join(result.drift)}",
            )
        elif result.actions:
            kopf.info(_body(obj), reason="Synced", message=f"Did {', '.join(result.actions)}")


def _connectors_of(api: client.ApiClient, ref: ClusterRef) -> list[dict[str, Any]]:
    listed: dict[str, Any] = client.CustomObjectsApi(api).list_namespaced_custom_object(  # type: ignore[assignment]
        GROUP, VERSION, ref.namespace, "connectors"
    )
    return [obj for obj in listed["items"] if (obj.get("spec") or {}).get("cluster") == ref.name]


def _kafkaconnect(api: client.ApiClient, namespace: str, name: str) -> bool:
    try:
        client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, namespace, "kafkaconnects", name)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


async def _write_status(api: client.ApiClient, obj: Mapping[str, Any], status: dict[str, Any]) -> None:
    """Patch just what changed; a failed write is logged and left to the next sync, never stops the others."""
    changes = merge_patch(obj.get("status") or {}, status)
    if not changes:
        return
    meta = obj["metadata"]
    try:
        await asyncio.to_thread(
            client.CustomObjectsApi(api).patch_namespaced_custom_object_status,
            GROUP,
            VERSION,
            meta["namespace"],
            "connectors",
            meta["name"],
            {"status": changes},
        )
    except ApiException as exc:
        if exc.status != 404:
            log.warning(
                "Could not write the status of Connector %s/%s: %s", meta["namespace"], meta["name"], exc.reason
            )


async def _write_not_synced(api: client.ApiClient, obj: Mapping[str, Any], problem: policy.Problem, now: str) -> None:
    await _write_status(api, obj, connector_status.not_synced(obj.get("status") or {}, *problem, _generation(obj), now))


def _body(obj: Mapping[str, Any]) -> kopf.Body:
    """A listed object as kopf's body type, for its Event poster."""
    return kopf.Body(cast(kopf.RawBody, obj))


def _generation(obj: Mapping[str, Any]) -> int | None:
    value = obj["metadata"].get("generation")
    return int(value) if value is not None else None
