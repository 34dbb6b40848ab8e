"""docs/reference.md is generated from the API types: never stale, and it names every field of every CRD."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connect_operator.api import crdgen, docgen

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_reference_is_what_the_types_generate() -> None:
    on_disk = (ROOT / "docs" / "reference.md").read_text()
    assert on_disk == docgen.render(), "docs/reference.md is stale: run `python -m connect_operator.api.docgen`"


def _paths(schema: dict[str, Any], prefix: str = "") -> set[str]:
    found = set()
    for name, sub in schema.get("properties", {}).items():
        path = f"{prefix}.{name}" if prefix else name
        found |= {path} | _paths(sub, path)
        if isinstance(sub.get("items"), dict):
            found |= _paths(sub["items"], f"{path}[]")
    return found


@pytest.mark.parametrize("resource", crdgen.RESOURCES, ids=lambda r: r.kind)
def test_every_crd_field_has_a_documented_row(resource: crdgen.Resource) -> None:
    schema = crdgen.crd(resource)["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    for part, model in (("spec", resource.spec), ("status", resource.status)):
        rows = {row.path: row for row in docgen.rows(model)}
        missing = _paths(schema[part]) - set(rows)
        assert not missing, f"{resource.kind}.{part}: {sorted(missing)}"
        assert all(row.description for row in rows.values()), [p for p, r in rows.items() if not r.description]


def test_rows_carry_types_defaults_and_constraints() -> None:
    rows = {row.path: row for row in docgen.rows(crdgen.RESOURCES[0].spec)}
    assert rows["replicas"].type == "integer (≥ 0)" and rows["replicas"].default == "`1`"
    assert rows["bootstrapServers"].type.endswith("required")
    assert rows["authentication.type"].type.startswith("one of `tls`")
    assert rows["tls.trustedCertificates[].certificate"].default == '`"ca.crt"`', "list items are documented"
