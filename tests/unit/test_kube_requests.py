"""The operator's count of its own Kubernetes requests: every call through its client, by verb and resource."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from connect_operator.kube import client as kube
from connect_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("url", "resource"),
    [
        ("https://h/apis/kco.dev/v1alpha1/namespaces/ns/connectors", "connectors"),
        ("https://h/apis/kco.dev/v1alpha1/namespaces/ns/connectors/c1/status?x=1", "connectors/status"),
        ("https://h/api/v1/namespaces/ns/secrets/db", "secrets"),
        ("https://h/api/v1/namespaces/ns", "namespaces"),
        ("https://h/api/v1/nodes/n1", "nodes"),
        ("https://h/apis", ""),
    ],
)
def test_a_request_is_counted_by_the_resource_its_url_names(url: str, resource: str) -> None:
    assert kube.resource_of(url) == resource


class _Answer(http.server.BaseHTTPRequestHandler):
    def _reply(self) -> None:
        body = json.dumps({"items": [], "metadata": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PATCH = _reply

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_every_call_of_the_generated_apis_is_told_with_its_verb_and_resource(server: str, tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    seen: list[tuple[str, str]] = []
    api = kube.api_client(OperatorSettings(kubeconfig=str(kubeconfig)), on_request=lambda *r: seen.append(r))
    client.CustomObjectsApi(api).list_namespaced_custom_object("kco.dev", "v1alpha1", "ns", "connectors")
    client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
        "kco.dev", "v1alpha1", "ns", "connectors", "c1", {"status": {}}
    )
    assert seen == [("GET", "connectors"), ("PATCH", "connectors/status")]
