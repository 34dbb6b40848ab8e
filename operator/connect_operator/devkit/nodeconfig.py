"""The node's configuration files, as pure functions of its folders, addresses and certificates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from connect_operator.devkit.nodenet import NodeNetwork

CNI_BIN_DIR = Path("/usr/lib/cni")  # Debian's containernetworking-plugins
CLUSTER_DOMAIN = "cluster.local"


@dataclass(frozen=True)
class NodeFolders:
    root: Path
    # A unix socket's path may hold 108 bytes at most (104 for some tools): a work folder under pytest's or a
    # user's temporary folder is often deeper than that, so what holds sockets (containerd's, and the kubelet's
    # root with its pod-resources and plugin sockets) gets a short folder of its own.
    short: Path

    @property
    def containerd_socket(self) -> Path:
        return self.short / "containerd.sock"

    @property
    def cni_conf(self) -> Path:
        return self.root / "cni" / "net.d"

    @property
    def pod_logs(self) -> Path:
        """Mounted over /var/log inside the node's mount namespace: kubelet 1.20 hardcodes /var/log/pods."""
        return self.root / "var-log"

    @property
    def kubelet_root(self) -> Path:
        return self.short / "kubelet"

    @property
    def kernel_flags(self) -> Path:
        return self.root / "kernel-flags"


def containerd_toml(folders: NodeFolders, pause_image: str) -> str:
    state = folders.root / "containerd"
    # TOML by hand: a flat document, and no TOML writer is a dependency of the project.
    return f"""version = 2
root = "{state}/root"
state = "{state}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "{folders.containerd_socket}"

[ttrpc]
  address = "{folders.containerd_socket}.ttrpc"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "{state}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{pause_image}"
  # The host's root may not lower oom_score_adj (no CAP_SYS_RESOURCE): every sandbox fails without this.
  restrict_oom_score_adj = true
  # Pod network namespaces under our state folder, not the host's /var/run/netns.
  netns_mounts_under_state_dir = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "runc"
        Root = "{state}/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{CNI_BIN_DIR}"
    conf_dir = "{folders.cni_conf}"
"""


def cni_conflist(network: NodeNetwork, folders: NodeFolders) -> str:
    bridge = {
        "type": "bridge",
        "bridge": "kco0",
        "isGateway": True,
        # No masquerade: the host has a route to the Pod subnet, so Pods keep their addresses end to end.
        "ipMasq": False,
        "hairpinMode": True,
        "ipam": {
            "type": "host-local",
            "ranges": [[{"subnet": network.pod_cidr, "gateway": network.pod_gateway}]],
            "routes": [{"dst": "0.0.0.0/0"}],
            "dataDir": str(folders.root / "cni" / "ipam"),
        },
    }
    portmap = {"type": "portmap", "capabilities": {"portMappings": True}}
    return json.dumps({"cniVersion": "0.4.0", "name": "kco", "plugins": [bridge, portmap]}, indent=2)


def kubelet_yaml(network: NodeNetwork, ca: Path, serving: tuple[Path, Path], cgroup_root: str, resolv: Path) -> str:
    config = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": network.node_address,
        "port": 10250,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": False},
            "x509": {"clientCAFile": str(ca)},
        },
        # Only holders of a certificate from the control plane's CA get here (the apiserver): a dev node.
        "authorization": {"mode": "AlwaysAllow"},
        "tlsCertFile": str(serving[0]),
        "tlsPrivateKeyFile": str(serving[1]),
        "cgroupDriver": "cgroupfs",
        "cgroupRoot": cgroup_root,
        "clusterDNS": [network.host_address],
        "clusterDomain": CLUSTER_DOMAIN,
        "resolvConf": str(resolv),
        "failSwapOn": False,
        # A developer's disk is often fuller than the defaults allow; evicting test Pods would only confuse.
        "evictionHard": {"memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%"},
        "imageGCHighThresholdPercent": 100,
        "imageGCLowThresholdPercent": 99,
        "serializeImagePulls": False,
        "syncFrequency": "10s",
        "fileCheckFrequency": "10s",
        "nodeStatusUpdateFrequency": "5s",
        "maxPods": 110,
    }
    return yaml.safe_dump(config)


def kube_proxy_yaml(network: NodeNetwork, node_name: str, kubeconfig: Path) -> str:
    config = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(kubeconfig)},
        "mode": "iptables",
        "hostnameOverride": node_name,
        "bindAddress": network.node_address,
        "clusterCIDR": network.pod_cidr,
        "healthzBindAddress": "127.0.0.1:10256",
        "metricsBindAddress": "127.0.0.1:10249",
        # Pods on one bridge answer each other directly; masquerading every Service hop makes the reply come
        # back through the bridge's address, where conntrack undoes the DNAT (no br_netfilter needed).
        "iptables": {"masqueradeAll": True, "syncPeriod": "5s", "minSyncPeriod": "0s"},
        # Zeros leave the conntrack table size and timeouts alone: those are host-wide kernel settings.
        "conntrack": {"maxPerCore": 0, "min": 0, "tcpEstablishedTimeout": "0s", "tcpCloseWaitTimeout": "0s"},
    }
    return yaml.safe_dump(config)


def kubeconfig_yaml(server: str, ca: Path, cert: Path, key: Path, server_name: str | None = None) -> str:
    cluster: dict[str, str] = {"server": server, "certificate-authority": str(ca)}
    if server_name:
        # The node dials the apiserver through a forward, at an address its certificate does not name.
        cluster["tls-server-name"] = server_name
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kco", "cluster": cluster}],
            "users": [{"name": "kco", "user": {"client-certificate": str(cert), "client-key": str(key)}}],
            "contexts": [{"name": "kco", "context": {"cluster": "kco", "user": "kco"}}],
            "current-context": "kco",
        }
    )
