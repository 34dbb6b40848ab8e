"""The real node's pure parts: the cluster DNS's wire format, the flags per Kubernetes version, its configs."""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import pytest
import yaml

from connect_operator.devkit import apiserverendpoints, clusterdns, kubeversions, nodeconfig
from connect_operator.devkit.kubeversions import Version
from connect_operator.devkit.nodenet import NodeNetwork

pytestmark = pytest.mark.unit

NETWORK = NodeNetwork(7, "kco-node-7", "kcoh-7")


def _query(name: str, qtype: int = 1, query_id: int = 0x1234) -> bytes:
    """A query as glibc sends one (RFC 1035 4.1): header with RD set, one question."""
    header = struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0)
    labels = b"".join(bytes([len(part)]) + part.encode() for part in name.split("."))
    return header + labels + b"\0" + struct.pack("!HH", qtype, 1)


def _decode(response: bytes) -> tuple[int, int, list[str]]:
    query_id, flags, _, answers, _, _ = struct.unpack("!HHHHHH", response[:12])
    # Skip the echoed question: the name's labels, then type and class.
    offset = 12
    while response[offset]:
        offset += response[offset] + 1
    offset += 5
    addresses = []
    for _ in range(answers):
        pointer, rtype, rclass, _, length = struct.unpack("!HHHIH", response[offset : offset + 12])
        assert (pointer, rtype, rclass, length) == (0xC00C, 1, 1, 4)
        addresses.append(socket.inet_ntoa(response[offset + 12 : offset + 16]))
        offset += 16
    return query_id, flags, addresses


def _lookup(namespace: str, name: str) -> list[str]:
    return {("shop", "orders-connect-api"): ["10.96.4.2"]}.get((namespace, name), [])


def test_a_services_name_resolves_to_its_cluster_ip() -> None:
    response = clusterdns.respond(_query("orders-connect-api.shop.svc.cluster.local"), _lookup, "cluster.local")
    assert response is not None
    query_id, flags, addresses = _decode(response)
    assert query_id == 0x1234 and flags & 0x8000 and flags & 0x0100 and flags & 0xF == 0
    assert addresses == ["10.96.4.2"]


@pytest.mark.parametrize(
    "name",
    [
        "missing.shop.svc.cluster.local",  # no such Service
        "orders-connect-api.shop.svc.shop.svc.cluster.local",  # a search domain tried first (ndots 5)
        "deb.debian.org",  # not a cluster name: no upstream here
        "shop.svc.cluster.local",
    ],
)
def test_other_names_do_not_exist(name: str) -> None:
    response = clusterdns.respond(_query(name), _lookup, "cluster.local")
    assert response is not None
    _, flags, addresses = _decode(response)
    assert flags & 0xF == 3 and addresses == []


def test_aaaa_for_a_service_is_an_empty_answer_not_nxdomain() -> None:
    """Resolvers ask A and AAAA together; NXDOMAIN for AAAA would make some give up on the A record."""
    response = clusterdns.respond(
        _query("orders-connect-api.shop.svc.cluster.local", qtype=28), _lookup, "cluster.local"
    )
    assert response is not None
    _, flags, addresses = _decode(response)
    assert flags & 0xF == 0 and addresses == []


def test_garbage_gets_a_format_error_and_a_short_packet_nothing() -> None:
    response = clusterdns.respond(b"\x00\x07" + b"\xff" * 20, _lookup, "cluster.local")
    assert response is not None and struct.unpack("!HH", response[:4]) == (7, 0x8001)
    assert clusterdns.respond(b"\x01", _lookup, "cluster.local") is None


def test_the_server_answers_over_udp_on_loopback() -> None:
    with clusterdns.ClusterDns("127.0.0.1", _lookup, port=0) as server:
        port = server._socket.getsockname()[1]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            client.settimeout(5)
            client.sendto(_query("orders-connect-api.shop.svc.cluster.local"), ("127.0.0.1", port))
            _, _, addresses = _decode(client.recv(512))
    assert addresses == ["10.96.4.2"]


@pytest.mark.parametrize(
    ("version", "apiserver", "controller_manager", "scheduler", "runtime_flag"),
    [
        (Version(1, 20, 2), ["--insecure-port=0"], ["--port=0"], ["--port=0"], True),
        (Version(1, 23, 5), ["--insecure-port=0"], ["--port=0"], [], True),
        (Version(1, 24, 0), [], [], [], False),
        (Version(1, 31, 2), [], [], [], False),
    ],
)
def test_removed_flags_go_only_to_the_releases_that_still_take_them(
    version: Version, apiserver: list[str], controller_manager: list[str], scheduler: list[str], runtime_flag: bool
) -> None:
    assert kubeversions.apiserver_version_flags(version) == apiserver
    assert kubeversions.controller_manager_version_flags(version) == controller_manager
    assert kubeversions.scheduler_version_flags(version) == scheduler
    kubelet = kubeversions.kubelet_version_flags(version, "unix:///run/c.sock")
    assert ("--container-runtime=remote" in kubelet) is runtime_flag
    assert "--container-runtime-endpoint=unix:///run/c.sock" in kubelet


@pytest.mark.parametrize(
    ("printed", "version"),
    [("Kubernetes v1.20.2\n", Version(1, 20, 2)), ("v1.31.0+k3s1", Version(1, 31, 0))],
)
def test_versions_are_read_as_binaries_print_them(printed: str, version: Version) -> None:
    assert Version.parse(printed) == version


def test_assets_come_from_the_envtest_variable_only_when_it_is_set() -> None:
    assert kubeversions.assets_dir({}) is None
    assert kubeversions.assets_dir({"KUBEBUILDER_ASSETS": " "}) is None
    assert kubeversions.assets_dir({"KUBEBUILDER_ASSETS": "/opt/k8s"}) == Path("/opt/k8s")


def test_the_kubelet_keeps_to_its_own_cgroup_dns_and_node_address(tmp_path: Path) -> None:
    config = yaml.safe_load(
        nodeconfig.kubelet_yaml(NETWORK, tmp_path / "ca", (tmp_path / "c", tmp_path / "k"), "/own/kco-node-7", tmp_path)
    )
    assert config["cgroupRoot"] == "/own/kco-node-7"
    assert config["clusterDNS"] == ["10.243.7.1"] and config["address"] == "10.243.7.2"
    assert config["authentication"]["anonymous"]["enabled"] is False


def test_kube_proxy_leaves_the_hosts_conntrack_settings_alone() -> None:
    config = yaml.safe_load(nodeconfig.kube_proxy_yaml(NETWORK, "kco-node-7", Path("/k")))
    assert config["mode"] == "iptables"
    assert config["conntrack"] == {
        "maxPerCore": 0,
        "min": 0,
        "tcpEstablishedTimeout": "0s",
        "tcpCloseWaitTimeout": "0s",
    }


def test_pods_get_the_nodes_subnet_and_no_masquerade(tmp_path: Path) -> None:
    folders = nodeconfig.NodeFolders(tmp_path, tmp_path / "s")
    (bridge, _) = json.loads(nodeconfig.cni_conflist(NETWORK, folders))["plugins"]
    assert bridge["ipam"]["ranges"] == [[{"subnet": "10.244.7.0/24", "gateway": "10.244.7.1"}]]
    assert bridge["ipMasq"] is False


def test_containerd_keeps_pod_namespaces_and_runc_state_in_its_own_folder(tmp_path: Path) -> None:
    text = nodeconfig.containerd_toml(nodeconfig.NodeFolders(tmp_path, tmp_path / "s"), "localhost/kco/pause:1")
    assert "restrict_oom_score_adj = true" in text and "netns_mounts_under_state_dir = true" in text
    assert f'Root = "{tmp_path}/containerd/runc"' in text
    assert 'sandbox_image = "localhost/kco/pause:1"' in text


@pytest.mark.parametrize(
    ("current", "add", "remove", "gone", "published"),
    [
        ([], "10.243.1.1", None, set(), ["10.243.1.1"]),
        (["10.243.1.1"], "10.243.2.1", None, set(), ["10.243.1.1", "10.243.2.1"]),
        (["10.243.1.1", "10.243.2.1"], None, "10.243.2.1", set(), ["10.243.1.1"]),
        # A node killed without stopping: its address left the host, so the next write drops it.
        (["10.243.1.1", "10.243.2.1"], "10.243.3.1", None, {"10.243.2.1"}, ["10.243.1.1", "10.243.3.1"]),
        (["10.243.1.1"], "10.243.1.1", None, set(), ["10.243.1.1"]),
        (["10.243.1.1"], None, "10.243.1.1", set(), []),
    ],
)
def test_the_apiserver_endpoints_list_every_live_node_and_no_gone_one(
    current: list[str], add: str | None, remove: str | None, gone: set[str], published: list[str]
) -> None:
    assert apiserverendpoints.merged(current, add, remove, alive=lambda ip: ip not in gone) == published
