"""Reads and status writes of the operator's own resources (Connectors and KafkaConnects)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.status.patch import merge_patch

log = logging.getLogger(__name__)
CONNECTORS, KAFKACONNECTS = "connectors", "kafkaconnects"


# Objects per LIST page: a KafkaConnect's deletion reads its Connectors fresh from a namespace that may hold
# thousands (the sync loops read kopf's index instead: `handlers.connectorview`).
LIST_PAGE = 100


def connectors_of(api: client.ApiClient, namespace: str, cluster: str, page: int = LIST_PAGE) -> list[dict[str, Any]]:
    """The Connectors bound to a cluster: by spec.cluster, and those still placed in it (moving away).
    Read a page at a time, each kept only if it is this cluster's and without its managedFields (half
    of an object's JSON, never read here), so no more than a page of the namespace is in memory at once."""
    custom = client.CustomObjectsApi(api)
    found: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        try:
            listed: dict[str, Any] = custom.list_namespaced_custom_object(  # type: ignore[assignment]
                GROUP, VERSION, namespace, CONNECTORS, limit=page, _continue=token
            )
        except ApiException as exc:
            if exc.status != 410 or token is None:
                raise
            # The continue token outlived etcd's compaction: the list starts again, whole and consistent.
            found, token = [], None
            continue
        for obj in listed["items"]:
            if (obj.get("spec") or {}).get("cluster") == cluster or (obj.get("status") or {}).get("cluster") == cluster:
                obj.get("metadata", {}).pop("managedFields", None)
                found.append(obj)
        token = (listed.get("metadata") or {}).get("continue") or None
        if token is None:
            return found


def kafkaconnect(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        found: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, namespace, KAFKACONNECTS, name
        )
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return found


def annotate(api: client.ApiClient, plural: str, obj: Mapping[str, Any], key: str, value: str) -> dict[str, Any] | None:
    """Set one annotation on the object (a merge patch of just that key); the object as written, or None
    when the write failed (logged, not raised)."""
    meta = obj["metadata"]
    try:
        written: dict[str, Any] = client.CustomObjectsApi(api).patch_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, meta["namespace"], plural, meta["name"], {"metadata": {"annotations": {key: value}}}
        )
    except ApiException as exc:
        if exc.status != 404:
            log.warning("Could not annotate %s %s/%s: %s", plural, meta["namespace"], meta["name"], exc.reason)
        return None
    return written


def write_status(
    api: client.ApiClient, plural: str, obj: Mapping[str, Any], status: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Patch just what changed; the object as written, or None when nothing changed or the write failed
    (logged and left to the next pass, never stopping the others)."""
    changes = merge_patch(obj.get("status") or {}, dict(status))
    if not changes:
        return None
    meta = obj["metadata"]
    try:
        written: dict[str, Any] = client.CustomObjectsApi(api).patch_namespaced_custom_object_status(  # type: ignore[assignment]
            GROUP, VERSION, meta["namespace"], plural, meta["name"], {"status": changes}
        )
    except ApiException as exc:
        if exc.status != 404:
            log.warning(
                "Could not write the status of %s %s/%s: %s", plural, meta["namespace"], meta["name"], exc.reason
            )
        return None
    return written


def update_status(
    api: client.ApiClient,
    plural: str,
    namespace: str,
    name: str,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    attempts: int = 5,
) -> None:
    """Read, change and write the status, conditional on the resourceVersion read: for fields that several
    writers add to at once (a list of names), where a plain patch of a stale read would drop another's."""
    custom = client.CustomObjectsApi(api)
    for _ in range(attempts):
        try:
            current: dict[str, Any] = custom.get_namespaced_custom_object(  # type: ignore[assignment]
                GROUP, VERSION, namespace, plural, name
            )
            status = current.get("status") or {}
            changes = merge_patch(status, change(dict(status)))
            if not changes:
                return
            body = {"metadata": {"resourceVersion": current["metadata"]["resourceVersion"]}, "status": changes}
            custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, body)
            return
        except ApiException as exc:
            if exc.status == 404:
                return
            if exc.status != 409:
                log.warning("Could not write the status of %s %s/%s: %s", plural, namespace, name, exc.reason)
                return
    log.warning("Could not write the status of %s %s/%s: %d conflicting writes", plural, namespace, name, attempts)
