"""Connectors and KafkaConnects on the real control plane, for the whole-loop tests: make, wait, read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client, dynamic

from connect_operator.kube import client as kube
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support.connect_http import call
from tests.support.polling import poll_until

API_VERSION = "kco.dev/v1alpha1"
SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
MERGE = "application/merge-patch+json"


def source_connector(name: str, folder: Path, cluster: str = LOCAL_CLUSTER, **spec: Any) -> dict[str, Any]:
    """A FileStream source reading `folder/<name>.txt` into a topic of its own."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {
            "cluster": cluster,
            "class": SOURCE,
            "config": {"file": str(folder / f"{name}.txt"), "topic": f"{name}-{folder.name}"[:200]},
            **spec,
        },
    }


def condition(obj: Any, type_: str) -> dict[str, Any]:
    """A condition of a listed or fetched object ({} when absent)."""
    as_dict = obj.to_dict() if hasattr(obj, "to_dict") else obj
    status = as_dict.get("status") or {}
    return next((c for c in status.get("conditions") or [] if c["type"] == type_), {})


def ready_cluster(
    crds: dynamic.DynamicClient, namespace: str, testbed: Testbed, name: str = LOCAL_CLUSTER, **spec: Any
) -> Any:
    """A one-worker KafkaConnect on the test bed's broker, waited for until Ready; its dynamic resource."""
    manifest = kafkaconnect_manifest(namespace, testbed, **{"replicas": 1, **spec})
    manifest["metadata"]["name"] = name
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    kafkaconnects.create(namespace=namespace, body=manifest)
    poll_until(
        lambda: condition(kafkaconnects.get(namespace=namespace, name=name), "Ready").get("status") == "True",
        180,
        f"KafkaConnect {name} Ready with a real worker",
    )
    return kafkaconnects


def worker_url(api: client.ApiClient, namespace: str, cluster: str = LOCAL_CLUSTER) -> str | None:
    ips = kube.ready_pod_ips(api, namespace, f"kco.dev/cluster={cluster}")
    return f"http://{ips[0]}:8083" if ips else None


def in_connect(api: client.ApiClient, namespace: str, cluster: str = LOCAL_CLUSTER) -> list[str] | None:
    """The connectors the cluster's Connect lists; None while no worker answers."""
    url = worker_url(api, namespace, cluster)
    if url is None:
        return None
    answer = call("GET", f"{url}/connectors", timeout=5, rebalance_deadline=5)
    return sorted(answer.body) if answer.status == 200 else None


def events(api: client.ApiClient, namespace: str, name: str, type_: str | None = None) -> list[Any]:
    listed = client.CoreV1Api(api).list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
    return [e for e in listed.items if type_ is None or e.type == type_]


def warnings(api: client.ApiClient, namespace: str, name: str) -> list[tuple[str, str]]:
    return [(e.reason or "", e.message or "") for e in events(api, namespace, name, "Warning")]
