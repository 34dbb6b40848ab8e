"""The CRDs are generated from the API types: never stale, structural, and every field documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from connect_operator.api import crdgen
from connect_operator.api.v1alpha1.kafkaconnect import OWNED_WORKER_KEYS, KafkaConnectSpec

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_crds_folder_is_what_the_types_generate() -> None:
    generated = crdgen.render_all()
    on_disk = {p.name: p.read_text() for p in (ROOT / "crds").glob("*.yaml")}
    assert on_disk == generated, "crds/ is stale: run `python -m connect_operator.api.crdgen crds`"


def _walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    found = [(path, schema)]
    for name, sub in schema.get("properties", {}).items():
        found += _walk(sub, f"{path}.{name}")
    if isinstance(schema.get("items"), dict):
        found += _walk(schema["items"], f"{path}[]")
    if isinstance(schema.get("additionalProperties"), dict):
        found += _walk(schema["additionalProperties"], f"{path}{{}}")
    return found


@pytest.mark.parametrize("resource", crdgen.RESOURCES, ids=lambda r: r.kind)
def test_schemas_are_structural_and_documented(resource: crdgen.Resource) -> None:
    schema = crdgen.crd(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for path, node in _walk(schema):
        assert "$ref" not in node and "anyOf" not in node and "allOf" not in node, path
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields"), f"{path} has no type"
        if path.startswith((".spec.", ".status.")) and not path.endswith(("[]", "{}")):
            assert node.get("description"), f"{path} has no description (kubectl explain shows it)"


@pytest.mark.parametrize("resource", crdgen.RESOURCES, ids=lambda r: r.kind)
def test_conditions_are_a_list_map_keyed_by_type(resource: crdgen.Resource) -> None:
    schema = crdgen.crd(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    conditions = schema["properties"]["status"]["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    assert "type" in conditions["items"]["required"], "a map key must be required"
    marked = [path for path, node in _walk(schema) if any(k.startswith("x-kco") for k in node)]
    assert not marked, f"the types' own markers stay out of the CRD: {marked}"


def test_kafkaconnect_has_scale_and_status_subresources() -> None:
    version = crdgen.crd(crdgen.RESOURCES[0])["spec"]["versions"][0]
    assert version["subresources"]["scale"]["labelSelectorPath"] == ".status.labelSelector"
    assert "status" in version["subresources"]


@pytest.mark.parametrize("key", [*sorted(OWNED_WORKER_KEYS), "ssl.truststore.location", "sasl.client.callback"])
def test_owned_worker_keys_are_refused_by_name(key: str) -> None:
    with pytest.raises(ValidationError) as refused:
        KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092", "config": {key: "x"}})
    assert key in str(refused.value)


def test_examples_validate_against_the_api_types() -> None:
    from connect_operator.api.v1alpha1.connector import Connector

    for path in sorted((ROOT / "examples").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document["kind"] == "KafkaConnect":
                KafkaConnectSpec.model_validate(document["spec"])
            else:
                Connector.model_validate(document)
