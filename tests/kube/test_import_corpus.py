"""`kco import` over every published definition in the compatibility corpus: each imports (exit 0 or 1),
the apiserver's CRD schema accepts what it writes, and real Connect finds no error in a connector whose
plugin it has."""

from __future__ import annotations

import asyncio
import io
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import dynamic

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.cli import importer
from connect_operator.connect.client import ConnectClient
from connect_operator.engine.desired import from_connector

# Definitions other projects published, kept beside the checkout (never in it: they are not ours to ship).
CORPUS = Path(os.environ.get("KCO_COMPAT_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "compat-corpus"))
FILES = sorted(p for p in CORPUS.glob("*") if p.suffix in {".yaml", ".yml", ".json"})
pytestmark = [
    pytest.mark.kube,
    pytest.mark.skipif(
        not CORPUS.is_dir(), reason=f"no compatibility corpus at {CORPUS} (set KCO_COMPAT_CORPUS to its folder)"
    ),
]
# The connectors whose class ships with Connect 3.9 (FileStream): the rest need plugins the test bed lacks.
VALIDATED = {"01-strimzi-filestream-source-v1beta2.yaml", "31-rest-filestream-source.json"}


def _import(path: Path) -> tuple[int, list[dict[str, Any]], str]:
    out, err = io.StringIO(), io.StringIO()
    code = importer.run([str(path)], cluster="connect", stdout=out, stderr=err)
    return code, [d for d in yaml.safe_load_all(out.getvalue()) if d], err.getvalue()


async def _validate(url: str, connector: Connector) -> tuple[bool, dict[str, list[str]]]:
    desired = from_connector(connector)
    async with ConnectClient(url) as client:
        classes = {p.class_name for p in await client.plugins()}
        if desired.class_name not in classes:
            return False, {}
        result = await client.validate(desired.class_name, desired.full_config)
    return True, result.field_errors() if result.error_count else {}


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 16, CORPUS


# Short test name: the namespace fixture keeps 50 characters of it, which must differ per file.
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_corpus(path: Path, crds: dynamic.DynamicClient, namespace: str, connect_url: str) -> None:
    """Imports (exit 0 or 1), accepted by the CRDs (server-side dry run), valid for Connect."""
    code, manifests, report = _import(path)
    assert code in (importer.EXIT_ALL_CARRIED, importer.EXIT_DROPPED), report
    # Exit 1 exactly when the report lists something not carried.
    assert (code == importer.EXIT_DROPPED) == ("not carried:" in report), report
    assert manifests, report
    validated = False
    for manifest in manifests:
        body = {**manifest, "metadata": {**manifest["metadata"], "namespace": namespace}}
        resource = crds.resources.get(api_version=body["apiVersion"], kind=body["kind"])
        created = resource.create(body=body, namespace=namespace, query_params=[("dryRun", "All")])
        assert created.metadata.name == body["metadata"]["name"]
        if body["kind"] == "Connector":
            found, errors = asyncio.run(_validate(connect_url, Connector.model_validate(body)))
            assert errors == {}, errors
            validated = validated or found
    assert validated == (path.name in VALIDATED)
