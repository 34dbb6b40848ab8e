"""The node's own network: a network namespace, a veth link to the host and a Pod subnet behind it.

Everything a node changes lives in a namespace the devkit creates: its iptables rules (kube-proxy's,
the CNI plugin's), its IP forwarding and its routes. The host keeps its own settings (forwarding off,
no new iptables chains); deleting the namespace removes every trace, veth included.

    host netns                          node netns (kco-node-N)
    10.243.N.1 (kcoh-N) ─── veth ─── 10.243.N.2 (eth0)
      apiserver forward, broker,          kubelet, kube-proxy, containerd
      cluster DNS listen here             bridge kco0 10.244.N.1/24 ── Pods 10.244.N.x
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from connect_worker.errors import WorkerStartError

_NAMESPACE_PREFIX = "kco-node-"
_NETNS_DIR = Path("/var/run/netns")
BRIDGE = "kco0"
SERVICE_CIDR = "10.96.0.0/12"


@dataclass(frozen=True)
class NodeNetwork:
    index: int
    namespace: str
    host_link: str

    @property
    def host_address(self) -> str:
        """Where Pods reach the host: the apiserver's forward, the broker and the cluster DNS bind here."""
        return f"10.243.{self.index}.1"

    @property
    def node_address(self) -> str:
        """The node's InternalIP: the apiserver dials the kubelet here (logs, exec)."""
        return f"10.243.{self.index}.2"

    @property
    def pod_cidr(self) -> str:
        return f"10.244.{self.index}.0/24"

    @property
    def pod_gateway(self) -> str:
        return f"10.244.{self.index}.1"

    @property
    def netns_path(self) -> Path:
        return _NETNS_DIR / self.namespace

    def in_namespace(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.namespace, *argv]

    def holds(self, address: str) -> bool:
        return ipaddress.ip_address(address) in ipaddress.ip_network(self.pod_cidr)


def create() -> NodeNetwork:
    """The first free index: `ip netns add` fails when the name exists, so two runs never share one."""
    for index in range(1, 255):
        namespace = f"{_NAMESPACE_PREFIX}{index}"
        if (_NETNS_DIR / namespace).exists() or host_has_address(f"10.243.{index}.1"):
            continue
        if subprocess.run(["ip", "netns", "add", namespace], capture_output=True, check=False).returncode != 0:
            continue
        network = NodeNetwork(index, namespace, f"kcoh-{index}")
        try:
            _wire(network)
        except BaseException:
            delete(network)
            raise
        return network
    raise WorkerStartError("No free node network: 254 kco-node-* network namespaces exist (`ip netns list`).")


def delete(network: NodeNetwork, timeout: float = 10.0) -> str | None:
    """Removes the namespace (and with it the node end of the veth, its routes and iptables rules).
    Returns None once it is gone, else why not: the caller keeps what a later run needs to try again."""
    if network.host_link:
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "del", network.host_link)
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(["ip", "netns", "del", network.namespace], capture_output=True, text=True, check=False)
        if not (_NETNS_DIR / network.namespace).exists():
            return None
        # A process still leaving the namespace (a container's last one) can keep its file busy a moment.
        if time.monotonic() >= deadline:
            return f"ip netns del {network.namespace}: {done.stderr.strip() or 'the namespace is still there'}"
        time.sleep(0.2)


def leftovers() -> list[str]:
    """Namespaces of earlier runs whose devkit died before cleaning up (for `kco dev doctor`-style hints)."""
    if not _NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in _NETNS_DIR.iterdir() if p.name.startswith(_NAMESPACE_PREFIX))


def _wire(network: NodeNetwork) -> None:
    node_link = f"kcon-{network.index}"
    _ip("link", "add", network.host_link, "type", "veth", "peer", "name", node_link)
    _ip("link", "set", node_link, "netns", network.namespace)
    _ip("addr", "add", f"{network.host_address}/30", "dev", network.host_link)
    _ip("link", "set", network.host_link, "up")
    # The host reaches Pods (tests, the operator run outside the node) through the node's end.
    _ip("route", "add", network.pod_cidr, "via", network.node_address, "dev", network.host_link)
    inside = network.in_namespace
    _run(inside(["ip", "link", "set", node_link, "name", "eth0"]))
    _run(inside(["ip", "addr", "add", f"{network.node_address}/30", "dev", "eth0"]))
    _run(inside(["ip", "link", "set", "eth0", "up"]))
    _run(inside(["ip", "link", "set", "lo", "up"]))
    _run(inside(["ip", "route", "add", "default", "via", network.host_address]))
    # Forwarding inside the node's namespace only: the bridge, Services and the veth route through it.
    _run(inside(["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]))


def host_has_address(address: str) -> bool:
    shown = subprocess.run(["ip", "-o", "addr", "show"], capture_output=True, text=True, check=False).stdout
    return f" {address}/" in shown


def _ip(*args: str) -> None:
    _run(["ip", *args])


def _run(argv: Sequence[str]) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=30)
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, list(argv), done.stdout, done.stderr)
