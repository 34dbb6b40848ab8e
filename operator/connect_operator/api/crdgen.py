"""The API types → apiextensions.k8s.io/v1 CustomResourceDefinitions (structural schemas). Pure.

`python -m connect_operator.api.crdgen [DIR]` writes them (default: crds/), and kopf's peering CRDs
into DIR/peering/; a test fails when the files differ from what the types generate.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.common import LIST_MAP_KEYS
from connect_operator.api.v1alpha1.connector import ConnectorSpec, ConnectorStatus
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec, KafkaConnectStatus

_KEEP = ("description", "pattern", "minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "enum")
Schema = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    kind: str
    plural: str
    short_names: tuple[str, ...]
    spec: type[BaseModel]
    status: type[BaseModel]
    description: str
    columns: tuple[Mapping[str, str], ...]
    scale: bool = False
    categories: tuple[str, ...] = field(default=("kco", "kafka"))


RESOURCES = (
    Resource(
        kind="KafkaConnect",
        plural="kafkaconnects",
        short_names=("kc",),
        spec=KafkaConnectSpec,
        status=KafkaConnectStatus,
        scale=True,
        description="A Kafka Connect cluster: worker Pods and everything they need.",
        columns=(
            {"name": "Desired", "type": "integer", "jsonPath": ".spec.replicas"},
            {"name": "Ready", "type": "integer", "jsonPath": ".status.readyReplicas"},
            {"name": "Status", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
            {"name": "Reason", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].reason'},
            {"name": "Version", "type": "string", "jsonPath": ".status.connectVersion", "priority": "1"},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ),
    ),
    Resource(
        kind="Connector",
        plural="connectors",
        short_names=("kctr",),
        spec=ConnectorSpec,
        status=ConnectorStatus,
        description="One connector in a KafkaConnect cluster of the same namespace.",
        columns=(
            {"name": "Cluster", "type": "string", "jsonPath": ".spec.cluster"},
            {"name": "Class", "type": "string", "jsonPath": ".spec.class", "priority": "1"},
            {"name": "State", "type": "string", "jsonPath": ".status.state"},
            {"name": "Tasks", "type": "string", "jsonPath": ".status.tasksReady"},
            {"name": "Ready", "type": "string", "jsonPath": '.status.conditions[?(@.type=="Ready")].status'},
            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
        ),
    ),
)


def structural(model: type[BaseModel]) -> Schema:
    """The model's JSON Schema made structural: refs inlined, nullables folded, free-form parts marked."""
    raw = model.model_json_schema(by_alias=True, mode="validation")
    return _convert(raw, raw.get("$defs", {}))


def _convert(node: Schema, defs: Mapping[str, Schema]) -> Schema:
    if "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        return _convert(merged, defs)
    variants = node.get("anyOf")
    if variants is not None:
        concrete = [v for v in variants if v.get("type") != "null"]
        extra = {k: v for k, v in node.items() if k in _KEEP}
        if len(concrete) == 1:
            single = {**_convert(concrete[0], defs), **extra}
            if len(concrete) < len(variants):
                single["nullable"] = True
            return single
        # Several value types (a string or a number, a value or a reference): Kubernetes schemas cannot
        # say "one of these types", so the resource's own validation (pydantic) checks these values.
        return {**extra, "x-kubernetes-preserve-unknown-fields": True}
    out: Schema = {k: v for k, v in node.items() if k in _KEEP}
    if "const" in node:
        out["enum"] = [node["const"]]
    if "exclusiveMinimum" in node:
        out["minimum"], out["exclusiveMinimum"] = node["exclusiveMinimum"], True
    kind = node.get("type")
    if kind is None:
        return {**out, "x-kubernetes-preserve-unknown-fields": True}
    out["type"] = kind
    if kind == "object":
        properties = node.get("properties")
        additional = node.get("additionalProperties")
        if properties is not None:
            out["properties"] = {name: _convert(sub, defs) for name, sub in properties.items()}
            if node.get("required"):
                out["required"] = list(node["required"])
        elif isinstance(additional, dict) and additional:
            out["additionalProperties"] = _convert(additional, defs)
        else:
            out["x-kubernetes-preserve-unknown-fields"] = True
    elif kind == "array":
        items = _resolve(node.get("items", {}), defs)
        out["items"] = _convert(items, defs)
        if keys := items.get(LIST_MAP_KEYS):
            # One item per key (conditions: one per type): server-side apply and validation treat the list as a map.
            out["x-kubernetes-list-type"] = "map"
            out["x-kubernetes-list-map-keys"] = list(keys)
    return out


def _resolve(node: Schema, defs: Mapping[str, Schema]) -> Schema:
    while "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def crd(resource: Resource) -> Schema:
    spec_schema = structural(resource.spec)
    version: Schema = {
        "name": VERSION,
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "description": resource.description,
                "required": ["spec"],
                "properties": {
                    "apiVersion": {"type": "string"},
                    "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {**spec_schema, "description": f"The desired {resource.kind}."},
                    "status": {**structural(resource.status), "description": "What the operator observed."},
                },
            }
        },
        "subresources": {"status": {}},
        "additionalPrinterColumns": [_column(c) for c in resource.columns],
    }
    if resource.scale:
        version["subresources"]["scale"] = {
            "specReplicasPath": ".spec.replicas",
            "statusReplicasPath": ".status.replicas",
            "labelSelectorPath": ".status.labelSelector",
        }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{resource.plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {
                "kind": resource.kind,
                "listKind": f"{resource.kind}List",
                "plural": resource.plural,
                "singular": resource.kind.lower(),
                "shortNames": list(resource.short_names),
                "categories": list(resource.categories),
            },
            "versions": [version],
        },
    }


def _column(column: Mapping[str, str]) -> Schema:
    out: Schema = dict(column)
    if "priority" in out:
        out["priority"] = int(out["priority"])
    return out


def render_all() -> dict[str, str]:
    """File name → YAML text, for every resource."""
    header = "# Generated from connect_operator/api by `python -m connect_operator.api.crdgen`. Do not edit.\n"
    return {f"{r.plural}.{GROUP}.yaml": header + yaml.safe_dump(crd(r), sort_keys=False, width=120) for r in RESOURCES}


# kopf's peering resources (group kopf.dev), for several operator replicas with one active. Each
# replica writes its keep-alive under `status` (replica id: priority, lifetime, last seen).
PEERING_GROUP = "kopf.dev"
PEERING_DIR = "peering"
PEERINGS = (("ClusterKopfPeering", "clusterkopfpeerings", "Cluster"), ("KopfPeering", "kopfpeerings", "Namespaced"))


def peering_crd(kind: str, plural: str, scope: str) -> Schema:
    where = "cluster-wide" if scope == "Cluster" else "in one namespace"
    status = {
        "type": "object",
        "description": "For each replica id: its priority, lifetime and last keep-alive, written by the replicas.",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    version = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {
                "type": "object",
                "description": f"kopf peering {where}: the operator replicas that share this name, one of them active.",
                "properties": {"status": status},
                "x-kubernetes-preserve-unknown-fields": True,
            }
        },
    }
    names = {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower()}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{PEERING_GROUP}"},
        "spec": {"group": PEERING_GROUP, "scope": scope, "names": names, "versions": [version]},
    }


def render_peering() -> dict[str, str]:
    """File name → YAML text of kopf's peering CRDs (written to crds/peering/)."""
    header = "# Generated by `python -m connect_operator.api.crdgen`: kopf's peering resources. Do not edit.\n"
    return {
        f"{plural}.{PEERING_GROUP}.yaml": header
        + yaml.safe_dump(peering_crd(kind, plural, scope), sort_keys=False, width=120)
        for kind, plural, scope in PEERINGS
    }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "crds")
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_all().items():
        (target / name).write_text(text)
        print(f"wrote {target / name}")
    (target / PEERING_DIR).mkdir(exist_ok=True)
    for name, text in render_peering().items():
        (target / PEERING_DIR / name).write_text(text)
        print(f"wrote {target / PEERING_DIR / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
