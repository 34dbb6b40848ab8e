"""The Helm chart, rendered and linted by Helm's own engine (helm-python-sdk) for each documented option.

RBAC is compared with connect_operator.rbac, the environment with what OperatorSettings reads, and the
CRDs with what the API types generate.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
import yaml

from connect_operator import rbac, settings
from connect_operator.api import crdgen
from connect_operator.api.v1alpha1 import GROUP
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.render import cluster, companions, names
from connect_operator.render.names import ClusterRef

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "kafka-connect-operator"
RELEASE, NAMESPACE = "kco", "operators"
FULLNAME = "kco-kafka-connect-operator"

# Every documented option (values.yaml), on its own and in the combinations that change RBAC.
OPTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "namespaced": {"watchNamespaces": ["team-a", "team-b"]},
    "ha": {"replicas": 2},
    "ha-namespaced": {"ha": {"enabled": True}, "watchNamespaces": ["team-a"]},
    "service-monitor": {"metrics": {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}}},
    "no-metrics": {"metrics": {"enabled": False}},
    "argocd-health": {"argocd": {"healthCheckConfigMap": {"enabled": True}}},
    "grafana-dashboard": {"grafana": {"dashboard": {"enabled": True}}},
    "grafana-dashboard-elsewhere": {
        "grafana": {
            "dashboard": {
                "enabled": True,
                "labelKey": "example.com/dashboard",
                "labelValue": "kco",
                "namespace": "default",
            }
        }
    },
    "json-logs": {"logFormat": "json"},
    "resources": {"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}}},
    "image-digest": {"image": {"repository": "registry.example/kco", "digest": "sha256:" + "ab" * 32}},
    "own-service-account": {"serviceAccount": {"create": False, "name": "kco"}, "rbac": {"create": False}},
    "scheduling": {
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "ops", "effect": "NoSchedule"}],
        "priorityClassName": "system-cluster-critical",
        "extraEnv": [{"name": "KCO_STATUS_INTERVAL_SECONDS", "value": "30"}],
        "podLabels": {"team": "data"},
    },
}


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    helm.disable_logging()  # Helm logs each symbolic link it follows (crds/ links to the generated CRDs)
    with helm.Chart.load(CHART) as loaded:
        yield loaded


def render(chart: helm.Chart, values: dict[str, Any]) -> list[dict[str, Any]]:
    manifests = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    return [
        document
        for path, text in sorted(manifests.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


def find(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind]


def operator_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (deployment,) = find(objects, "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


@pytest.mark.parametrize("option", OPTIONS)
def test_every_option_lints_clean_and_passes_the_values_schema(chart: helm.Chart, option: str) -> None:
    report = helm.lint(CHART, OPTIONS[option], strict=True, namespace=NAMESPACE, kube_version="v1.20.2")
    assert report["errors"] == []
    # Only the "icon is recommended" information remains: no warning, no error.
    assert [m for m in report["messages"] if m["severity"] >= 2] == [], report["messages"]
    chart.validate_schema(OPTIONS[option])
    objects = render(chart, OPTIONS[option])
    assert find(objects, "Deployment"), "the operator Deployment"
    for obj in objects:
        namespaced = obj["kind"] not in {"ClusterRole", "ClusterRoleBinding", "ClusterKopfPeering"}
        assert ("namespace" in obj["metadata"]) == namespaced, obj["metadata"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/instance"] == RELEASE


@pytest.mark.parametrize(
    "values",
    [
        {"logFormat": "xml"},
        {"unknown": 1},
        {"replicas": -1},
        {"watchNamespaces": ["Not_A_Namespace"]},
        {"image": {"digest": "latest"}},
        {"metrics": {"port": 70000}},
        {"argocd": {"healthCheckConfigMap": {"enabled": "yes"}}},
        {"argocd": {"healthCheckConfigMap": {"namespace": "argocd"}}},
        {"grafana": {"dashboard": {"enabled": "true"}}},
        {"grafana": {"dashboard": {"labelValue": 1}}},
        {"grafana": {"dashboard": {"labelKey": "not a label"}}},
        {"grafana": {"dashboard": {"namespace": "Monitoring"}}},
        {"grafana": {"dashboard": {"folder": "Kafka"}}},
    ],
    ids=str,
)
def test_the_values_schema_refuses_mistakes(chart: helm.Chart, values: dict[str, Any]) -> None:
    with pytest.raises(helm.HelmValuesError):
        chart.validate_schema(values)


def test_the_crds_are_the_generated_ones_not_a_copy(chart: helm.Chart) -> None:
    assert (CHART / "crds").is_symlink() and (CHART / "crds").resolve() == ROOT / "crds"
    in_chart = {c["name"]: yaml.safe_load(c["data"]) for c in chart.crds}
    on_disk = {str(p.relative_to(ROOT)): yaml.safe_load(p.read_text()) for p in (ROOT / "crds").rglob("*.yaml")}
    assert in_chart == on_disk  # crds/ itself is checked against the API types by tests/unit/test_crds.py
    kinds = {c["spec"]["names"]["kind"] for c in in_chart.values()}
    assert kinds == {r.kind for r in crdgen.RESOURCES} | {"ClusterKopfPeering", "KopfPeering"}


def test_peering_crds_folder_is_what_crdgen_writes() -> None:
    on_disk = {p.name: p.read_text() for p in (ROOT / "crds" / "peering").glob("*.yaml")}
    assert on_disk == crdgen.render_peering(), "crds/peering is stale: run `python -m connect_operator.api.crdgen crds`"


@pytest.mark.parametrize("namespaced", [False, True], ids=["cluster-wide", "namespaced"])
@pytest.mark.parametrize("peering", [False, True], ids=["standalone", "peering"])
def test_rbac_grants_exactly_what_connect_operator_rbac_lists(
    chart: helm.Chart, namespaced: bool, peering: bool
) -> None:
    watched = ["team-a", "team-b"] if namespaced else []
    objects = render(chart, {"watchNamespaces": watched, "ha": {"enabled": peering}})
    wanted = rbac.grants(namespaced=namespaced, peering=peering)

    (cluster_role,) = find(objects, "ClusterRole")
    assert _permissions(cluster_role["rules"]) == rbac.permissions(wanted.cluster_role)
    roles = find(objects, "Role")
    assert sorted(r["metadata"]["namespace"] for r in roles) == watched
    for role in roles:
        assert _permissions(role["rules"]) == rbac.permissions(wanted.namespace_role), role["metadata"]["namespace"]

    subject = {"kind": "ServiceAccount", "name": FULLNAME, "namespace": NAMESPACE}
    bindings = find(objects, "ClusterRoleBinding") + find(objects, "RoleBinding")
    assert len(bindings) == 1 + len(watched)
    for binding in bindings:
        assert binding["subjects"] == [subject]
        assert binding["roleRef"]["kind"] == binding["kind"].removesuffix("Binding")
        assert binding["roleRef"]["name"] == FULLNAME
    (account,) = find(objects, "ServiceAccount")
    assert account["metadata"]["name"] == FULLNAME


def _permissions(rules: list[dict[str, Any]]) -> frozenset[tuple[str, str, str]]:
    return frozenset(
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    )


_PLURALS = {"NetworkPolicy": "networkpolicies"}


def test_rbac_covers_every_object_the_operator_applies_and_reads() -> None:
    spec = KafkaConnectSpec.model_validate(
        {
            "bootstrapServers": "kafka:9093",
            "replicas": 3,
            "tls": {"trustedCertificates": [{"secretName": "ca"}]},
            "authentication": {"type": "tls", "certificateAndKey": {"secretName": "client"}},
            "exposedSecrets": ["db"],
        }
    )
    granted = rbac.permissions(rbac.NAMESPACED)
    for pdb_api in ("policy/v1", "policy/v1beta1"):
        for obj in cluster.render(ClusterRef("c", "ns", "uid"), spec, "img", pdb_api).objects:
            group = obj["apiVersion"].rpartition("/")[0]
            plural = _PLURALS.get(obj["kind"], obj["kind"].lower() + "s")
            for verb in ("patch", "create"):  # server-side apply; creating through it is checked as create
                assert (group, plural, verb) in granted, f"server-side apply of {obj['kind']} needs {verb}"
    reads = {("apps", "deployments", "get"), ("", "pods", "list"), ("kco.dev", "kafkaconnects", "get")}
    reads |= {("kco.dev", "connectors", "list"), ("", "events", "create")}
    kopf_needs = {(g, r, v) for g in ("kco.dev",) for r in ("kafkaconnects", "connectors") for v in ("list", "watch")}
    kopf_needs |= {("kco.dev", "kafkaconnects/status", "patch"), ("kco.dev", "connectors/status", "patch")}
    assert reads | kopf_needs <= granted
    assert ("apiextensions.k8s.io", "customresourcedefinitions", "watch") in rbac.permissions(rbac.CLUSTER_SCOPED)


def test_no_rule_grants_wildcards_updates_or_deletes() -> None:
    every = [*rbac.NAMESPACED, *rbac.CLUSTER_SCOPED, rbac.NAMESPACE_OBSERVER, rbac.CLUSTER_PEERING]
    for rule in every:
        assert "*" not in rule.resources and "*" not in rule.verbs and rule.why
        # Writes are server-side applies (patch, create) and Events; deletion is the garbage collector's.
        assert set(rule.verbs) <= {"get", "list", "watch", "patch", "create"}, rule
        if "create" in rule.verbs and rule.resources != ("events",):
            assert "patch" in rule.verbs, rule
    for group, resource, _ in rbac.permissions(tuple(every)):
        assert resource not in {"roles", "rolebindings", "clusterroles", "clusterrolebindings"}, (group, resource)


@pytest.mark.parametrize("option", OPTIONS)
def test_the_operator_environment_is_what_operator_settings_reads(chart: helm.Chart, option: str) -> None:
    values = OPTIONS[option]
    objects = render(chart, values)
    container = operator_container(objects)
    env = env_of(container)
    parsed = settings.OperatorSettings.from_env(env)
    source = inspect.getsource(settings)
    for name in env:
        assert f'"{name}"' in source, f"{name} is set by the chart but not read by OperatorSettings"
    assert container["command"] == ["python", "-m", "connect_operator"]
    assert parsed.operator_image == container["image"], "the workers' init container runs the operator's image"
    assert parsed.namespaces == tuple(values.get("watchNamespaces", ()))
    assert parsed.log_format == values.get("logFormat", "plain")
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert parsed.liveness_endpoint == f"http://0.0.0.0:{ports['healthz']}/healthz"
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    metrics = values.get("metrics", {}).get("enabled", True)
    assert parsed.metrics_port == (ports["metrics"] if metrics else 0)
    assert bool(find(objects, "Service")) == metrics
    pod_id = next(e for e in container["env"] if e["name"] == "POD_ID")
    assert pod_id["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name", "kopf's peer identity"
    downward = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"] if "valueFrom" in e}
    assert downward == {"POD_ID": "metadata.name", "KCO_OPERATOR_NAMESPACE": "metadata.namespace"}
    assert '"KCO_OPERATOR_NAMESPACE"' in source, "POD_ID is kopf's; the namespace is OperatorSettings'"


@pytest.mark.parametrize(
    ("values", "peering_kind"),
    [
        ({}, None),
        ({"replicas": 3}, "ClusterKopfPeering"),
        ({"ha": {"enabled": True, "peeringName": "kco-ha"}}, "ClusterKopfPeering"),
        ({"replicas": 2, "watchNamespaces": ["team-a", "team-b"]}, "KopfPeering"),
    ],
    ids=["standalone", "replicas", "ha-enabled", "namespaced"],
)
def test_several_replicas_use_kopf_peering_and_one_replica_never_overlaps(
    chart: helm.Chart, values: dict[str, Any], peering_kind: str | None
) -> None:
    objects = render(chart, values)
    (deployment,) = find(objects, "Deployment")
    env = env_of(operator_container(objects))
    peerings = find(objects, "ClusterKopfPeering") + find(objects, "KopfPeering")
    if peering_kind is None:
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}, "two standalone operators would both act"
        assert "KCO_PEERING_NAME" not in env and not peerings
        return
    assert deployment["spec"]["strategy"]["type"] == "RollingUpdate"
    assert {p["kind"] for p in peerings} == {peering_kind}
    expected = values.get("ha", {}).get("peeringName") or FULLNAME
    assert {p["metadata"]["name"] for p in peerings} == {env["KCO_PEERING_NAME"]} == {expected}
    if peering_kind == "KopfPeering":
        assert sorted(p["metadata"]["namespace"] for p in peerings) == values["watchNamespaces"]


def test_the_operator_pod_is_hardened_and_admitted_by_the_workers_network_policy(chart: helm.Chart) -> None:
    objects = render(chart, {})
    (deployment,) = find(objects, "Deployment")
    pod = deployment["spec"]["template"]
    assert names.OPERATOR_LABELS.items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] != 0
    container = operator_container(objects)
    hardened = container["securityContext"]
    assert hardened["readOnlyRootFilesystem"] is True and hardened["allowPrivilegeEscalation"] is False
    assert hardened["capabilities"] == {"drop": ["ALL"]}
    tmp = next(v for v in pod["spec"]["volumes"] if v["name"] == "tmp")
    assert "emptyDir" in tmp and {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert {"requests", "limits"} <= set(container["resources"])
    assert {"startupProbe", "livenessProbe", "readinessProbe"} <= set(container)
    # The NetworkPolicy the operator renders, given the environment the kubelet makes of the chart's.
    env = {e["name"]: e.get("value", "") for e in container["env"]}
    env["KCO_OPERATOR_NAMESPACE"] = deployment["metadata"]["namespace"]  # what fieldRef metadata.namespace gives
    operator_namespace = settings.OperatorSettings.from_env(env).operator_namespace
    policy = companions.build_network_policy(ClusterRef("c", "team-a", "uid"), operator_namespace)
    operator_peer, _workers = policy["spec"]["ingress"][0]["from"]
    assert operator_peer["podSelector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert operator_peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": NAMESPACE}}


def test_the_service_monitor_scrapes_the_metrics_service(chart: helm.Chart) -> None:
    assert not find(render(chart, {}), "ServiceMonitor")
    objects = render(chart, OPTIONS["service-monitor"])
    (monitor,) = find(objects, "ServiceMonitor")
    (service,) = find(objects, "Service")
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    assert monitor["spec"]["namespaceSelector"] == {"matchNames": [NAMESPACE]}
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == [p["name"] for p in service["spec"]["ports"]]
    # The metrics' namespace label is the KafkaConnect's, which the Grafana dashboard filters by: Prometheus
    # must keep it rather than rename it exported_namespace in favour of the operator's own namespace.
    assert [e["honorLabels"] for e in monitor["spec"]["endpoints"]] == [True]
    with pytest.raises(helm.HelmRenderError, match=r"needs metrics\.enabled"):
        chart.render({"metrics": {"enabled": False, "serviceMonitor": {"enabled": True}}}, name=RELEASE)


def test_the_argocd_health_config_map_carries_the_shipped_script_under_the_argocd_cm_keys(chart: helm.Chart) -> None:
    assert not find(render(chart, {}), "ConfigMap"), "nothing for Argo CD unless asked"
    (config_map,) = find(render(chart, OPTIONS["argocd-health"]), "ConfigMap")
    assert config_map["metadata"]["name"] == f"{FULLNAME}-argocd-health"
    script = (CHART / "files" / "argocd-health.lua").read_text()
    # Argo CD's key of a resource's health: resource.customizations.health.<group>_<kind>.
    keys = {f"resource.customizations.health.{GROUP}_{r.kind}" for r in crdgen.RESOURCES}
    assert config_map["data"] == dict.fromkeys(keys, script)
    assert keys == {
        "resource.customizations.health.kco.dev_Connector",
        "resource.customizations.health.kco.dev_KafkaConnect",
    }, "the keys docs/operating.md names"


def test_the_grafana_dashboard_config_map_carries_the_shipped_json_verbatim_with_the_sidecar_label(
    chart: helm.Chart,
) -> None:
    assert not find(render(chart, {}), "ConfigMap"), "no dashboard unless asked"
    dashboard = (CHART / "files" / "grafana-dashboard.json").read_text()
    (config_map,) = find(render(chart, OPTIONS["grafana-dashboard"]), "ConfigMap")
    assert config_map["metadata"]["name"] == f"{FULLNAME}-grafana-dashboard"
    assert config_map["metadata"]["namespace"] == NAMESPACE
    # The label Grafana's sidecar looks for by default (grafana and kube-prometheus-stack charts).
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["data"] == {"kafka-connect-operator.json": dashboard}, "the file, byte for byte"
    (elsewhere,) = find(render(chart, OPTIONS["grafana-dashboard-elsewhere"]), "ConfigMap")
    assert elsewhere["metadata"]["namespace"] == "default"
    assert elsewhere["metadata"]["labels"]["example.com/dashboard"] == "kco"
    assert "grafana_dashboard" not in elsewhere["metadata"]["labels"]
    assert elsewhere["data"] == config_map["data"]


def test_options_reach_the_deployment(chart: helm.Chart) -> None:
    assert env_of(operator_container(render(chart, OPTIONS["json-logs"])))["KCO_LOG_FORMAT"] == "json"
    assert operator_container(render(chart, OPTIONS["resources"]))["resources"] == OPTIONS["resources"]["resources"]
    digest = operator_container(render(chart, OPTIONS["image-digest"]))
    assert digest["image"] == f"registry.example/kco@sha256:{'ab' * 32}"
    assert operator_container(render(chart, {}))["image"] == settings.DEFAULT_OPERATOR_IMAGE
    assert settings.DEFAULT_OPERATOR_IMAGE.endswith(f":{chart.metadata['appVersion']}")
    own = render(chart, OPTIONS["own-service-account"])
    assert not find(own, "ServiceAccount") and not find(own, "ClusterRole")
    (deployment,) = find(own, "Deployment")
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "kco"
    scheduled = render(chart, OPTIONS["scheduling"])
    (deployment,) = find(scheduled, "Deployment")
    pod = deployment["spec"]["template"]
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["spec"]["priorityClassName"] == "system-cluster-critical"
    assert pod["metadata"]["labels"]["team"] == "data"
    assert env_of(operator_container(scheduled))["KCO_STATUS_INTERVAL_SECONDS"] == "30"


def test_notes_say_what_was_installed(chart: helm.Chart) -> None:
    notes = chart.render({"watchNamespaces": ["team-a"]}, name=RELEASE, namespace=NAMESPACE)
    text = next(t for p, t in notes.items() if p.endswith("NOTES.txt"))
    assert "namespaces team-a" in text and "kubectl get kafkaconnects,connectors" in text
    assert "argocd" not in text.lower()
    notes = chart.render(OPTIONS["argocd-health"], name=RELEASE, namespace=NAMESPACE)
    text = next(t for p, t in notes.items() if p.endswith("NOTES.txt"))
    assert f"kubectl -n {NAMESPACE} get configmap {FULLNAME}-argocd-health -o yaml" in text
    assert "grafana" not in text.lower()
    notes = chart.render(OPTIONS["grafana-dashboard"], name=RELEASE, namespace=NAMESPACE)
    text = next(t for p, t in notes.items() if p.endswith("NOTES.txt"))
    expected = f"ConfigMap {FULLNAME}-grafana-dashboard in namespace {NAMESPACE}, labelled grafana_dashboard=1"
    assert expected in text
