"""The API types → a Markdown reference of every field (docs/reference.md). Pure.

`python -m connect_operator.api.docgen [FILE]` writes it (default: docs/reference.md); a test fails when
the file differs from what the types generate. Field paths, types, defaults, constraints and descriptions
come from the same pydantic models as the CRDs, so the reference, `kubectl explain` and validation agree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from connect_operator.api.crdgen import RESOURCES, Resource
from connect_operator.api.v1alpha1 import GROUP, VERSION

Schema = Mapping[str, Any]
_SCALARS = ("string", "integer", "number", "boolean")


@dataclass(frozen=True)
class Row:
    path: str
    type: str
    default: str
    description: str


def rows(model: type[BaseModel]) -> list[Row]:
    """One row per field, depth first, nested fields as dotted paths (`[]` for list items, `<key>` for maps)."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return _walk(schema, schema.get("$defs", {}), "", required=False, top=True)


def _resolve(node: Schema, defs: Schema) -> Schema:
    while "$ref" in node:
        target = defs[node["$ref"].rsplit("/", 1)[-1]]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _variants(node: Schema, defs: Schema) -> list[Schema]:
    """The non-null alternatives of a node (itself when it has none)."""
    if "anyOf" not in node:
        return [node]
    return [_resolve(v, defs) for v in node["anyOf"] if v.get("type") != "null"]


def _walk(node: Schema, defs: Schema, path: str, *, required: bool, top: bool = False) -> list[Row]:
    node = _resolve(node, defs)
    found: list[Row] = []
    if not top:
        found.append(Row(path, _type(node, defs) + (", required" if required else ""), _default(node), _describe(node)))
    for variant in _variants(node, defs):
        if variant.get("type") == "object" and "properties" in variant:
            needed = set(variant.get("required", ()))
            for name, sub in variant["properties"].items():
                found += _walk(sub, defs, f"{path}.{name}" if path else name, required=name in needed)
        elif variant.get("type") == "object" and isinstance(variant.get("additionalProperties"), dict):
            found += _nested(variant["additionalProperties"], defs, f"{path}.<key>")
        elif variant.get("type") == "array" and isinstance(variant.get("items"), dict):
            found += _nested(variant["items"], defs, f"{path}[]")
    return found


def _nested(node: Schema, defs: Schema, path: str) -> list[Row]:
    """Fields inside map values or list items, when those are objects with fields of their own."""
    node = _resolve(node, defs)
    found: list[Row] = []
    for variant in _variants(node, defs):
        if variant.get("type") == "object" and "properties" in variant:
            needed = set(variant.get("required", ()))
            for name, sub in variant["properties"].items():
                found += _walk(sub, defs, f"{path}.{name}", required=name in needed)
    return found


def _type(node: Schema, defs: Schema) -> str:
    node = _resolve(node, defs)
    if "anyOf" in node:
        names = list(dict.fromkeys(_type(v, defs) for v in _variants(node, defs)))
        return names[0] if len(names) == 1 else f"({', '.join(names[:-1])} or {names[-1]})"
    if "enum" in node or "const" in node:
        values = node.get("enum") or [node["const"]]
        return "one of " + ", ".join(f"`{v}`" for v in values)
    kind = node.get("type")
    if kind in _SCALARS:
        return str(kind) + _constraints(node)
    if kind == "array":
        return "list of " + _type(node.get("items", {}), defs) + _constraints(node)
    if kind == "object":
        if "properties" in node:
            return "object"
        additional = node.get("additionalProperties")
        if isinstance(additional, dict) and additional:
            return "map of string to " + _type(additional, defs)
        return "object (free-form)"
    return "any"


def _constraints(node: Schema) -> str:
    parts = []
    if "minimum" in node:
        parts.append(f"≥ {node['minimum']}")
    if "exclusiveMinimum" in node:
        parts.append(f"> {node['exclusiveMinimum']}")
    if "maximum" in node:
        parts.append(f"≤ {node['maximum']}")
    if node.get("minLength"):
        parts.append("not empty" if node["minLength"] == 1 else f"at least {node['minLength']} characters")
    if "maxLength" in node:
        parts.append(f"at most {node['maxLength']} characters")
    if node.get("minItems"):
        parts.append(f"at least {node['minItems']} item{'s' if node['minItems'] > 1 else ''}")
    if "pattern" in node:
        parts.append(f"matching `{node['pattern']}`")
    return f" ({', '.join(parts)})" if parts else ""


def _default(node: Schema) -> str:
    if "default" not in node or node["default"] is None:
        return ""
    return f"`{json.dumps(node['default'], ensure_ascii=False)}`"


def _describe(node: Schema) -> str:
    return " ".join(str(node.get("description", "")).split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _table(found: list[Row]) -> list[str]:
    lines = ["| Field | Type | Default | Description |", "|---|---|---|---|"]
    lines += [f"| `{r.path}` | {_cell(r.type)} | {_cell(r.default)} | {_cell(r.description)} |" for r in found]
    return lines


def _resource(resource: Resource) -> list[str]:
    shorts = ", ".join(f"`{s}`" for s in resource.short_names)
    columns = ", ".join(c["name"] for c in resource.columns)
    lines = [
        f"## {resource.kind}",
        "",
        resource.description,
        "",
        f"`apiVersion: {GROUP}/{VERSION}`, `kind: {resource.kind}`, namespaced. `kubectl get {resource.plural}` "
        f"(short name {shorts}) shows {columns}.",
    ]
    if resource.scale:
        lines += [
            "",
            f"It has a scale subresource: `kubectl scale {resource.kind.lower()} NAME --replicas=N` sets "
            "`spec.replicas`.",
        ]
    lines += ["", "### spec", "", *_table(rows(resource.spec)), "", "### status", ""]
    lines += ["Written by the operator; do not set it.", "", *_table(rows(resource.status)), ""]
    return lines


def render() -> str:
    lines = [
        "# API reference",
        "",
        "<!-- Generated from connect_operator/api by `python -m connect_operator.api.docgen`. Do not edit. -->",
        "",
        f"The resources of the operator, group `{GROUP}`, version `{VERSION}`: every field, its type and "
        "default, generated from the same types as the CRDs in `crds/` (so `kubectl explain` says the "
        "same). Nested fields are written as paths: `a.b` is field `b` of object `a`, `a[]` an item of "
        "list `a`, `a.<key>` a value of map `a`.",
        "",
    ]
    lines += [f"- [{r.kind}](#{r.kind.lower()}): {r.description}" for r in RESOURCES]
    lines.append("")
    for resource in RESOURCES:
        lines += _resource(resource)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0] if args else "docs/reference.md")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render())
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
