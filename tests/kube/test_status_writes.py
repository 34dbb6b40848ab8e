"""Status fields that several writers add to at once (a KafkaConnect's leftoverConnectors, from many delete
handlers): each write is conditional on what it read, so none drops another's. Against a real apiserver,
whose 409 Conflict on a stale resourceVersion is what makes that true."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.kube import resources

pytestmark = pytest.mark.kube

WRITERS = 12


def _add(name: str) -> Any:
    def add(status: dict[str, Any]) -> dict[str, Any]:
        return {**status, "leftoverConnectors": sorted({*(status.get("leftoverConnectors") or ()), name})}

    return add


def _writers_at_once(api: client.ApiClient, namespace: str, names: list[str]) -> None:
    start = threading.Barrier(len(names))

    def write(name: str) -> None:
        start.wait(10)
        resources.update_status(api, resources.KAFKACONNECTS, namespace, "shared", _add(name), attempts=len(names))

    threads = [threading.Thread(target=write, args=(n,)) for n in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)


def test_names_added_at_once_by_many_writers_are_all_kept(
    crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str
) -> None:
    kafkaconnects = crds.resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    body = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "KafkaConnect",
        "metadata": {"name": "shared"},
        "spec": {"bootstrapServers": "broker:9092"},
    }
    kafkaconnects.create(namespace=namespace, body=body)
    names = [f"left-{n:02d}" for n in range(WRITERS)]
    _writers_at_once(api, namespace, names)
    status = kafkaconnects.get(namespace=namespace, name="shared").status
    assert status["leftoverConnectors"] == names


def test_a_status_of_a_deleted_object_is_not_an_error(api: client.ApiClient, namespace: str) -> None:
    # The KafkaConnect went while a handler was about to record on it: nothing to write, nothing raised.
    resources.update_status(api, resources.KAFKACONNECTS, namespace, "never-made", _add("x"))
