"""The generated CRDs on the real apiserver: they install, and every example passes their schema."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from kubernetes import dynamic
from kubernetes.client.exceptions import ApiException

pytestmark = pytest.mark.kube

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def installed(crds: dynamic.DynamicClient) -> dynamic.DynamicClient:
    return crds


def test_every_example_passes_the_served_schema(installed: dynamic.DynamicClient, namespace: str) -> None:
    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            resource = installed.resources.get(api_version=document["apiVersion"], kind=document["kind"])
            created = resource.create(body=document, namespace=namespace, query_params=[("dryRun", "All")])
            assert created.metadata.name == document["metadata"]["name"], path


def test_schema_violations_are_refused_by_the_apiserver(installed: dynamic.DynamicClient, namespace: str) -> None:
    connectors = installed.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    bad = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": "bad"},
        "spec": {"class": "C", "tasksMax": 0, "state": "sleeping"},
    }
    with pytest.raises(ApiException) as refused:
        connectors.create(body=bad, namespace=namespace)
    assert refused.value.status == 422
    body = str(refused.value.body)
    assert "spec.tasksMax" in body and "spec.state" in body
    assert "spec.cluster: Required value" in body, "a Connector must name its cluster"


def test_a_tasks_max_beyond_the_ceiling_is_refused_by_the_apiserver(
    installed: dynamic.DynamicClient, namespace: str
) -> None:
    connectors = installed.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    typo = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": "typo"},
        "spec": {"cluster": "c", "class": "C", "tasksMax": 100000},
    }
    with pytest.raises(ApiException) as refused:
        connectors.create(body=typo, namespace=namespace)
    assert refused.value.status == 422 and "spec.tasksMax" in str(refused.value.body)
