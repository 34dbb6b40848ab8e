"""The operator logs in with any ordinary kubeconfig, read by the kubernetes client, not by hand.

Each kubeconfig below authenticates to the real control plane; the operator (kopf's watches and the
client's writes alike) reconciles a KafkaConnect with it.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.kube import client as kube
from connect_operator.settings import OperatorSettings
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest, running_operator
from tests.support.polling import poll_until

pytestmark = pytest.mark.kube

REPO = Path(__file__).resolve().parents[2]


def _client_certificate(plane: ControlPlane, folder: Path) -> tuple[Path, Path]:
    """A client certificate of a cluster admin (group system:masters) signed by the control plane's CA."""
    folder.mkdir(parents=True, exist_ok=True)
    key, csr, cert = folder / "user.key", folder / "user.csr", folder / "user.crt"
    pki = plane.work_dir / "pki"

    def openssl(*args: str | Path) -> None:
        subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)

    openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/O=system:masters/CN=kco-cert-user",
        "-keyout",
        key,
        "-out",
        csr,
    )
    openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        pki / "ca.crt",
        "-CAkey",
        pki / "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-out",
        cert,
    )
    return cert, key


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _kubeconfig(folder: Path, cluster: dict[str, Any], user: dict[str, Any]) -> Path:
    path = folder / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": cluster}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "ctx",
            }
        )
    )
    return path


def embedded_data(plane: ControlPlane, folder: Path) -> Path:
    """What kind, k3s, EKS and GKE write: certificates inline, base64."""
    cert, key = _client_certificate(plane, folder / "pki")
    cluster = {"server": plane.endpoints.server, "certificate-authority-data": _b64(plane.endpoints.ca_cert)}
    user = {"client-certificate-data": _b64(cert), "client-key-data": _b64(key)}
    return _kubeconfig(folder, cluster, user)


def file_paths(plane: ControlPlane, folder: Path) -> Path:
    cert, key = _client_certificate(plane, folder / "pki")
    cluster = {"server": plane.endpoints.server, "certificate-authority": str(plane.endpoints.ca_cert)}
    return _kubeconfig(folder, cluster, {"client-certificate": str(cert), "client-key": str(key)})


def exec_plugin(plane: ControlPlane, folder: Path) -> Path:
    """A credential plugin, as cloud CLIs install them: a program that prints an ExecCredential."""
    folder.mkdir(parents=True, exist_ok=True)
    plugin = folder / "credential-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": plane.endpoints.admin_token},
    }
    plugin.write_text(f"#!/bin/sh\ncat <<'EOF'\n{json.dumps(credential)}\nEOF\n")
    plugin.chmod(plugin.stat().st_mode | stat.S_IXUSR)
    cluster = {"server": plane.endpoints.server, "certificate-authority-data": _b64(plane.endpoints.ca_cert)}
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": str(plugin)}}
    return _kubeconfig(folder, cluster, user)


KUBECONFIGS: dict[str, Callable[[ControlPlane, Path], Path]] = {
    "embedded-data": embedded_data,
    "file-paths": file_paths,
    "exec-plugin": exec_plugin,
}


@pytest.mark.parametrize("kind", sorted(KUBECONFIGS))
def test_operator_logs_in_with(
    kind: str,
    control_plane: ControlPlane,
    crds: dynamic.DynamicClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    path = KUBECONFIGS[kind](control_plane, tmp_path)
    settings = OperatorSettings(kubeconfig=str(path), namespaces=(namespace,), status_interval_seconds=2)
    # The operator's own client, as built from the kubeconfig, reaches the apiserver.
    listed = client.CoreV1Api(kube.api_client(settings)).list_namespace().items
    assert namespace in {n.metadata.name for n in listed if n.metadata}
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    with running_operator(settings):
        kafkaconnects.create(namespace=namespace, body=kafkaconnect_manifest(namespace, testbed, replicas=1))

        def reconciled() -> Any:
            obj = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER)
            return obj if (obj.status or {}).get("observedGeneration") == 1 else None

        # kopf saw the resource (its watch logged in) and the handler wrote objects and status with it.
        poll_until(reconciled, 60, f"a status written by an operator logged in with a {kind} kubeconfig")
    deployments = client.AppsV1Api(kube.api_client(settings)).list_namespaced_deployment(namespace).items
    assert [d.metadata.name for d in deployments if d.metadata] == [f"{LOCAL_CLUSTER}-connect"]


def test_without_kubeconfig_or_cluster_the_operator_reads_the_users_default_kubeconfig(
    control_plane: ControlPlane, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    embedded_data(control_plane, tmp_path / "cfg").rename(home / ".kube" / "config")
    script = (
        "from kubernetes import client\n"
        "from connect_operator.kube import client as kube, login\n"
        "from connect_operator.settings import OperatorSettings\n"
        "settings = OperatorSettings.from_env()\n"
        "info = login.connection_info(login.configuration(settings))\n"
        "names = [n.metadata.name for n in client.CoreV1Api(kube.api_client(settings)).list_namespace().items]\n"
        "print(info.server, info.certificate_path is not None, 'default' in names)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"KUBECONFIG", "KUBERNETES_SERVICE_HOST"}}
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "HOME": str(home)},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == [control_plane.endpoints.server, "True", "True"]
