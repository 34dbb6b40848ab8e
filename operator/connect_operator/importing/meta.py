"""Object metadata: name, namespace, labels and annotations carried; the other operator's own keys reported."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from connect_operator.importing.report import Converted

# Prefixes of keys the other operators act on: meaningless to this one, so never carried silently.
FOREIGN_PREFIXES = ("strimzi.io/", "platform.confluent.io/")
# Keys whose meaning this operator has built in: every KafkaConnect takes Connector resources.
BUILT_IN = frozenset({"strimzi.io/use-connector-resources"})
# Written by kubectl for its own diffs, of the old object: carrying it would mislead the next apply.
_KUBECTL = "kubectl.kubernetes.io/last-applied-configuration"
_FIXES = {
    "strimzi.io/restart": "one-shot: use spec.restart {id}",
    "strimzi.io/restart-task": "one-shot: use spec.taskRestarts [{id, task}]",
    "strimzi.io/pause-reconciliation": "no equivalent: the operator reconciles every resource",
}


def carried(meta: Mapping[str, Any], source: str, out: Converted, consumed: Collection[str] = ()) -> dict[str, Any]:
    """name and namespace, with the labels and annotations that keep a meaning here. `consumed`: keys
    already turned into spec fields (strimzi.io/cluster)."""
    result: dict[str, Any] = {"name": str(meta.get("name", ""))}
    if meta.get("namespace"):
        result["namespace"] = str(meta["namespace"])
    for part in ("labels", "annotations"):
        kept = {}
        for key, value in (meta.get(part) or {}).items():
            if key in consumed or key in BUILT_IN or key == _KUBECTL:
                continue
            if key.startswith(FOREIGN_PREFIXES):
                out.drop(source, f"metadata.{part}.{key}", _FIXES.get(key, "the other operator's own setting"))
            else:
                kept[key] = str(value)
        if kept:
            result[part] = kept
    return result
