"""The objects around the workers: REST Service, PodDisruptionBudget, NetworkPolicy, ServiceAccount."""

from __future__ import annotations

from typing import Any

from connect_operator.api.v1alpha1.kafkaconnect import REST_PORT, KafkaConnectSpec
from connect_operator.render import names
from connect_operator.render.names import ClusterRef


def build_service(ref: ClusterRef) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": ref.metadata(ref.service),
        "spec": {
            "type": "ClusterIP",
            "selector": ref.selector_labels(),
            "ports": [{"name": "rest", "port": REST_PORT, "targetPort": "rest", "protocol": "TCP"}],
        },
    }


def build_pod_disruption_budget(
    ref: ClusterRef, spec: KafkaConnectSpec, api_version: str = "policy/v1"
) -> dict[str, Any]:
    """At most one worker away at a time; `api_version` policy/v1beta1 for clusters older than 1.21."""
    return {
        "apiVersion": api_version,
        "kind": "PodDisruptionBudget",
        "metadata": ref.metadata(ref.workers),
        # One worker at a time, whatever the count: 0 for a single worker would block every node drain
        # for good, and a drain that waits on a Connect worker is worse than a brief restart of it.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": ref.selector_labels()}},
    }


# Set by Kubernetes on every namespace from 1.21 on (older clusters: the operator's must be labelled).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def build_network_policy(ref: ClusterRef, operator_namespace: str | None = None) -> dict[str, Any]:
    """The REST port admits only the operator's Pods in its own namespace and the workers themselves.

    Without `operator_namespace` no operator Pod is admitted: a Pod labelled like the operator in any
    namespace a tenant controls must not reach the REST API.
    """
    peers: list[dict[str, Any]] = []
    if operator_namespace:
        peers.append(
            {
                "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: operator_namespace}},
                "podSelector": {"matchLabels": dict(names.OPERATOR_LABELS)},
            }
        )
    # Without a namespaceSelector a podSelector means this namespace: the cluster's own workers.
    peers.append({"podSelector": {"matchLabels": ref.selector_labels()}})
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": ref.metadata(ref.workers),
        "spec": {
            "podSelector": {"matchLabels": ref.selector_labels()},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "from": peers,
                    "ports": [{"port": REST_PORT, "protocol": "TCP"}],
                }
            ],
        },
    }


def build_service_account(ref: ClusterRef) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": ref.metadata(ref.workers),
        "automountServiceAccountToken": False,
    }
