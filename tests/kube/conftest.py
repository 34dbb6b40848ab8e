"""A real kube-apiserver and controller-manager for the whole session, and a namespace per test."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.exceptions import ApiException

from connect_operator import runner
from connect_operator.devkit import k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.devkit.stack import install_crds
from connect_operator.settings import OperatorSettings
from connect_worker import settings
from connect_worker.testbed import Testbed


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
    try:
        client.CoreV1Api(api).delete_namespace(name)
    except ApiException as exc:
        if exc.status != 404:  # a test may have deleted it already
            raise


@pytest.fixture(scope="session")
def crds(api: client.ApiClient) -> dynamic.DynamicClient:
    """The generated CRDs installed and established; a dynamic client that knows them."""
    install_crds(api)
    return dynamic.DynamicClient(api)


@dataclass
class RunningOperator:
    settings: OperatorSettings


@contextlib.contextmanager
def running_operator(settings: OperatorSettings) -> Iterator[RunningOperator]:
    """The real operator (kopf) in a thread, stopped and joined on exit."""
    with runner.in_thread(settings, start_timeout=30):
        yield RunningOperator(settings)


@pytest.fixture
def operator(control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str) -> Iterator[RunningOperator]:
    """The operator watching this test's namespace."""
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        kafka_admin_timeout_seconds=10,
    )
    with running_operator(settings) as running:
        yield running


LOCAL_CLUSTER = "local"


def kafkaconnect_manifest(namespace: str, testbed: Testbed, **spec: Any) -> dict[str, Any]:
    """A 2-worker KafkaConnect on the test bed's broker, with topics of replication factor 1."""
    one = {"replicationFactor": 1}
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "KafkaConnect",
        "metadata": {"name": LOCAL_CLUSTER},
        "spec": {
            "replicas": 2,
            "bootstrapServers": testbed.bootstrap_servers,
            "groupId": f"{namespace}-workers",
            "internalTopics": {"config": one, "offset": one, "status": one},
            **spec,
        },
    }


@pytest.fixture
def pod_runner(api: client.ApiClient, testbed: Testbed, tmp_path: Path, namespace: str) -> Iterator[PodRunner]:
    assert testbed.runtime is not None
    with PodRunner(api, testbed.runtime, tmp_path / "pods", namespaces=(namespace,)) as running:
        yield running


@pytest.fixture
def local_operator(control_plane: ControlPlane, crds: dynamic.DynamicClient, namespace: str) -> Iterator[None]:
    """The operator as `kco dev` runs it: reaching the workers by Pod IP."""
    settings = OperatorSettings(
        kubeconfig=str(control_plane.endpoints.kubeconfig),
        namespaces=(namespace,),
        status_interval_seconds=2,
        rest_via_pod_ips=True,
    )
    with running_operator(settings):
        yield
