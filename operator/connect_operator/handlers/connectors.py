"""Connectors: one sync loop per KafkaConnect (a kopf daemon) runs the engine for all its Connectors.

Connector events only wake their cluster's loop; they make no REST call of their own. Deletion is
held by a finalizer until the loop has deleted the connector from Connect (or the cluster is gone).
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from connect_operator import metrics
from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.connect.client import ConnectClient
from connect_operator.connect.errors import ConnectError
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector, from_connector, keyed_digest, secret_refs
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.planner import PlannerSettings
from connect_operator.handlers.kafkaconnect import rest_url
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_operator.status import connector as connector_status
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
    now = _now()
    listed = await asyncio.to_thread(_connectors_of, api, ref)
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in body.status.get("conditions", []))
    if not ready:
        for obj in listed:
            await _write_status(
                api,
                obj,
                connector_status.not_synced(
                    obj.get("status") or {},
                    "ClusterNotReady",
                    f"KafkaConnect {ref.name} is not Ready",
                    _generation(obj),
                    now,
                ),
            )
        return
    cluster_spec = KafkaConnectSpec.model_validate(dict(body.spec))
    by_name = {obj["metadata"]["name"]: obj for obj in listed}
    declared = await _declared(api, ref, cluster_spec, by_name)
    loops.referenced[f"{ref.namespace}/{ref.name}"] = declared.referenced
    for name, problem in declared.problems.items():
        metrics.forget(ref.namespace, ref.name, name)
        obj = by_name[name]
        await _write_status(
            api, obj, connector_status.not_synced(obj.get("status") or {}, *problem, _generation(obj), now)
        )
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
            await _write_status(
                api,
                by_name[name],
                connector_status.not_synced(
                    by_name[name].get("status") or {},
                    "ConnectUnreachable",
                    f"{url}: {exc}",
                    _generation(by_name[name]),
                    now,
                ),
            )
        return
    metrics.record_sync(ref.namespace, ref.name, report.seconds, report.results, removed - report.observed.keys())
    for name in removed:
        gone = report.results.get(name)
        if name not in report.observed or (gone is not None and gone.deleted):
            loops.deleted.setdefault(f"{ref.namespace}/{ref.name}", set()).add(name)
    for name, result in report.results.items():
        if name not in by_name or name in removed:
            continue
        obj = by_name[name]
        mem = report.memory.get(name, ConnectorMemory())
        status = connector_status.from_result(obj.get("status") or {}, result, mem, _generation(obj), now)
        await _write_status(api, obj, status)
        if result.drift:
            await asyncio.to_thread(
                _event,
                api,
                obj,
                "Warning",
                "DriftReverted",
                f"Config changed in Connect behind the operator's back was reverted: {', '.join(result.drift)}",
            )
        elif result.actions:
            await asyncio.to_thread(_event, api, obj, "Normal", "Synced", f"Did {', '.join(result.actions)}")


@dataclass
class _Declared:
    desired: dict[str, DesiredConnector] = field(default_factory=dict)
    memory: dict[str, ConnectorMemory] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    # Connectors that cannot be synced now, with (reason, message) for their status.
    problems: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Secrets the valid Connectors reference: a change to one of them wakes the loop.
    referenced: set[str] = field(default_factory=set)


async def _declared(
    api: client.ApiClient, ref: ClusterRef, cluster_spec: KafkaConnectSpec, by_name: Mapping[str, Any]
) -> _Declared:
    found = _Declared()
    secrets = _SecretReader(api, ref.namespace)
    for name, obj in by_name.items():
        if obj["metadata"].get("deletionTimestamp"):
            found.removed.add(name)
            continue
        try:
            connector = Connector.model_validate(obj)
        except ValidationError as exc:
            message = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            found.problems[name] = ("InvalidSpec", message)
            continue
        refs = secret_refs(connector)
        found.referenced.update(secret for secret, _ in refs)
        hidden = sorted({secret for secret, _ in refs} - set(cluster_spec.exposed_secrets))
        if hidden:
            found.problems[name] = (
                "SecretNotExposed",
                f"Secrets {', '.join(hidden)} are not in KafkaConnect {ref.name}'s spec.exposedSecrets; add them there",
            )
            continue
        digests, problem = await secrets.digests(refs)
        if problem:
            found.problems[name] = problem
            continue
        found.desired[name] = from_connector(
            connector, default_auto_restart=cluster_spec.auto_restart, secret_values=digests
        )
        found.memory[name] = ConnectorMemory.from_json((obj.get("status") or {}).get("sync") or {})
    return found


class _SecretReader:
    """Referenced Secrets for one sync, each read once. Values are reduced to keyed digests at once."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self._api, self._namespace = api, namespace
        self._read: dict[str, dict[str, bytes] | str] = {}

    async def digests(
        self, refs: frozenset[tuple[str, str]]
    ) -> tuple[dict[tuple[str, str], bytes], tuple[str, str] | None]:
        """(digest per reference, or a problem (reason, message) naming Secret and key, never a value)."""
        digests: dict[tuple[str, str], bytes] = {}
        for secret, key in sorted(refs):
            if secret not in self._read:
                self._read[secret] = await asyncio.to_thread(self._get, secret)
            data = self._read[secret]
            if isinstance(data, str):
                reason = "SecretMissing" if data == "not found" else "SecretUnreadable"
                return {}, (reason, f"Secret {secret}: {data}; create it, or fix the secretKeyRef")
            if key not in data:
                return {}, ("SecretMissing", f"Secret {secret} has no key {key}; add it, or fix the secretKeyRef")
            digests[(secret, key)] = data[key]
        return digests, None

    def _get(self, name: str) -> dict[str, bytes] | str:
        try:
            secret = client.CoreV1Api(self._api).read_namespaced_secret(name, self._namespace)
        except ApiException as exc:
            return "not found" if exc.status == 404 else f"cannot be read ({exc.status} {exc.reason})"
        uid = str(secret.metadata.uid) if secret.metadata else name
        return {k: keyed_digest(uid, base64.b64decode(v)) for k, v in (secret.data or {}).items()}


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


def _event(api: client.ApiClient, obj: Mapping[str, Any], type_: str, reason: str, message: str) -> None:
    meta = obj["metadata"]
    event = client.CoreV1Event(
        metadata=client.V1ObjectMeta(generate_name=f"{meta['name']}.", namespace=meta["namespace"]),
        involved_object=client.V1ObjectReference(
            api_version=f"{GROUP}/{VERSION}",
            kind="Connector",
            name=meta["name"],
            namespace=meta["namespace"],
            uid=meta["uid"],
        ),
        type=type_,
        reason=reason,
        message=message[:1000],
        source=client.V1EventSource(component="kco-operator"),
        first_timestamp=datetime.datetime.now(datetime.UTC),
        last_timestamp=datetime.datetime.now(datetime.UTC),
        count=1,
    )
    try:
        client.CoreV1Api(api).create_namespaced_event(meta["namespace"], event)
    except ApiException:
        log.warning("Could not post the %s Event for %s/%s", reason, meta["namespace"], meta["name"])


def _generation(obj: Mapping[str, Any]) -> int | None:
    value = obj["metadata"].get("generation")
    return int(value) if value is not None else None


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
