"""spec.rest.tls on the whole loop: the operator issues the REST certificate from its own CA, the worker Pod
(the pod runner's, a real Connect 3.9) serves HTTPS with client certificates required and passes its exec
probes, and the operator syncs a Connector through it, with the status naming the https URL."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import json
import socket
import ssl
from typing import Any

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kubernetes import client, dynamic

from connect_operator.connect.client import ConnectClient, RetryPolicy, Timeouts, TlsSettings
from connect_operator.connect.errors import ConnectError
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_operator.policy import resttls
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support import keys
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, events, ready_cluster

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
CA_SECRET, TLS_SECRET = f"{LOCAL_CLUSTER}-connect-rest-ca", f"{LOCAL_CLUSTER}-connect-rest-tls"


def _secret(api: client.ApiClient, namespace: str, name: str) -> tuple[Any, dict[str, bytes]]:
    secret: Any = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    return secret, {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}


def _names(cert_pem: bytes) -> list[str]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return list(
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    )


def _served_certificate(ip: str) -> bytes:
    """The DER certificate the worker at `ip` serves (no verification: only to see which one it is)."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((ip, 8083), timeout=5) as raw, context.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


def _fingerprint_pem(pem: bytes) -> str:
    return hashlib.sha256(x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)).hexdigest()


def _call(url: str, tls: TlsSettings) -> list[str]:
    async def listed() -> list[str]:
        async with ConnectClient(url, tls=tls, timeouts=Timeouts(connect=3, read=10), retry=RetryPolicy(1)) as rest:
            return await rest.list_names()

    return asyncio.run(listed())


@pytest.mark.timeout(600)
def test_the_operator_issues_the_certificate_and_syncs_through_https_with_client_auth(  # noqa: PLR0915 - one story
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    kafkaconnects = ready_cluster(crds, namespace, testbed, rest={"tls": {}})
    cluster = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER)
    service_host = f"{LOCAL_CLUSTER}-connect-api.{namespace}.svc"
    assert cluster.status["url"].startswith("https://"), cluster.status["url"]
    assert (cluster.status.get("connectVersion") or "").startswith("3.9"), "read over mutual TLS (GET /)"

    ca_secret, ca = _secret(api, namespace, CA_SECRET)
    leaf_secret, leaf = _secret(api, namespace, TLS_SECRET)
    assert leaf_secret.type == "kubernetes.io/tls" and set(leaf) == {"tls.crt", "tls.key", "ca.crt"}
    assert leaf["ca.crt"] == ca["ca.crt"]
    assert service_host in _names(leaf["tls.crt"])
    for secret in (ca_secret, leaf_secret):
        owner = secret.metadata.owner_references[0]
        assert (owner.kind, owner.name, owner.controller) == ("KafkaConnect", LOCAL_CLUSTER, True)
    issued = [e for e in events(api, namespace, LOCAL_CLUSTER, "Normal") if e.reason == "RestCertificateIssued"]
    assert len(issued) == 1 and TLS_SECRET in issued[0].message

    deployment: Any = client.AppsV1Api(api).read_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace)
    connect = deployment.spec.template.spec.containers[0]
    assert connect.readiness_probe._exec is not None and connect.readiness_probe.http_get is None
    volumes = {v.name: v for v in deployment.spec.template.spec.volumes}
    assert volumes["rest-tls"].secret.secret_name == TLS_SECRET
    assert CA_SECRET not in {v.secret.secret_name for v in volumes.values() if v.secret}, "the CA key stays out"

    connectors = crds.resources.get(api_version=API_VERSION, kind="Connector")
    connectors.create(
        namespace=namespace,
        body={
            "apiVersion": API_VERSION,
            "kind": "Connector",
            "metadata": {"name": "over-tls"},
            "spec": {"cluster": LOCAL_CLUSTER, "class": SOURCE, "config": {"file": "/dev/null", "topic": namespace}},
        },
    )
    poll_until(
        lambda: condition(connectors.get(namespace=namespace, name="over-tls"), "Ready").get("status") == "True",
        120,
        "the Connector Ready, synced by the operator over HTTPS",
    )

    ip = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")[0]
    url = f"https://{ip}:8083"
    ca_pem, cert_pem, key_pem = (leaf[k].decode() for k in ("ca.crt", "tls.crt", "tls.key"))
    mutual = TlsSettings(ca_pem=ca_pem, cert_pem=cert_pem, key_pem=key_pem, server_hostname=service_host)
    assert _call(url, mutual) == ["over-tls"]
    with pytest.raises((ConnectError, aiohttp.ClientError, ssl.SSLError)):
        _call(url, TlsSettings(ca_pem=ca_pem, server_hostname=service_host))

    shown: list[Any] = [
        kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).to_dict(),
        connectors.get(namespace=namespace, name="over-tls").to_dict(),
        [e.message for e in events(api, namespace, LOCAL_CLUSTER)],
        client.CoreV1Api(api).read_namespaced_config_map(f"{LOCAL_CLUSTER}-connect-config", namespace).data,
    ]
    text = json.dumps(shown, default=str)
    assert "PRIVATE KEY" not in text and key_pem.splitlines()[1] not in text
    assert "ssl.keystore.password" not in text, "the stores' password is the init step's, in the Pod alone"

    # Renewal: a leaf 80 of its 90 days old is due; the status timer renews it and the workers roll onto it.
    hash_before = deployment.spec.template.metadata.annotations["kco.dev/config-hash"]
    certificate_before = deployment.spec.template.metadata.annotations["kco.dev/rest-certificate"]
    assert certificate_before == _fingerprint_pem(leaf["tls.crt"])
    aged = resttls.issue_leaf(ca, (service_host,), datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=80))
    client.CoreV1Api(api).patch_namespaced_secret(
        TLS_SECRET, namespace, {"data": {k: base64.b64encode(v).decode() for k, v in aged.items()}}
    )

    def renewed() -> bytes | None:
        current = _secret(api, namespace, TLS_SECRET)[1]["tls.crt"]
        return current if current not in (aged["tls.crt"], leaf["tls.crt"]) else None

    fresh = poll_until(renewed, 60, "the operator renewing the aged certificate")
    assert service_host in _names(fresh)

    def rolled_onto_it() -> bool:
        ips = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")
        served = {hashlib.sha256(_served_certificate(ip)).hexdigest() for ip in ips}
        return served == {_fingerprint_pem(fresh)}

    poll_until(rolled_onto_it, 180, "every ready worker serving the renewed certificate")
    rolled: Any = client.AppsV1Api(api).read_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace)
    annotations = rolled.spec.template.metadata.annotations
    assert annotations["kco.dev/rest-certificate"] == _fingerprint_pem(fresh) != certificate_before
    assert annotations["kco.dev/config-hash"] == hash_before, "the certificate alone changed"
    renewed_mutual = TlsSettings(
        ca_pem=ca_pem,
        cert_pem=fresh.decode(),
        key_pem=_secret(api, namespace, TLS_SECRET)[1]["tls.key"].decode(),
        server_hostname=service_host,
    )
    ip = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")[0]
    assert _call(f"https://{ip}:8083", renewed_mutual) == ["over-tls"]

    # A hand edit of the Deployment is repaired with the certificate it serves, not without it (which
    # would roll the workers onto a template that names none, and the reconcile would roll them back).
    apps = client.AppsV1Api(api)
    tampered = {"spec": {"template": {"metadata": {"annotations": {"kco.dev/rest-certificate": "tampered"}}}}}
    apps.patch_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace, tampered)

    def repair_said() -> list[str]:
        said = [e.message or "" for e in events(api, namespace, LOCAL_CLUSTER) if e.reason == "Repaired"]
        return [m for m in said if "Deployment" in m]

    poll_until(repair_said, 60, "the Deployment repaired")
    repaired: Any = apps.read_namespaced_deployment(f"{LOCAL_CLUSTER}-connect", namespace)
    assert repaired.spec.template.metadata.annotations["kco.dev/rest-certificate"] == _fingerprint_pem(fresh)


def _user_secret(namespace: str) -> dict[str, bytes]:
    """What cert-manager writes for a Certificate with an RSA key: PKCS#1 `BEGIN RSA PRIVATE KEY`."""
    names = resttls.service_names(f"{LOCAL_CLUSTER}-connect-api", namespace)
    issued = resttls.plan(None, None, names, datetime.datetime.now(datetime.UTC))
    assert issued is not None
    rsa_key = keys.rsa_key()
    ca_pair = issued.ca
    leaf = resttls.issue_leaf(ca_pair, names, datetime.datetime.now(datetime.UTC), key=rsa_key)
    return {**leaf, "tls.key": keys.key_pem(rsa_key, "pkcs1").encode()}


@pytest.mark.timeout(400)
def test_a_users_secret_is_waited_for_then_served_with_its_pkcs1_key(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
) -> None:
    manifest = kafkaconnect_manifest(namespace, testbed, replicas=1, rest={"tls": {"secretName": "my-rest-tls"}})
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    kafkaconnects.create(namespace=namespace, body=manifest)

    def held_back() -> dict[str, Any] | None:
        ready = condition(kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER), "Ready")
        return ready if ready.get("reason") == "RestTlsSecretMissing" else None

    held = poll_until(held_back, 60, "RestTlsSecretMissing naming the Secret")
    assert "my-rest-tls" in held["message"]
    assert client.AppsV1Api(api).list_namespaced_deployment(namespace).items == [], "nothing applied meanwhile"

    data = _user_secret(namespace)
    assert data["tls.key"].startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="my-rest-tls"),
            type="kubernetes.io/tls",
            data={k: base64.b64encode(v).decode() for k, v in data.items()},
        ),
    )
    poll_until(
        lambda: condition(kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER), "Ready").get("status") == "True",
        180,
        "Ready once the Secret exists",
    )
    status = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status
    assert status["url"].startswith("https://") and (status.get("connectVersion") or "").startswith("3.9")
    ip = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={LOCAL_CLUSTER}")[0]
    assert hashlib.sha256(_served_certificate(ip)).hexdigest() == _fingerprint_pem(data["tls.crt"])
    listed: Any = client.CoreV1Api(api).list_namespaced_secret(namespace)
    issued_by_operator = [s.metadata.name for s in listed.items]
    assert CA_SECRET not in issued_by_operator and TLS_SECRET not in issued_by_operator
