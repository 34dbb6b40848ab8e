"""The one Secret reader of the operator: each Secret read once per pass, values kept only in memory."""

from __future__ import annotations

import base64

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator.policy.secrets import SecretRead


def read(api: client.ApiClient, namespace: str, name: str) -> SecretRead:
    """A Secret's decoded values; a 404 is `not found`, any other refusal says its status. Never logged."""
    try:
        secret = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return SecretRead.not_found(name)
        return SecretRead(name, error=f"{exc.status} {exc.reason}")
    uid = str(secret.metadata.uid) if secret.metadata and secret.metadata.uid else ""
    return SecretRead(name, uid, {str(k): base64.b64decode(v) for k, v in (secret.data or {}).items()})


def read_all(api: client.ApiClient, namespace: str, names: set[str]) -> dict[str, SecretRead]:
    return {name: read(api, namespace, name) for name in sorted(names)}
