"""The Helm chart on the real control plane: every rendered object passes a server-side dry run, `helm install`
works (helm-python-sdk), and the operator runs under the installed ServiceAccount and RBAC alone."""

from __future__ import annotations

import base64
import copy
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml
from kubernetes import client, dynamic

from connect_operator.api import crdgen
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.settings import OperatorSettings
from connect_worker.testbed import Testbed
from tests.kube.conftest import kafkaconnect_manifest, running_operator
from tests.support.polling import poll_until
from tests.unit.test_helm_chart import OPTIONS

pytestmark = pytest.mark.kube

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "kafka-connect-operator"
FIELD_MANAGER = "kco-test"

# The local control plane has no prometheus-operator: a stub CRD lets the ServiceMonitor's kind and
# envelope be checked by the API server; its fields are checked by tests/unit/test_helm_chart.py.
SERVICE_MONITOR_STUB: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
    "spec": {
        "group": "monitoring.coreos.com",
        "scope": "Namespaced",
        "names": {"kind": "ServiceMonitor", "listKind": "ServiceMonitorList", "plural": "servicemonitors"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
            }
        ],
    },
}


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    helm.disable_logging()
    with helm.Chart.load(CHART) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def chart_crds(crds: dynamic.DynamicClient, chart: helm.Chart) -> Iterator[dynamic.DynamicClient]:
    """Our CRDs (the session's `crds`: Helm then skips them), kopf's peering CRDs and the ServiceMonitor stub."""
    definitions = crds.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    peering = [yaml.safe_load(c["data"]) for c in chart.crds if c["name"].startswith("crds/peering/")]
    assert len(peering) == 2
    bodies = [*peering, SERVICE_MONITOR_STUB]
    for body in bodies:
        definitions.server_side_apply(body=body, field_manager=FIELD_MANAGER)

    def established() -> bool:
        for body in bodies:
            conditions = definitions.get(name=body["metadata"]["name"]).status.conditions or []
            if not any(c.type == "Established" and c.status == "True" for c in conditions):
                return False
        return True

    poll_until(established, 30, "the chart's CRDs established")
    yield crds
    definitions.delete(name=SERVICE_MONITOR_STUB["metadata"]["name"])


def _watching(values: dict[str, Any], namespaces: list[str]) -> dict[str, Any]:
    """The option with its watched namespaces replaced by ones that exist here."""
    values = copy.deepcopy(values)
    if values.get("watchNamespaces"):
        values["watchNamespaces"] = namespaces
    return values


# A short name: the namespace fixture names each test's namespace after the test, cut at 50 characters.
@pytest.mark.parametrize("option", OPTIONS)
def test_server_side_dry_run(chart: helm.Chart, chart_crds: dynamic.DynamicClient, namespace: str, option: str) -> None:
    """Every object the chart renders for the option is accepted by the API server (dryRun=All)."""
    values = _watching(OPTIONS[option], [namespace, "default"])
    manifests = chart.render(values, name="dry", namespace=namespace, is_install=True)
    objects = [d for p, t in sorted(manifests.items()) if p.endswith(".yaml") for d in yaml.safe_load_all(t) if d]
    assert objects
    for obj in objects:
        resource = chart_crds.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        where = obj["metadata"].get("namespace") if resource.namespaced else None
        created = resource.create(body=obj, namespace=where, query_params=[("dryRun", "All")])
        assert created.metadata.name == obj["metadata"]["name"], obj["kind"]


def _chart_with_generated_crds(target: Path) -> Path:
    """The chart with its crds/ written from the types, as the session's `crds` fixture applied them.

    Helm 4 server-side applies the CRDs of crds/ (as field manager "python3" here): the same content as
    what the session installed shares the fields, while a crds/ folder behind the types (caught by
    tests/unit/test_crds.py) would conflict with it.
    """
    shutil.copytree(CHART, target, ignore=shutil.ignore_patterns("crds"))
    (target / "crds" / crdgen.PEERING_DIR).mkdir(parents=True)
    for name, text in crdgen.render_all().items():
        (target / "crds" / name).write_text(text)
    for name, text in crdgen.render_peering().items():
        (target / "crds" / crdgen.PEERING_DIR / name).write_text(text)
    return target


def _service_account_kubeconfig(
    api: client.ApiClient, plane: ControlPlane, namespace: str, account: str, path: Path
) -> Path:
    """A kubeconfig that authenticates as the ServiceAccount (its token Secret, made by the token controller)."""
    core = client.CoreV1Api(api)

    def token_secret() -> str | None:
        listed = core.read_namespaced_service_account(account, namespace).secrets or []
        return next((str(s.name) for s in listed if "-token-" in str(s.name)), None)

    secret = core.read_namespaced_secret(poll_until(token_secret, 30, "the ServiceAccount's token"), namespace)
    token = base64.b64decode((secret.data or {})["token"]).decode()
    endpoints = plane.endpoints
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "local",
                        "cluster": {"server": endpoints.server, "certificate-authority": str(endpoints.ca_cert)},
                    }
                ],
                "users": [{"name": account, "user": {"token": token}}],
                "contexts": [
                    {"name": "operator", "context": {"cluster": "local", "user": account, "namespace": namespace}}
                ],
                "current-context": "operator",
            }
        )
    )
    return path


def _condition(obj: dict[str, Any], type_: str) -> dict[str, Any] | None:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), None)


def test_helm_install_then_the_operator_works_with_the_charts_rbac_alone(
    control_plane: ControlPlane,
    api: client.ApiClient,
    chart_crds: dynamic.DynamicClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    release = f"kco-{secrets.token_hex(3)}"
    fullname = f"{release}-kafka-connect-operator"
    # Namespaced (the other tests' namespaces stay untouched) and with kopf peering, so the peering rules
    # are exercised too; the Deployment's Pod stays Pending (no scheduler here): the operator runs in-process.
    values = {"watchNamespaces": [namespace], "ha": {"enabled": True}}
    with (
        helm.Chart.load(_chart_with_generated_crds(tmp_path / "chart")) as fresh,
        helm.Config(kubeconfig_path=control_plane.endpoints.kubeconfig, namespace=namespace) as helm_config,
    ):
        installed = helm_config.install(fresh, release, values, timeout=60)
        try:
            assert installed["status"] == "deployed"
            kubeconfig = _service_account_kubeconfig(api, control_plane, namespace, fullname, tmp_path / "sa")
            settings = OperatorSettings(
                kubeconfig=str(kubeconfig),
                namespaces=(namespace,),
                status_interval_seconds=2,
                kafka_admin_timeout_seconds=10,
                rest_via_pod_ips=True,  # lists Pods, as on the local plane
                peering_name=fullname,
            )
            with running_operator(settings):
                _kafkaconnect_and_connector_are_handled(api, namespace, testbed)
        finally:
            helm_config.uninstall(release, timeout=60)


def _kafkaconnect_and_connector_are_handled(api: client.ApiClient, namespace: str, testbed: Testbed) -> None:
    custom = client.CustomObjectsApi(api)
    manifest = kafkaconnect_manifest(namespace, testbed, replicas=1)
    custom.create_namespaced_custom_object("kco.dev", "v1alpha1", namespace, "kafkaconnects", manifest)
    connector = {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": "lines"},
        "spec": {
            "cluster": manifest["metadata"]["name"],
            "class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        },
    }
    custom.create_namespaced_custom_object("kco.dev", "v1alpha1", namespace, "connectors", connector)

    def get(plural: str, name: str) -> dict[str, Any]:
        found: Any = custom.get_namespaced_custom_object("kco.dev", "v1alpha1", namespace, plural, name)
        return dict(found)

    apps = client.AppsV1Api(api)
    poll_until(
        lambda: apps.list_namespaced_deployment(namespace, label_selector="kco.dev/cluster").items, 30, "workers"
    )

    def reported() -> dict[str, Any] | None:
        current = get("kafkaconnects", manifest["metadata"]["name"])
        return current if (current.get("status") or {}).get("observedGeneration") == 1 else None

    status = poll_until(reported, 30, "the KafkaConnect's status")
    assert (_condition(status, "Ready") or {}).get("reason") == "WorkersNotReady", "no kubelet runs the Pods here"
    assert _condition(status, "Progressing") and _condition(status, "Degraded")

    def connector_reported() -> dict[str, Any] | None:
        return _condition(get("connectors", "lines"), "Ready")

    ready = poll_until(connector_reported, 30, "the Connector's status from the sync loop")
    assert ready["reason"] == "ClusterNotReady"
    assert get("connectors", "lines")["metadata"].get("finalizers"), "kopf's finalizer, patched on"

    def event_posted() -> bool:
        events = client.CoreV1Api(api).list_namespaced_event(namespace).items
        return any(e.reason == "Applied" and e.involved_object.kind == "KafkaConnect" for e in events)

    poll_until(event_posted, 30, "the operator's Applied Event")

    # The cluster first, then the Connector: its deletion handler finds the cluster gone and releases it.
    custom.delete_namespaced_custom_object(
        "kco.dev", "v1alpha1", namespace, "kafkaconnects", manifest["metadata"]["name"]
    )
    custom.delete_namespaced_custom_object("kco.dev", "v1alpha1", namespace, "connectors", "lines")

    def released() -> bool:
        listed: Any = custom.list_namespaced_custom_object("kco.dev", "v1alpha1", namespace, "connectors")
        return not listed["items"]

    poll_until(released, 30, "the Connector released by the operator")
