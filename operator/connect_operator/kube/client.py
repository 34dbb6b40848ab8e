"""A Kubernetes client from settings, server-side apply under one field manager, and API discovery."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator.kube import login
from connect_operator.render.names import FIELD_MANAGER
from connect_operator.settings import OperatorSettings


def api_client(settings: OperatorSettings, on_request: Callable[[str, str], None] | None = None) -> client.ApiClient:
    """`on_request(verb, resource)`: told of every request this client sends (the operator counts them)."""
    api = client.ApiClient(login.configuration(settings))
    if on_request is not None:
        # The one place every call goes through: the generated APIs and the dynamic client alike.
        send = api.rest_client.request

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            try:
                return send(method, url, *args, **kwargs)
            finally:
                on_request(method.upper(), resource_of(url))

        api.rest_client.request = request  # type: ignore[method-assign]
    return api


def resource_of(url: str) -> str:
    """The resource (and subresource) a request's URL names: `connectors/status`, `pods`, `namespaces`."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    rest = parts[2:] if parts[:1] == ["api"] else parts[3:] if parts[:1] == ["apis"] else parts
    if rest[:1] == ["namespaces"] and len(rest) > 2:
        rest = rest[2:]
    return "/".join(rest[:1] + rest[2:3])


def apply(api: client.ApiClient, obj: dict[str, Any], *, dry_run: bool = False) -> Any:
    """Server-side apply as the operator's one field manager; it owns these objects, so conflicts are taken.

    `dry_run`: the API server validates and admits the object as it would, and stores nothing.
    """
    resource = dynamic.DynamicClient(api).resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    return resource.server_side_apply(
        body=obj,
        namespace=obj["metadata"].get("namespace"),
        field_manager=FIELD_MANAGER,
        force_conflicts=True,
        dry_run="All" if dry_run else None,
    )


def refusal_message(exc: ApiException) -> str:
    """The API server's own message from an error response (its Status body), else the HTTP reason."""
    try:
        status = json.loads(exc.body or "")
    except (TypeError, ValueError):
        return str(exc.reason)
    return str(status.get("message") or exc.reason) if isinstance(status, dict) else str(exc.reason)


def get_config_map(api: client.ApiClient, namespace: str, name: str) -> client.V1ConfigMap | None:
    try:
        return client.CoreV1Api(api).read_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def served(api: client.ApiClient, group_version: str) -> bool:
    """Whether the API server serves `group_version` (e.g. policy/v1, absent before Kubernetes 1.21)."""
    group, _, version = group_version.rpartition("/")
    try:
        resources = client.ApisApi(api).get_api_versions() if group else None
    except ApiException:
        return False
    if resources is None:
        return version == "v1"
    return any(g.name == group and any(v.version == version for v in g.versions) for g in resources.groups)


def get_deployment(api: client.ApiClient, namespace: str, name: str) -> client.V1Deployment | None:
    try:
        return client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def ready_pod_ips(api: client.ApiClient, namespace: str, label_selector: str) -> list[str]:
    """IPs of the Ready Pods matching the selector that are not terminating, in name order."""
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=label_selector).items
    ips = []
    for pod in sorted(pods, key=lambda p: str(p.metadata.name if p.metadata else "")):
        if pod.metadata and pod.metadata.deletion_timestamp:
            continue  # its worker is stopping: as the endpoints controller, send nothing there any more
        conditions = pod.status.conditions or [] if pod.status else []
        if pod.status and pod.status.pod_ip and any(c.type == "Ready" and c.status == "True" for c in conditions):
            ips.append(pod.status.pod_ip)
    return ips


def init_container_statuses(api: client.ApiClient, namespace: str, label_selector: str) -> list[list[dict[str, Any]]]:
    """Each matching Pod's `status.initContainerStatuses` as the API serves them (camelCase), terminating ones aside."""
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=label_selector).items
    return [
        api.sanitize_for_serialization(pod.status.init_container_statuses or [])
        for pod in pods
        if pod.status and not (pod.metadata and pod.metadata.deletion_timestamp)
    ]
