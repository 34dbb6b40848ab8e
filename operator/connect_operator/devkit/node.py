"""A real node for the local control plane: containerd, a kubelet, kube-proxy and kube-scheduler.

containerd and the kubelet share one mount namespace (Secret and ConfigMap tmpfs mounts must be
visible to both) inside the node's network namespace (nodenet). In that mount namespace, and only there:
- the three kernel flags the kubelet insists on (vm.overcommit_memory=1, kernel.panic=10,
  kernel.panic_on_oops=1) read as it wants, from files bind-mounted over /proc/sys: it checks them
  and exits, or writes them, and the host's values must never change;
- /var/log is a folder of the node's, as the kubelet 1.20 writes Pod logs to /var/log/pods.
Pods get cgroups under our own, a cluster DNS (clusterdns) and the apiserver through a forward
(tcpforward) on the host's end of the veth. Every process is started and stopped by PID; stop() also
kills what containerd leaves running (shims, containers), removes the cgroups and the namespace.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client, config

from connect_operator.devkit import apiserverendpoints, kubeversions, nodeconfig, nodenet
from connect_operator.devkit import pki as pki_module
from connect_operator.devkit.clusterdns import ClusterDns
from connect_operator.devkit.controlplane import Endpoints
from connect_operator.devkit.k8sbuild import ControlPlaneBinaries
from connect_operator.devkit.kubeversions import Version
from connect_operator.devkit.nodeconfig import NodeFolders
from connect_operator.devkit.tcpforward import TcpForward
from connect_worker import ports
from connect_worker.errors import WorkerStartError
from connect_worker.supervision import ManagedProcess

_log = logging.getLogger(__name__)

# What the kubelet 1.20 checks in /proc/sys before it starts (container_manager_linux.go).
KUBELET_KERNEL_FLAGS = {
    "vm/overcommit_memory": 1,
    "vm/panic_on_oom": 0,
    "kernel/panic": 10,
    "kernel/panic_on_oops": 1,
    "kernel/keys/root_maxkeys": 1000000,
    "kernel/keys/root_maxbytes": 25000000,
}
REQUIRED_COMMANDS = ("containerd", "runc", "ctr", "ip", "iptables", "nsenter")
_CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class NodeBinaries:
    kubelet: Path
    kube_scheduler: Path
    kube_proxy: Path
    version: Version

    @staticmethod
    def beside(control_plane: ControlPlaneBinaries) -> NodeBinaries:
        """The node's binaries come from the folder the control plane's do (the build, or KUBEBUILDER_ASSETS)."""
        folder = control_plane.apiserver.parent
        return NodeBinaries(folder / "kubelet", folder / "kube-scheduler", folder / "kube-proxy", control_plane.version)


def unavailable_reason(binaries: NodeBinaries) -> str | None:
    """Why a real node cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "a real node needs root (network and mount namespaces, cgroups)"
    if not Path("/proc/self/ns/net").exists() or not _CGROUP_ROOT.is_dir():
        return "a real node needs Linux with cgroups and namespaces"
    missing = [name for name in REQUIRED_COMMANDS if shutil.which(name) is None]
    if missing:
        return f"missing {', '.join(missing)}: apt-get install containerd runc containernetworking-plugins iptables"
    if not (nodeconfig.CNI_BIN_DIR / "bridge").is_file():
        return f"no CNI plugins in {nodeconfig.CNI_BIN_DIR}: apt-get install containernetworking-plugins"
    absent = [p.name for p in (binaries.kubelet, binaries.kube_scheduler, binaries.kube_proxy) if not p.is_file()]
    if absent:
        return f"no {', '.join(absent)} beside kube-apiserver: run `python -m connect_operator.devkit build`"
    return None


class LocalNode:
    """`with LocalNode(endpoints, binaries, work_dir, images) as node:` a Ready Node named `node.name`."""

    def __init__(
        self,
        endpoints: Endpoints,
        binaries: NodeBinaries,
        work_dir: Path,
        images: Sequence[Path],
        pause_image: str,
    ) -> None:
        self._endpoints, self._binaries = endpoints, binaries
        self._images, self._pause_image = list(images), pause_image
        self.folders = NodeFolders(work_dir, Path(tempfile.mkdtemp(prefix="kco-node-")))
        self.network: nodenet.NodeNetwork | None = None
        self._processes: dict[str, ManagedProcess] = {}
        self._forward: TcpForward | None = None
        self._dns: ClusterDns | None = None
        self._made_cgroups: list[Path] = []
        self._api = config.new_client_from_config(str(endpoints.kubeconfig))  # type: ignore[no-untyped-call]

    @property
    def name(self) -> str:
        if self.network is None:
            raise RuntimeError("the node is not started")
        return self.network.namespace

    @property
    def host_address(self) -> str:
        """The address Pods reach the host at: bind what Pods must reach (a broker) here."""
        if self.network is None:
            raise RuntimeError("the node is not started")
        return self.network.host_address

    def __enter__(self) -> LocalNode:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self, timeout: float = 90.0) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        root = self.folders.root
        for folder in (root, self.folders.cni_conf, self.folders.pod_logs, self.folders.kernel_flags):
            folder.mkdir(parents=True, exist_ok=True)
        reap_abandoned()
        self.network = network = nodenet.create()
        self._record_owner(network)
        port = self._endpoints.secure_port
        self._forward = TcpForward((network.host_address, port), ("127.0.0.1", port)).__enter__()
        self._dns = ClusterDns(network.host_address, self._service_addresses).__enter__()
        apiserverendpoints.publish(self._api, port, nodenet.host_has_address, add=network.host_address)
        self._bind_node_user()
        self._write_configs(network)
        self._made_cgroups = prepare_cgroups(self._cgroup_root())
        self._start_holder(network)
        self._spawn_in_node("containerd", ["containerd", "--config", str(root / "containerd.toml")])
        self._wait_for(self.folders.containerd_socket.exists, "containerd's socket", 30)
        for archive in self._images:
            self.import_image(archive)
        self._spawn_in_node("kubelet", [str(self._binaries.kubelet), *self._kubelet_flags(network)])
        self._spawn_in_node(
            "kube-proxy", [str(self._binaries.kube_proxy), f"--config={root / 'kube-proxy.yaml'}", "--v=1"]
        )
        self._spawn("kube-scheduler", [str(self._binaries.kube_scheduler), *self._scheduler_flags()])
        self._wait_for(self._node_ready, f"Node {self.name} Ready", timeout)

    def _record_owner(self, network: nodenet.NodeNetwork) -> None:
        """What a later run needs to clean up after this one if it dies without stopping (SIGKILL, a crash)."""
        record = {
            "owner": os.getpid(),
            "namespace": network.namespace,
            "cgroup": self._cgroup_root(),
            "kubeconfig": str(self._endpoints.kubeconfig),
            "host_address": network.host_address,
            "port": self._endpoints.secure_port,
        }
        (self.folders.short / OWNER_FILE).write_text(json.dumps(record))

    def import_image(self, archive: Path) -> None:
        """An OCI archive into containerd's Kubernetes namespace (Pods use imagePullPolicy IfNotPresent)."""
        done = subprocess.run(
            ["ctr", "--address", str(self.folders.containerd_socket), "-n", "k8s.io", "images", "import", str(archive)],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if done.returncode != 0:
            raise WorkerStartError(f"ctr images import {archive} failed: {done.stderr[-600:]}")

    def container_pids(self, pod_uid: str, container_id: str) -> list[int]:
        """The host PIDs of one container's processes (from its cgroup), e.g. to kill what runs in it."""
        bare_id = container_id.split("://", 1)[-1]
        pids: list[int] = []
        for hierarchy in _hierarchies():
            if hierarchy.name != "pids":
                continue
            top = hierarchy / self._cgroup_root().lstrip("/")
            for procs in top.glob(f"kubepods/**/pod{pod_uid}/{bare_id}/cgroup.procs"):
                pids += [int(pid) for pid in procs.read_text().split()]
        return pids

    def logs(self, lines: int = 30) -> str:
        return "\n".join(f"--- {p.name} ({p.log_path}) ---\n{p.log_tail(lines)}" for p in self._processes.values())

    def stop(self) -> None:
        for name in ("kube-scheduler", "kube-proxy", "kubelet"):
            if name in self._processes:
                self._processes.pop(name).stop(timeout=10)
        cgroup = self._cgroup_root() if self.network else None
        if cgroup:
            _kill_cgroup_tree(cgroup)
        _kill_shims(self.folders.containerd_socket)
        for name in ("containerd", "holder"):
            if name in self._processes:
                self._processes.pop(name).stop(timeout=10)
        _kill_shims(self.folders.containerd_socket)  # any containerd started while it stopped
        if cgroup:
            _remove_cgroup_tree(cgroup)
        for folder in self._made_cgroups:
            with contextlib.suppress(OSError):
                folder.rmdir()
        self._made_cgroups = []
        if self._dns:
            self._dns.stop()
            self._dns = None
        if self._forward:
            self._forward.stop()
            self._forward = None
        if self.network:
            port = self._endpoints.secure_port
            apiserverendpoints.withdraw_quietly(self._api, self.network.host_address, port, nodenet.host_has_address)
            left = nodenet.delete(self.network)
            _log.info("Node %s stopped; its network namespace %s", self.network.namespace, left or "deleted")
            self.network = None
            if left:
                # node.json stays: the next node started here reaps what this one could not remove.
                _log.warning("The node's network namespace is left for the next run to reap: %s", left)
                return
        shutil.rmtree(self.folders.short, ignore_errors=True)

    # -- pieces of start() ------------------------------------------------------------------------------

    def _write_configs(self, network: nodenet.NodeNetwork) -> None:
        root, keys = self.folders.root, self._endpoints.pki
        pki_dir = root / "pki"
        pki_dir.mkdir(exist_ok=True)
        server = f"https://{network.host_address}:{self._endpoints.secure_port}"
        for user, subject in (
            ("kubelet", f"/CN=system:node:{self.name}/O=system:nodes"),
            ("kube-proxy", "/CN=system:kube-proxy"),
        ):
            cert, key = pki_module.issue(keys, pki_dir, user, subject)
            (root / f"{user}.kubeconfig").write_text(
                nodeconfig.kubeconfig_yaml(server, keys.ca_cert, cert, key, server_name="localhost")
            )
        cert, key = pki_module.issue(keys, pki_dir, "kube-scheduler", "/CN=system:kube-scheduler")
        (root / "kube-scheduler.kubeconfig").write_text(
            nodeconfig.kubeconfig_yaml(self._endpoints.server, keys.ca_cert, cert, key)
        )
        serving = pki_module.issue(keys, pki_dir, "kubelet-serving", f"/CN={self.name}", ips=(network.node_address,))
        resolv = root / "resolv.conf"
        resolv.write_text(f"nameserver {network.host_address}\n")
        (root / "containerd.toml").write_text(nodeconfig.containerd_toml(self.folders, self._pause_image))
        (self.folders.cni_conf / "10-kco.conflist").write_text(nodeconfig.cni_conflist(network, self.folders))
        (root / "kubelet.yaml").write_text(
            nodeconfig.kubelet_yaml(network, keys.ca_cert, serving, self._cgroup_root(), resolv)
        )
        (root / "kube-proxy.yaml").write_text(
            nodeconfig.kube_proxy_yaml(network, self.name, root / "kube-proxy.kubeconfig")
        )

    def _kubelet_flags(self, network: nodenet.NodeNetwork) -> list[str]:
        root = self.folders.root
        return [
            f"--config={root / 'kubelet.yaml'}",
            f"--kubeconfig={root / 'kubelet.kubeconfig'}",
            *kubeversions.kubelet_version_flags(self._binaries.version, f"unix://{self.folders.containerd_socket}"),
            f"--root-dir={self.folders.kubelet_root}",
            f"--cert-dir={root / 'pki'}",
            f"--hostname-override={self.name}",
            f"--node-ip={network.node_address}",
            "--v=1",
        ]

    def _scheduler_flags(self) -> list[str]:
        kubeconfig = self.folders.root / "kube-scheduler.kubeconfig"
        return [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={ports.free_port()}",
            *kubeversions.scheduler_version_flags(self._binaries.version),
            "--leader-elect=false",
        ]

    def _start_holder(self, network: nodenet.NodeNetwork) -> None:
        """A process that only holds the node's mount namespace, prepared, for the daemons to enter."""
        mounts = [f"mount --bind {self.folders.pod_logs} /var/log"]
        for flag, wanted in KUBELET_KERNEL_FLAGS.items():
            current = Path("/proc/sys", flag)
            if current.is_file() and current.read_text().strip() != str(wanted):
                stand_in = self.folders.kernel_flags / flag.replace("/", ".")
                stand_in.write_text(f"{wanted}\n")
                mounts.append(f"mount --bind {stand_in} {current}")
        ready = self.folders.root / "holder.ready"
        script = " && ".join([*mounts, f"touch {ready}", "exec sleep infinity"])
        # Not `ip netns exec`: it remounts /sys, and the kubelet needs the host's cgroup mounts under it.
        enter = ["unshare", "--mount", "--propagation", "slave", "--", "nsenter", f"--net={network.netns_path}"]
        self._spawn("holder", [*enter, "--", "sh", "-c", script])
        self._wait_for(ready.exists, "the node's namespaces", 10)

    def _spawn_in_node(self, name: str, argv: list[str]) -> None:
        holder = self._processes["holder"].pid
        self._spawn(name, ["nsenter", f"--target={holder}", "--mount", "--net", "--", *argv])

    def _spawn(self, name: str, argv: list[str]) -> None:
        self._processes[name] = ManagedProcess(name, argv, self.folders.root / f"{name}.log", cwd=self.folders.root)

    def _wait_for(self, check: Any, what: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for process in self._processes.values():
                if not process.is_running():
                    raise WorkerStartError(f"{process.name} exited with {process.exit_code()}:\n{process.log_tail()}")
            with contextlib.suppress(Exception):
                if check():
                    return
            time.sleep(0.3)
        raise WorkerStartError(f"No {what} within {timeout:.0f} s:\n{self.logs()}")

    def _node_ready(self) -> bool:
        node = client.CoreV1Api(self._api).read_node(self.name)
        conditions = node.status.conditions if node.status else None
        return any(c.type == "Ready" and c.status == "True" for c in conditions or [])

    def _bind_node_user(self) -> None:
        """RBAC for this node's kubelet (the built-in system:node role has no subjects since 1.8)."""
        rbac = client.RbacAuthorizationV1Api(self._api)
        binding = client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name=f"kco-node:{self.name}"),
            role_ref=client.V1RoleRef(api_group="rbac.authorization.k8s.io", kind="ClusterRole", name="system:node"),
            subjects=[
                client.RbacV1Subject(
                    kind="User", name=f"system:node:{self.name}", api_group="rbac.authorization.k8s.io"
                )
            ],
        )
        with contextlib.suppress(client.ApiException):
            rbac.create_cluster_role_binding(binding)

    def _service_addresses(self, namespace: str, name: str) -> list[str]:
        core = client.CoreV1Api(self._api)
        try:
            service = core.read_namespaced_service(name, namespace)
        except client.ApiException:
            return []
        ip = service.spec.cluster_ip if service.spec else None
        if ip and ip != "None":
            return [ip]
        try:
            endpoints = core.read_namespaced_endpoints(name, namespace)
        except client.ApiException:
            return []
        return [a.ip for s in endpoints.subsets or [] for a in s.addresses or []]

    def _cgroup_root(self) -> str:
        """Under the cgroup we run in (a sandbox may limit it), one folder per node: never the host's root."""
        return f"{_own_cgroup().rstrip('/')}/{self.name}"


OWNER_FILE = "node.json"


def reap_abandoned() -> list[str]:
    """Nodes whose devkit process died without stopping them: their containers, shims, cgroups and network
    namespace would otherwise outlive it (containerd's shims are made to). Returns the namespaces reaped."""
    reaped = []
    for record_path in Path(tempfile.gettempdir()).glob(f"kco-node-*/{OWNER_FILE}"):
        try:
            record = json.loads(record_path.read_text())
            owner = int(record["owner"])
        except (OSError, ValueError, KeyError):
            continue
        if _alive(owner):
            continue
        _withdraw_abandoned(record)
        _kill_cgroup_tree(record["cgroup"])
        _kill_shims(record_path.parent / "containerd.sock")
        _remove_cgroup_tree(record["cgroup"])
        left = nodenet.delete(nodenet.NodeNetwork(int(record["namespace"].rsplit("-", 1)[1]), record["namespace"], ""))
        if left:
            _log.warning("An abandoned node's network namespace could not be removed: %s", left)
            continue
        shutil.rmtree(record_path.parent, ignore_errors=True)
        reaped.append(str(record["namespace"]))
    return reaped


def _withdraw_abandoned(record: dict[str, Any]) -> None:
    """Its address out of the `kubernetes` Endpoints of its control plane, if that still runs: kube-proxy
    would otherwise send some of the other nodes' Pods' apiserver connections to an address now gone."""
    kubeconfig = Path(str(record.get("kubeconfig", "")))
    if not record.get("host_address") or not kubeconfig.is_file():
        return
    with contextlib.suppress(Exception):  # a control plane gone too, or a kubeconfig of another version
        api = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
        apiserverendpoints.withdraw_quietly(api, record["host_address"], int(record["port"]), nodenet.host_has_address)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _own_cgroup() -> str:
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            return path
    return "/"


def _hierarchies() -> Iterator[Path]:
    for entry in sorted(_CGROUP_ROOT.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and (entry / "cgroup.procs").exists():
            yield entry


def prepare_cgroups(relative: str) -> list[Path]:
    """The kubelet checks that its cgroup root exists in every hierarchy; cpuset needs its cpus and mems.
    Returns the folders made, deepest first, for stop() to remove."""
    made: list[Path] = []
    for hierarchy in _hierarchies():
        folder = hierarchy / relative.lstrip("/")
        if hierarchy.name == "unified":
            continue
        missing = [p for p in (folder, *folder.parents) if p.is_relative_to(hierarchy) and not p.exists()]
        folder.mkdir(parents=True, exist_ok=True)
        made += missing
        if hierarchy.name == "cpuset":
            parent = folder
            chain = []
            while parent != hierarchy:
                chain.append(parent)
                parent = parent.parent
            for step in reversed(chain):
                for knob in ("cpuset.cpus", "cpuset.mems"):
                    if not (step / knob).read_text().strip():
                        (step / knob).write_text((step.parent / knob).read_text())
    return made


def _cgroup_folders(relative: str) -> list[Path]:
    """Every folder of the node's cgroup tree in every hierarchy, deepest first (they vanish as we walk)."""
    found: list[Path] = []
    for hierarchy in _hierarchies():
        top = hierarchy / relative.lstrip("/")
        found += [Path(d) for d, _, _ in os.walk(top, topdown=False, onerror=lambda _: None)]
    return found


def _kill_cgroup_tree(relative: str) -> None:
    for folder in _cgroup_folders(relative):
        with contextlib.suppress(OSError):
            for pid in (folder / "cgroup.procs").read_text().split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)


def _remove_cgroup_tree(relative: str) -> None:
    """A cgroup can be removed once its processes are gone; the kernel takes a moment to reap them."""
    deadline = time.monotonic() + 10
    left = _cgroup_folders(relative)
    while left and time.monotonic() < deadline:
        for folder in left:
            with contextlib.suppress(OSError):
                folder.rmdir()
        left = _cgroup_folders(relative)
        if left:
            _kill_cgroup_tree(relative)
            time.sleep(0.1)


def _kill_shims(socket: Path, timeout: float = 10.0) -> None:
    """containerd's shims outlive it by design: ours are the ones started with our socket's address.
    Until none is left: one being started as we look (a sandbox still in flight) shows up a moment later."""
    deadline = time.monotonic() + timeout
    while (left := _shim_pids(socket)) and time.monotonic() < deadline:
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)


def _shim_pids(socket: Path) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv and argv[0].endswith(b"containerd-shim-runc-v2") and str(socket).encode() in argv:
                found.append(int(proc.name))
    return found
