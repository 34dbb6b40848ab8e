"""Which converter reads a document: Kubernetes resources by apiVersion and kind, the rest as REST bodies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connect_operator.importing import clusters, connectors
from connect_operator.importing.report import Converted, NotUnderstood

STRIMZI_VERSIONS = frozenset({"kafka.strimzi.io/v1alpha1", "kafka.strimzi.io/v1beta2", "kafka.strimzi.io/v1"})
CFK_VERSIONS = frozenset({"platform.confluent.io/v1beta1"})


def convert(document: Any, stem: str, cluster: str | None) -> Converted:
    """One parsed document. `stem` names a REST body without a name; `cluster` is --cluster.

    Raises NotUnderstood for a shape that is none of those known (the CLI's exit 2)."""
    out = Converted()
    if not isinstance(document, Mapping):
        raise NotUnderstood(f"{stem}: a {type(document).__name__}, not a resource or a connector's config")
    api_version, kind = document.get("apiVersion"), document.get("kind")
    if api_version is None and kind is None:
        if not isinstance(document.get("config"), Mapping) and "connector.class" not in document:
            raise NotUnderstood(f"{stem}: neither a resource (apiVersion, kind) nor a connector (connector.class)")
        connectors.from_rest(document, stem, cluster, out)
    elif api_version in STRIMZI_VERSIONS and kind == "KafkaConnector":
        connectors.from_strimzi(document, cluster, out)
    elif api_version in STRIMZI_VERSIONS and kind == "KafkaConnect":
        clusters.from_strimzi(document, out)
    elif api_version in CFK_VERSIONS and kind == "Connector":
        connectors.from_cfk(document, cluster, out)
    elif api_version in CFK_VERSIONS and kind == "Connect":
        clusters.from_cfk(document, out)
    elif isinstance(api_version, str) and isinstance(kind, str):
        # Files often hold a cluster with its companions (a KafkaUser, a metrics ConfigMap).
        name = (document.get("metadata") or {}).get("name", "")
        out.drop(
            f"{kind} {name}",
            "(whole resource)",
            f"{api_version} {kind} is not imported: keep it as it is or recreate what it does",
        )
    else:
        raise NotUnderstood(f"{stem}: apiVersion and kind must both be strings")
    return out
