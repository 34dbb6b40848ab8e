"""The `kubernetes` Service's Endpoints on a control plane that local nodes share.

The apiserver runs with no endpoint reconciler, so each node publishes the address its Pods reach the
apiserver at (its own end of its veth, where its byte forward listens). Several nodes may share one
control plane (a second one started by a test, a devkit killed without stopping): each adds its address,
withdraws it on stop, and drops addresses the host no longer has, which belonged to nodes long gone.
Every such address is the host's, so a Pod on any node reaches any of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence

from kubernetes import client

NAME, NAMESPACE = "kubernetes", "default"


def merged(current: Sequence[str], add: str | None, remove: str | None, alive: Callable[[str], bool]) -> list[str]:
    """The addresses to publish: those still alive, plus `add`, less `remove`; sorted, no repeats."""
    kept = {ip for ip in current if ip != remove and alive(ip)}
    if add:
        kept.add(add)
    return sorted(kept)


def publish(
    api: client.ApiClient,
    port: int,
    alive: Callable[[str], bool],
    add: str | None = None,
    remove: str | None = None,
    attempts: int = 5,
) -> None:
    """Rewrite the Endpoints with `merged` addresses, conditional on the version read (nodes start at once)."""
    core = client.CoreV1Api(api)
    for _ in range(attempts):
        try:
            current = core.read_namespaced_endpoints(NAME, NAMESPACE)
        except client.ApiException as exc:
            if exc.status != 404:
                raise
            current = None
        ips = [a.ip for s in (current.subsets or []) for a in (s.addresses or [])] if current else []
        version = current.metadata.resource_version if current and current.metadata else None
        body = _endpoints(merged(ips, add, remove, alive), port, version)
        try:
            if current is None:
                core.create_namespaced_endpoints(NAMESPACE, body)
            else:
                core.replace_namespaced_endpoints(NAME, NAMESPACE, body)
            return
        except client.ApiException as exc:
            if exc.status not in (404, 409):
                raise
    raise RuntimeError(f"the {NAME} Endpoints kept changing under {attempts} writes")


def withdraw_quietly(api: client.ApiClient, address: str, port: int, alive: Callable[[str], bool]) -> None:
    """On stop: the control plane may already be gone, and nothing of ours depends on this write."""
    with contextlib.suppress(Exception):
        publish(api, port, alive, remove=address)


def _endpoints(addresses: list[str], port: int, resource_version: str | None) -> client.V1Endpoints:
    subsets = (
        [
            client.V1EndpointSubset(
                addresses=[client.V1EndpointAddress(ip=ip) for ip in addresses],
                ports=[client.CoreV1EndpointPort(name="https", port=port, protocol="TCP")],
            )
        ]
        if addresses
        else []
    )
    meta = client.V1ObjectMeta(name=NAME, namespace=NAMESPACE, resource_version=resource_version)
    return client.V1Endpoints(metadata=meta, subsets=subsets)
