"""Names Kubernetes forbids, connectors nobody declares, and one-shot requests that survive a lost status.

Real control plane, a real Connect worker in a Pod (the pod runner), the operator in a thread.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, dynamic

from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER
from tests.support.connect_http import call
from tests.support.polling import poll_until
from tests.support.resources import MERGE, SOURCE, condition, events, in_connect, ready_cluster, source_connector

pytestmark = [pytest.mark.kube, pytest.mark.e2e]


def _url(api: client.ApiClient, namespace: str) -> str:
    return f"http://{kube.ready_pod_ips(api, namespace, f'kco.dev/cluster={LOCAL_CLUSTER}')[0]}:8083"


def _ready(obj: Any) -> dict[str, Any]:
    return condition(obj, "Ready")


def _get(resources: Any, namespace: str, name: str) -> Any:
    return resources.get(namespace=namespace, name=name)


def test_a_connector_name_kubernetes_forbids_is_managed_and_fixed_and_a_second_claimant_is_refused(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("my-source", tmp_path, connectorName="My_Source"))
    poll_until(
        lambda: _ready(connectors.get(namespace=namespace, name="my-source")).get("status") == "True", 120, "Ready"
    )
    assert in_connect(api, namespace) == ["My_Source"]
    connectors.create(namespace=namespace, body=source_connector("copycat", tmp_path, connectorName="My_Source"))
    conflict = poll_until(
        lambda: (
            (r := _ready(connectors.get(namespace=namespace, name="copycat"))).get("reason") == "NameConflict" and r
        ),
        30,
        "the second claimant refused",
    )
    assert "Connector my-source already manages connector My_Source" in conflict["message"]
    # The name is fixed once the connector exists: a rename is refused, the connector left as it is.
    connectors.patch(
        namespace=namespace, name="my-source", body={"spec": {"connectorName": "Other"}}, content_type=MERGE
    )
    poll_until(
        lambda: _ready(_get(connectors, namespace, "my-source")).get("reason") == "ConnectorNameImmutable",
        30,
        "the rename refused",
    )
    assert in_connect(api, namespace) == ["My_Source"]
    connectors.patch(
        namespace=namespace, name="my-source", body={"spec": {"connectorName": "My_Source"}}, content_type=MERGE
    )
    connectors.delete(namespace=namespace, name="copycat")
    connectors.delete(namespace=namespace, name="my-source")
    poll_until(lambda: in_connect(api, namespace) == [], 60, "My_Source deleted with its Connector")


def test_connectors_nobody_declares_are_reported_and_taken_over_only_when_the_cluster_adopts(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    kafkaconnects = ready_cluster(crds, namespace, testbed, unmanagedConnectors="report")
    (tmp_path / "in.txt").write_text("x\n")
    topic = f"{namespace}-hand"
    config = {"connector.class": SOURCE, "tasks.max": "1", "file": str(tmp_path / "in.txt"), "topic": topic}
    assert call("PUT", f"{_url(api, namespace)}/connectors/hand-made/config", config).status == 201
    poll_until(
        lambda: (
            kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).status.get("unmanagedConnectors")
            == ["hand-made"]
        ),
        60,
        "the hand-made connector reported",
    )
    # Events are posted apart from the status patch, so the Event may land a moment after it.
    reported = poll_until(
        lambda: [e.message for e in events(api, namespace, LOCAL_CLUSTER) if e.reason == "UnmanagedConnectors"],
        60,
        "an UnmanagedConnectors Event",
    )
    assert "hand-made" in reported[0]
    assert in_connect(api, namespace) == ["hand-made"], "reported, not deleted"
    # A Connector of that name does not take it over unless the cluster adopts: refused, left as it is.
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    declared = source_connector("hand-made", tmp_path)
    declared["spec"]["config"] = {"file": str(tmp_path / "in.txt"), "topic": topic}
    connectors.create(namespace=namespace, body=declared)

    def refused() -> dict[str, Any] | None:
        ready = _ready(_get(connectors, namespace, "hand-made"))
        return ready if "unmanagedConnectors: adopt" in ready.get("message", "") else None

    assert poll_until(refused, 60, "the takeover refused")["status"] == "False"
    # Adopted: the same config, so taken over with no write and no restart.
    adopt = {"spec": {"unmanagedConnectors": "adopt"}}
    kafkaconnects.patch(namespace=namespace, name=LOCAL_CLUSTER, body=adopt, content_type=MERGE)
    poll_until(lambda: _ready(_get(connectors, namespace, "hand-made")).get("status") == "True", 60, "adopted")
    done = [e.message for e in events(api, namespace, "hand-made") if e.reason == "Synced"]
    assert not done, f"adopting a matching connector writes nothing: {done}"


def test_a_restart_request_is_honoured_once_even_when_the_status_is_wiped(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    ready_cluster(crds, namespace, testbed)
    connectors = crds.resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    connectors.create(namespace=namespace, body=source_connector("once", tmp_path))
    poll_until(lambda: _ready(connectors.get(namespace=namespace, name="once")).get("status") == "True", 120, "Ready")
    connectors.patch(namespace=namespace, name="once", body={"spec": {"restart": {"id": "r1"}}}, content_type=MERGE)

    def restarts() -> int:
        return sum(e.count or 1 for e in events(api, namespace, "once") if "Restart(r1)" in (e.message or ""))

    poll_until(lambda: restarts() == 1, 60, "the restart done once")
    handled = connectors.get(namespace=namespace, name="once").to_dict()
    assert json.loads(handled["metadata"]["annotations"]["kco.dev/handled"]) == {
        "cluster": LOCAL_CLUSTER,
        "restart": "r1",
    }
    # A restore without status, or a lost status write: the status subresource emptied.
    custom = client.CustomObjectsApi(api)
    wiped: dict[str, Any] = custom.get_namespaced_custom_object(  # type: ignore[assignment]
        "kco.dev", "v1alpha1", namespace, "connectors", "once"
    )
    wiped["status"] = {}
    custom.replace_namespaced_custom_object_status("kco.dev", "v1alpha1", namespace, "connectors", "once", wiped)

    def rewritten() -> bool:
        status = connectors.get(namespace=namespace, name="once").to_dict().get("status") or {}
        return (status.get("handled") or {}).get("restart") == "r1" and bool(status.get("conditions"))

    poll_until(rewritten, 60, "the status written again, with the restart remembered")
    # A later sync, known to have acted on the spec that still asks for r1: an edit it carried out.
    edit = {"spec": {"config": {"batch.size": 100}}}
    connectors.patch(namespace=namespace, name="once", body=edit, content_type=MERGE)
    poll_until(
        lambda: call("GET", f"{_url(api, namespace)}/connectors/once/config").body.get("batch.size") == "100",
        60,
        "the edit in Connect",
    )
    assert restarts() == 1, "the wiped status did not make the operator restart the connector again"
