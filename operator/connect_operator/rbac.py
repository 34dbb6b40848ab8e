"""Every Kubernetes permission the operator needs, as data: the one source the Helm chart's RBAC is checked against.

Pure. Each rule says why it exists; the chart (helm/kafka-connect-operator/templates/rbac.yaml) must grant
exactly these rules, which tests/unit/test_helm_chart.py checks for every mode, and
tests/kube/test_helm_install.py runs the operator under the installed chart's ServiceAccount alone.

Modes:
- cluster-wide (no watch namespaces): one ClusterRole with CLUSTER_SCOPED and NAMESPACED;
- namespaced (watch namespaces listed): a ClusterRole with CLUSTER_SCOPED and NAMESPACE_OBSERVER, and a
  Role with NAMESPACED in each watched namespace;
- with kopf peering (several replicas, one active), the peering resource of the mode is added to the
  role that holds the namespaced rules (ClusterKopfPeering objects are cluster-scoped, so cluster-wide
  peering goes into the ClusterRole; KopfPeering objects live in each watched namespace).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from connect_operator.api.v1alpha1 import GROUP

PEERING_GROUP = "kopf.dev"


@dataclass(frozen=True)
class Rule:
    api_group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str

    def policy_rule(self) -> dict[str, Any]:
        """The rule as a Kubernetes PolicyRule."""
        return {"apiGroups": [self.api_group], "resources": list(self.resources), "verbs": list(self.verbs)}

    def grants(self) -> Iterator[tuple[str, str, str]]:
        """(api group, resource, verb) for every permission of the rule."""
        for resource in self.resources:
            for verb in self.verbs:
                yield self.api_group, resource, verb


# Server-side apply is a PATCH; when it creates the object, the API server also checks `create`
# (tests/kube/test_helm_install.py fails without it). The operator watches what it applies (list,
# watch) and applies it again when it is deleted or edited by hand.
_APPLY_VERBS = ("list", "watch", "create", "patch")
_APPLY = "Server-side apply: patch, and create for a new object; watched (list, watch) and repaired."

# Resources that live in a namespace: granted cluster-wide, or in each watched namespace.
NAMESPACED: tuple[Rule, ...] = (
    Rule(
        GROUP,
        ("kafkaconnects",),
        ("get", "list", "watch", "patch"),
        "kopf watches it and patches its progress annotations onto it; the Connector handlers read it",
    ),
    Rule(
        GROUP,
        ("connectors",),
        ("list", "watch", "patch"),
        "kopf watches them and patches finalizers and annotations onto them; the sync loop lists them",
    ),
    Rule(
        GROUP,
        ("kafkaconnects/status", "connectors/status"),
        ("patch",),
        "status written by kopf (KafkaConnect) and by the Connector sync loop",
    ),
    Rule(
        "apps",
        ("deployments",),
        ("get", "list", "watch", "create", "patch"),
        f"the worker Deployment: server-side applied, and its status read back. {_APPLY}",
    ),
    Rule(
        "",
        ("configmaps",),
        ("get", *_APPLY_VERBS),
        f"the workers' ConfigMap, server-side applied; read for the group id a running cluster uses. {_APPLY}",
    ),
    Rule(
        "",
        ("services", "serviceaccounts"),
        _APPLY_VERBS,
        f"the workers' REST Service and ServiceAccount, server-side applied. {_APPLY}",
    ),
    Rule("policy", ("poddisruptionbudgets",), _APPLY_VERBS, f"the workers' PodDisruptionBudget. {_APPLY}"),
    Rule("networking.k8s.io", ("networkpolicies",), _APPLY_VERBS, f"the workers' NetworkPolicy. {_APPLY}"),
    Rule(
        "",
        ("persistentvolumeclaims",),
        _APPLY_VERBS,
        f"a standalone worker's offsets volume; never deleted by the operator (garbage collected). {_APPLY}",
    ),
    Rule(
        "",
        ("pods",),
        ("list", "watch", "patch"),
        "worker Pod IPs (list); worker Pods annotated with their node's rack label (watch, patch)",
    ),
    Rule(
        "",
        ("secrets",),
        ("get", "create", "patch"),
        "each read by name, never listed or watched: restarts when an exposed Secret changes, a warning when one is "
        "gone; Kafka credentials for creating internal topics; the REST listener's certificates: read, and the CA "
        "and certificate it issues server-side applied",
    ),
    Rule("", ("events",), ("create",), "Events on KafkaConnects and Connectors, by kopf and by the sync loop"),
)

# Cluster-scoped resources: always in a ClusterRole.
CLUSTER_SCOPED: tuple[Rule, ...] = (
    Rule(
        "apiextensions.k8s.io",
        ("customresourcedefinitions",),
        ("list", "watch"),
        "kopf scans the CRDs to find the resources it serves, and notices CRDs added later",
    ),
    Rule("", ("nodes",), ("get",), "rack awareness: the label of the node a worker Pod runs on"),
)

# Only when namespaces are listed: kopf then follows namespaces coming and going (without this it
# logs a warning and assumes the listed namespaces exist). Cluster-wide, kopf does not read namespaces.
NAMESPACE_OBSERVER = Rule("", ("namespaces",), ("list", "watch"), "kopf notices watched namespaces created or deleted")

_PEERING_VERBS = ("get", "list", "watch", "patch")
CLUSTER_PEERING = Rule(
    PEERING_GROUP,
    ("clusterkopfpeerings",),
    _PEERING_VERBS,
    "kopf peering cluster-wide: each replica writes its keep-alive into the ClusterKopfPeering and watches the others",
)
NAMESPACED_PEERING = Rule(
    PEERING_GROUP,
    ("kopfpeerings",),
    _PEERING_VERBS,
    "kopf peering per namespace: each replica writes its keep-alive into the namespace's KopfPeering",
)


@dataclass(frozen=True)
class Grants:
    """What one installation grants: a ClusterRole's rules, and a Role's rules for each watched namespace."""

    cluster_role: tuple[Rule, ...]
    namespace_role: tuple[Rule, ...]  # empty cluster-wide


def grants(*, namespaced: bool, peering: bool) -> Grants:
    if not namespaced:
        return Grants((*CLUSTER_SCOPED, *NAMESPACED, *((CLUSTER_PEERING,) if peering else ())), ())
    return Grants((*CLUSTER_SCOPED, NAMESPACE_OBSERVER), (*NAMESPACED, *((NAMESPACED_PEERING,) if peering else ())))


def permissions(rules: tuple[Rule, ...]) -> frozenset[tuple[str, str, str]]:
    """Rules flattened to (api group, resource, verb), for comparison however they are grouped."""
    return frozenset(grant for rule in rules for grant in rule.grants())
