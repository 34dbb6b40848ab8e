"""A real kube-apiserver and controller-manager for the whole session, and a namespace per test."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import yaml
from kubernetes import client, config, dynamic

from connect_operator import runner
from connect_operator.api import crdgen
from connect_operator.devkit import k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.settings import OperatorSettings
from connect_worker import settings
from tests.support.polling import poll_until


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    plane = ControlPlane(k8sbuild.locate(settings.cache_dir()), tmp_path_factory.mktemp("kube"))
    plane.start()
    try:
        yield plane
    finally:
        plane.stop()


@pytest.fixture(scope="session")
def api(control_plane: ControlPlane) -> client.ApiClient:
    return config.new_client_from_config(str(control_plane.endpoints.kubeconfig))


@pytest.fixture
def namespace(api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    name = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:50].strip("-")
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    client.CoreV1Api(api).delete_namespace(name)


@pytest.fixture(scope="session")
def crds(api: client.ApiClient) -> dynamic.DynamicClient:
    """The generated CRDs installed and established; a dynamic client that knows them."""
    definitions = dynamic.DynamicClient(api).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    for text in crdgen.render_all().values():
        definitions.server_side_apply(body=yaml.safe_load(text), field_manager="kco-test")

    def established() -> bool:
        for resource in crdgen.RESOURCES:
            conditions = definitions.get(name=f"{resource.plural}.kco.dev").status.conditions or []
            if not any(c.type == "Established" and c.status == "True" for c in conditions):
                return False
        return True

    poll_until(established, 30, "the CRDs established")
    return dynamic.DynamicClient(api)


@dataclass
class RunningOperator:
    settings: OperatorSettings
    thread: threading.Thread
    stop: threading.Event


@pytest.fixture
def operator(control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str) -> Iterator[RunningOperator]:
    """The real operator (kopf, in a thread) watching this test's namespace."""
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        kafka_admin_timeout_seconds=10,
    )
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=runner.run, args=(settings, stop, ready), daemon=True, name="operator")
    thread.start()
    assert ready.wait(30), "the operator did not start"
    yield RunningOperator(settings, thread, stop)
    stop.set()
    thread.join(30)
