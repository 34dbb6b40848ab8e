"""The operator's watches of built-in kinds are filtered by the API server, not only by its handlers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kopf
import pytest
import yaml
from kopf._cogs.structs import references

from connect_operator.handlers import watches
from connect_operator.handlers.registry import build_registry
from connect_operator.render import names
from connect_operator.settings import OperatorSettings

pytestmark = pytest.mark.unit

# What a 1.20 API server serves of the kinds the operator could watch (policy/v1 came with 1.21).
SERVED = [
    references.Resource(group, version, plural, namespaced=True)
    for group, version, plural in [
        ("", "v1", "pods"),
        ("", "v1", "secrets"),
        ("", "v1", "configmaps"),
        ("", "v1", "services"),
        ("", "v1", "serviceaccounts"),
        ("apps", "v1", "deployments"),
        ("policy", "v1beta1", "poddisruptionbudgets"),
        ("policy", "v1", "poddisruptionbudgets"),
        ("networking.k8s.io", "v1", "networkpolicies"),
        ("kco.dev", "v1alpha1", "kafkaconnects"),
        ("kco.dev", "v1alpha1", "connectors"),
    ]
]


def _registry_and_settings(tmp_path: Path) -> tuple[kopf.OperatorRegistry, kopf.OperatorSettings]:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "c",
            }
        )
    )
    registry = build_registry(OperatorSettings(kubeconfig=str(kubeconfig)))
    settings = kopf.OperatorSettings()
    # The operator's startup handler, as kopf runs it before any watch starts.
    for handler in registry._activities.get_all_handlers():
        if handler.activity is not None and handler.activity.value == "startup" and handler.id.endswith("configure"):
            configure: Any = handler.fn  # called with just what it takes; kopf passes more
            configure(settings=settings)
    return registry, settings


def _watched(registry: kopf.OperatorRegistry) -> list[references.Resource]:
    parts: list[Any] = [registry._indexing, registry._watching, registry._spawning, registry._changing]
    selectors = {s for part in parts for s in part.get_all_selectors()}
    return [r for r in SERVED if any(s.check(r) for s in selectors)]


def test_every_built_in_kind_the_operator_watches_is_label_selected_by_the_api_server(tmp_path: Path) -> None:
    registry, settings = _registry_and_settings(tmp_path)
    watched = [r for r in _watched(registry) if r.group != "kco.dev"]
    assert {r.plural for r in watched} == {
        "pods",
        "configmaps",
        "services",
        "serviceaccounts",
        "deployments",
        "poddisruptionbudgets",
        "networkpolicies",
    }
    for resource in watched:
        selectors = list(settings.watching.label_selectors.collect(resource))
        assert selectors, f"{resource} is listed and watched whole: no server-side label selector"
        assert "app.kubernetes.io/managed-by=kafka-connect-operator" in selectors[0], selectors


def test_no_secret_is_listed_or_watched_user_secrets_are_read_by_name(tmp_path: Path) -> None:
    registry, _ = _registry_and_settings(tmp_path)
    assert "secrets" not in {r.plural for r in _watched(registry)}


def test_the_selectors_are_the_labels_the_handlers_filter_on() -> None:
    selectors = dict(watches.label_selectors())
    assert selectors[watches.WORKER_POD] == ",".join(f"{k}={v}" for k, v in sorted(names.WORKER_LABELS.items()))
    assert selectors[("policy", "poddisruptionbudgets")] == (
        f"app.kubernetes.io/managed-by=kafka-connect-operator,{names.CLUSTER_LABEL}"
    )
