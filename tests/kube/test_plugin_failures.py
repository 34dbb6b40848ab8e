"""A plugin that cannot be fetched, on the whole stack: operator, control plane, pod runner (the kubelet), a
real init container process and a local HTTP server; then the fixed URL, through a proxy named in the
spec's init container env, brings a real plugin to Connect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner
from connect_worker import settings
from connect_worker.testbed import Testbed
from tests.kube.conftest import kafkaconnect_manifest
from tests.support.plugin_artifacts import BuiltPlugin, compile_connectors, sha512
from tests.support.polling import poll_until
from tests.support.served import ForwardProxy, ServedFolder, forward_proxy, serve_folder

pytestmark = [pytest.mark.kube, pytest.mark.e2e]
TOKEN = "kco-secret-download-token"


@pytest.fixture
def www(tmp_path: Path) -> Iterator[ServedFolder]:
    with serve_folder(tmp_path / "www") as served:
        yield served


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    with forward_proxy() as forwarding:
        yield forwarding


@pytest.fixture(scope="module")
def alpha(tmp_path_factory: pytest.TempPathFactory) -> BuiltPlugin:
    libs = settings.cache_dir() / "connect-3.9.0" / "libs"
    return compile_connectors(["Alpha"], libs, tmp_path_factory.mktemp("javac"))[0]


def _ready(obj: Any) -> dict[str, Any]:
    return next((c for c in (obj.status or {}).get("conditions") or [] if c["type"] == "Ready"), {})


def _init_status(api: client.ApiClient, namespace: str) -> Any:
    pods: list[Any] = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="kco.dev/cluster=local").items
    statuses = [s for p in pods if not p.metadata.deletion_timestamp for s in p.status.init_container_statuses or []]
    return statuses[0] if len(statuses) == 1 else None


def _warnings(api: client.ApiClient, namespace: str) -> list[Any]:
    events = client.CoreV1Api(api).list_namespaced_event(namespace).items
    return [e for e in events if e.involved_object.kind == "KafkaConnect" and e.type == "Warning"]


def test_an_unreachable_plugin_url_is_named_in_ready_with_one_warning_and_the_fixed_url_through_a_proxy_makes_it_ready(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    www: ServedFolder,
    proxy: ForwardProxy,
    alpha: BuiltPlugin,
) -> None:
    (www.root / "alpha.jar").write_bytes(alpha.jar)
    missing = f"{www.url}/gone/alpha.jar"  # the server answers 404
    artifact = {"url": f"{missing}?token={TOKEN}", "sha512": sha512(alpha.jar), "type": "jar"}
    body = kafkaconnect_manifest(namespace, testbed, replicas=1, plugins=[{"name": "alpha", "artifacts": [artifact]}])
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    kafkaconnects.create(namespace=namespace, body=body)

    def failed() -> dict[str, Any] | None:
        ready = _ready(kafkaconnects.get(namespace=namespace, name="local"))
        return ready if ready.get("reason") == "PluginInstallFailed" else None

    ready = poll_until(failed, 60, "Ready=False PluginInstallFailed")
    assert ready["status"] == "False"
    assert (
        ready["message"]
        == f"init container failed: plugin alpha: cannot download {missing}: HTTP Error 404: File not found"
    )

    # As a kubelet reports it: the init container's exit code and termination message, then its restart.
    init = poll_until(
        lambda: (s := _init_status(api, namespace)) and s.restart_count >= 1 and s.state.waiting and s,
        60,
        "the init container failed again after its restart",
    )
    assert init.last_state.terminated.exit_code == 2
    assert init.last_state.terminated.message.startswith(
        f"PluginInstallFailed: plugin alpha: cannot download {missing}"
    )

    # The fix, fetched through the proxy that the init container's env from the spec names.
    artifact["url"] = f"{www.url}/alpha.jar"
    fixed = {
        "plugins": [{"name": "alpha", "artifacts": [artifact]}],
        "template": {"initContainer": {"env": [{"name": "HTTP_PROXY", "value": proxy.url}]}},
    }
    kafkaconnects.patch(
        namespace=namespace, name="local", body={"spec": fixed}, content_type="application/merge-patch+json"
    )

    def ready_with_alpha() -> Any:
        current = kafkaconnects.get(namespace=namespace, name="local")
        listed = {p["class"] for p in (current.status or {}).get("connectorPlugins") or []}
        return current if _ready(current).get("status") == "True" and alpha.class_name in listed else None

    poll_until(ready_with_alpha, 120, "Ready=True with the plugin listed by the worker")
    assert proxy.requested == [artifact["url"]]
    # Every status pass while both runs failed saw the same failure: one Warning, not one per pass or retry.
    warnings = [e for e in _warnings(api, namespace) if e.reason == "PluginInstallFailed"]
    assert [e.message for e in warnings] == [ready["message"]]
    assert warnings[0].count in (None, 1)
    seen = [ready["message"], init.last_state.terminated.message, *(e.message for e in warnings)]
    assert not [text for text in seen if TOKEN in text], "the download token stays out of status and Events"
