"""How a sync reads its cluster's Connectors: a page at a time from a namespace shared with other clusters,
keeping only its own and none of their managedFields; a continue token that outlived etcd's compaction
(410 Gone, on a long read) starts the list again. Against a real apiserver and etcd."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic

from connect_operator.devkit import k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.stack import install_crds
from connect_operator.kube import resources
from connect_worker import settings

pytestmark = pytest.mark.kube

# spec.cluster, then status.cluster (a Connector moving from "a" to "b" is still placed in "a").
PLACED = {"a-1": "a", "a-2": "a", "a-3": "a", "b-1": "b", "b-2": "b", "moving": "b", "a-4": "a"}


def _connector(name: str, cluster: str) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {"cluster": cluster, "class": "FileStreamSource", "tasksMax": 1, "config": {"topic": "t"}},
    }


def _create_all(crds: dynamic.DynamicClient, namespace: str) -> None:
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    for name, cluster in PLACED.items():
        connectors.create(namespace=namespace, body=_connector(name, cluster))
    moving = connectors.get(namespace=namespace, name="moving")
    connectors.status.patch(
        namespace=namespace,
        name="moving",
        body={"status": {"cluster": "a"}, "metadata": {"resourceVersion": moving.metadata.resourceVersion}},
        content_type="application/merge-patch+json",
    )


def test_a_cluster_reads_its_own_connectors_over_several_pages_without_their_managed_fields(
    crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str
) -> None:
    _create_all(crds, namespace)
    found = resources.connectors_of(api, namespace, "a", page=2)
    assert sorted(o["metadata"]["name"] for o in found) == ["a-1", "a-2", "a-3", "a-4", "moving"]
    assert all("managedFields" not in o["metadata"] for o in found)
    assert all(o["metadata"]["resourceVersion"] and o["spec"]["class"] for o in found), "the rest is kept"
    assert sorted(o["metadata"]["name"] for o in resources.connectors_of(api, namespace, "b", page=2)) == [
        "b-1",
        "b-2",
        "moving",
    ]


@pytest.fixture
def own_plane(tmp_path: Path) -> Iterator[ControlPlane]:
    """A control plane of its own: compacting etcd would expire the shared one's watches in other tests."""
    plane = ControlPlane(k8sbuild.locate(settings.cache_dir()), tmp_path / "kube")
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


def _compact(etcd_url: str) -> None:
    etcdctl = [str(Path(str(k8sbuild.etcd_binary())).with_name("etcdctl")), "--endpoints", etcd_url]
    status = subprocess.run([*etcdctl, "endpoint", "status", "-w", "json"], capture_output=True, check=True)
    revision = json.loads(status.stdout)[0]["Status"]["header"]["revision"]
    subprocess.run([*etcdctl, "compact", str(revision)], capture_output=True, check=True)


def test_a_list_whose_continue_token_was_compacted_away_starts_again_and_misses_none(
    own_plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = config.new_client_from_config(str(own_plane.endpoints.kubeconfig))
    install_crds(api)
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name="paged")))
    _create_all(dynamic.DynamicClient(api), "paged")
    real = client.CustomObjectsApi.list_namespaced_custom_object
    answers: list[str] = []

    def list_then_compact_once(self: client.CustomObjectsApi, *args: Any, **kwargs: Any) -> Any:
        try:
            listed = real(self, *args, **kwargs)
        except client.ApiException as exc:
            answers.append(str(exc.status))
            raise
        answers.append("page")
        if answers == ["page"]:
            # A write after the first page, then its revision compacted: the token's revision is gone.
            client.CoreV1Api(api).create_namespaced_config_map(
                "paged", client.V1ConfigMap(metadata=client.V1ObjectMeta(name="bump"))
            )
            _compact(own_plane.etcd_url)
        return listed

    monkeypatch.setattr(client.CustomObjectsApi, "list_namespaced_custom_object", list_then_compact_once)
    found = resources.connectors_of(api, "paged", "a", page=2)
    assert answers[:2] == ["page", "410"], answers
    assert sorted(o["metadata"]["name"] for o in found) == ["a-1", "a-2", "a-3", "a-4", "moving"]
