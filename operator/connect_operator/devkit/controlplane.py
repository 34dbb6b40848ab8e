"""A real Kubernetes control plane on loopback: etcd, kube-apiserver and kube-controller-manager.

Token authentication and RBAC; an admin kubeconfig written for kubectl, kopf and the tests. Every
process is supervised (it dies with its parent) and stopped by PID.
"""

from __future__ import annotations

import json
import secrets
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import yaml

from connect_operator.devkit import kubeversions
from connect_operator.devkit import pki as pki_module
from connect_operator.devkit.k8sbuild import ControlPlaneBinaries
from connect_worker import ports
from connect_worker.errors import WorkerStartError
from connect_worker.supervision import ManagedProcess

ADMIN_USER = "kco-admin"
CONTROLLER_MANAGER_USER = "system:kube-controller-manager"


@dataclass(frozen=True)
class Endpoints:
    server: str
    kubeconfig: Path
    admin_token: str
    ca_cert: Path
    pki: pki_module.Pki

    @property
    def secure_port(self) -> int:
        return int(self.server.rsplit(":", 1)[1])


class ControlPlane:
    """Start with `with ControlPlane(binaries, work_dir) as plane:`; `plane.endpoints.kubeconfig` for clients."""

    def __init__(self, binaries: ControlPlaneBinaries, work_dir: Path) -> None:
        self.work_dir = work_dir
        self._binaries = binaries
        self._processes: list[ManagedProcess] = []
        self._endpoints: Endpoints | None = None
        self.etcd_url = ""  # once started: for tests that act on etcd itself (a compaction)

    @property
    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            raise RuntimeError("the control plane is not started")
        return self._endpoints

    def start(self, timeout: float = 60.0) -> Endpoints:
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> Endpoints:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        keys = pki_module.create(self.work_dir / "pki")
        admin_token, cm_token = secrets.token_hex(16), secrets.token_hex(16)
        tokens = self.work_dir / "tokens.csv"
        tokens.write_text(f'{admin_token},{ADMIN_USER},1,"system:masters"\n{cm_token},{CONTROLLER_MANAGER_USER},2\n')
        tokens.chmod(0o600)
        etcd_client, etcd_peer, secure_port, cm_port = (ports.free_port() for _ in range(4))
        self.etcd_url = f"http://127.0.0.1:{etcd_client}"
        self._spawn(
            "etcd",
            [
                str(self._binaries.etcd),
                "--data-dir",
                str(self.work_dir / "etcd"),
                "--name",
                "kco",
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"kco=http://127.0.0.1:{etcd_peer}",
                "--log-level",
                "warn",
            ],
        )
        server = f"https://127.0.0.1:{secure_port}"
        self._spawn(
            "kube-apiserver",
            [
                str(self._binaries.apiserver),
                f"--etcd-servers=http://127.0.0.1:{etcd_client}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                f"--secure-port={secure_port}",
                *kubeversions.apiserver_version_flags(self._binaries.version),
                f"--tls-cert-file={keys.serving_cert}",
                f"--tls-private-key-file={keys.serving_key}",
                f"--client-ca-file={keys.ca_cert}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={keys.service_account_pub}",
                f"--service-account-signing-key-file={keys.service_account_key}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-cluster-ip-range=10.96.0.0/12",
                # A loopback advertise address makes the default endpoint reconciler log errors forever.
                "--endpoint-reconciler-type=none",
                "--enable-priority-and-fairness=false",
                # For a node's kubelet (logs, exec): it trusts the same CA, and is dialled at its InternalIP.
                f"--kubelet-client-certificate={pki_module.kubelet_client(keys)[0]}",
                f"--kubelet-client-key={pki_module.kubelet_client(keys)[1]}",
                "--kubelet-preferred-address-types=InternalIP,Hostname",
            ],
        )
        self._endpoints = Endpoints(server, self.work_dir / "kubeconfig", admin_token, keys.ca_cert, keys)
        _write_kubeconfig(self._endpoints.kubeconfig, server, keys.ca_cert, admin_token, ADMIN_USER)
        self._wait_ready(f"{server}/readyz", admin_token, keys.ca_cert, timeout)
        cm_kubeconfig = self.work_dir / "controller-manager.kubeconfig"
        _write_kubeconfig(cm_kubeconfig, server, keys.ca_cert, cm_token, CONTROLLER_MANAGER_USER)
        self._spawn(
            "kube-controller-manager",
            [
                str(self._binaries.controller_manager),
                f"--kubeconfig={cm_kubeconfig}",
                f"--authentication-kubeconfig={cm_kubeconfig}",
                f"--authorization-kubeconfig={cm_kubeconfig}",
                "--bind-address=127.0.0.1",
                f"--secure-port={cm_port}",
                *kubeversions.controller_manager_version_flags(self._binaries.version),
                "--leader-elect=false",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={keys.service_account_key}",
                f"--root-ca-file={keys.ca_cert}",
                f"--cluster-signing-cert-file={keys.ca_cert}",
                f"--cluster-signing-key-file={keys.ca_key}",
                "--controllers=*,-nodeipam,-cloud-node-lifecycle,-route,-service",
            ],
        )
        return self._endpoints

    def stop(self) -> None:
        for process in reversed(self._processes):
            process.stop(timeout=10)
        self._processes.clear()

    def logs(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name} ({p.log_path}) ---\n{p.log_tail(lines)}" for p in self._processes)

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._processes.append(ManagedProcess(name, argv, self.work_dir / f"{name}.log", cwd=self.work_dir))

    def _wait_ready(self, url: str, token: str, ca: Path, timeout: float) -> None:
        context = ssl.create_default_context(cafile=str(ca))
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            for process in self._processes:
                if not process.is_running():
                    raise WorkerStartError(f"{process.name} exited with {process.exit_code()}:\n{process.log_tail()}")
            request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
            try:
                with urllib.request.urlopen(request, timeout=2, context=context) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.HTTPError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise WorkerStartError(f"kube-apiserver was not ready within {timeout:.0f} s ({last}):\n{self.logs()}")

    def __enter__(self) -> ControlPlane:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _write_kubeconfig(path: Path, server: str, ca: Path, token: str, user: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "kco-local", "cluster": {"server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": "kco-local", "context": {"cluster": "kco-local", "user": user}}],
        "current-context": "kco-local",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


def server_version(endpoints: Endpoints) -> dict[str, str]:
    context = ssl.create_default_context(cafile=str(endpoints.ca_cert))
    request = urllib.request.Request(
        f"{endpoints.server}/version", headers={"Authorization": f"Bearer {endpoints.admin_token}"}
    )
    with urllib.request.urlopen(request, timeout=5, context=context) as answer:
        body: dict[str, str] = json.loads(answer.read())
        return body
