"""The REST listener's certificate: issued (and renewed) into the cluster's Secrets, or the user's checked;
and the operator's own client settings for it. Decides nothing itself (`policy.resttls` does)."""

from __future__ import annotations

import base64
import datetime
from collections.abc import Mapping
from typing import Any

from kubernetes import client

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.connect.client import TlsSettings
from connect_operator.handlers import events, precheck
from connect_operator.kube import client as kube
from connect_operator.kube import secrets
from connect_operator.render import deployment, names
from connect_operator.render.names import ClusterRef

NEEDED_KEYS = (names.REST_TLS_CERT, names.REST_TLS_KEY, names.REST_CA_CERT)

# `policy.resttls` is imported where a certificate is read or made, after the checks for spec.rest.tls: it
# brings `cryptography`, some 8 MB of the operator's memory, which clusters without it never need.


def ensure(api: client.ApiClient, ref: ClusterRef, spec: KafkaConnectSpec, body: Mapping[str, Any]) -> str | None:
    """The fingerprint of the certificate the workers are to serve (None without spec.rest.tls), after
    issuing or renewing it when the operator is its issuer. A user's Secret lacking a key holds the cluster
    back, as a missing Kafka Secret does."""
    secret = deployment.rest_tls_secret(ref, spec)
    if secret is None or spec.rest.tls is None:
        return None
    from connect_operator.policy import resttls

    if spec.rest.tls.secret_name:
        read = secrets.read(api, ref.namespace, secret)
        if read.error is not None:
            raise precheck.HeldBack("RestTlsSecretMissing", f"spec.rest.tls.secretName: Secret {secret} {read.error}")
        missing = [key for key in NEEDED_KEYS if key not in read.data]
        if missing:
            raise precheck.HeldBack(
                "RestTlsSecretMissing", f"spec.rest.tls.secretName: Secret {secret} has no key {', '.join(missing)}"
            )
        return resttls.fingerprint(read.data[resttls.TLS_CERT])
    ca = secrets.read(api, ref.namespace, ref.rest_ca_secret)
    leaf = secrets.read(api, ref.namespace, secret)
    now = datetime.datetime.now(datetime.UTC)
    issued = resttls.plan(ca.data or None, leaf.data or None, resttls.service_names(ref.service, ref.namespace), now)
    if issued is None:
        return resttls.fingerprint(leaf.data[resttls.TLS_CERT])
    if issued.ca[resttls.CA_CERT] != ca.data.get(resttls.CA_CERT):
        kube.apply(api, _secret(ref, ref.rest_ca_secret, "Opaque", issued.ca))
    kube.apply(api, _secret(ref, secret, "kubernetes.io/tls", issued.leaf))
    events.normal(
        body,
        "RestCertificateIssued",
        f"Issued the REST certificate in Secret {secret} for {ref.service_host}, valid until "
        f"{(now + resttls.LEAF_LIFETIME).date().isoformat()}",
    )
    return resttls.fingerprint(issued.leaf[resttls.TLS_CERT])


def served_fingerprint(api: client.ApiClient, ref: ClusterRef, spec: KafkaConnectSpec) -> str | None:
    """The fingerprint of the certificate the Secret holds now (read only): what a render of the Deployment
    outside a reconcile (a repair) must carry, or it would undo the last roll."""
    secret = deployment.rest_tls_secret(ref, spec)
    if secret is None:
        return None
    from connect_operator.policy import resttls

    data = secrets.read(api, ref.namespace, secret).data
    return resttls.fingerprint(data[resttls.TLS_CERT]) if resttls.TLS_CERT in data else None


def rolled_out(api: client.ApiClient, ref: ClusterRef, spec: KafkaConnectSpec) -> bool:
    """Whether the Deployment's Pods carry the certificate the Secret holds: False once cert-manager (or
    anyone) renewed a user's Secret, so the status timer reconciles and the workers roll onto it."""
    wanted = served_fingerprint(api, ref, spec)
    if wanted is None:
        return True
    live = kube.get_deployment(api, ref.namespace, ref.workers)
    if live is None:
        return True  # nothing rolled yet: the reconcile creating it renders the current one
    annotations = (live.spec.template.metadata.annotations or {}) if live.spec and live.spec.template.metadata else {}
    return annotations.get(names.REST_CERTIFICATE_ANNOTATION) == wanted


def renewal_due(api: client.ApiClient, ref: ClusterRef, spec: Mapping[str, Any]) -> bool:
    """Whether the certificate the operator issues for this cluster is missing or due for renewal now."""
    tls = (spec.get("rest") or {}).get("tls")
    if tls is None or tls.get("secretName"):
        return False
    from connect_operator.policy import resttls

    ca = secrets.read(api, ref.namespace, ref.rest_ca_secret)
    leaf = secrets.read(api, ref.namespace, ref.rest_tls_secret)
    now = datetime.datetime.now(datetime.UTC)
    names = resttls.service_names(ref.service, ref.namespace)
    return resttls.plan(ca.data or None, leaf.data or None, names, now) is not None


def client_tls(api: client.ApiClient, ref: ClusterRef, spec: Mapping[str, Any]) -> TlsSettings | None:
    """How the operator calls the cluster's REST API: None for plain HTTP; otherwise the cluster's own
    certificate as its client certificate, the CA to verify against, and the Service's name to verify."""
    tls = (spec.get("rest") or {}).get("tls")
    if tls is None:
        return None
    secret = tls.get("secretName") or ref.rest_tls_secret
    data = secrets.read(api, ref.namespace, secret).data
    text = {key: data[key].decode(errors="replace") for key in NEEDED_KEYS if key in data}
    return TlsSettings(
        ca_pem=text.get(names.REST_CA_CERT),
        cert_pem=text.get(names.REST_TLS_CERT),
        key_pem=text.get(names.REST_TLS_KEY),
        server_hostname=ref.service_host,
    )


def _secret(ref: ClusterRef, name: str, kind: str, data: Mapping[str, bytes]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": ref.metadata(name),
        "type": kind,
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }
