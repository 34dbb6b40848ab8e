"""Read Connector manifests from files and folders; every problem reported with its file and document."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.engine.desired import provider_placeholders
from connect_operator.policy.connectors import placeholder_problem
from connect_operator.render.names import CONFIG_PROVIDERS


class ManifestError(Exception):
    """One or more manifests are unreadable or invalid; the message lists each."""


@dataclass(frozen=True)
class LoadedConnector:
    source: str
    connector: Connector
    document: Mapping[str, Any]  # as written, for applying to Kubernetes


def load(paths: Iterable[Path]) -> list[LoadedConnector]:
    loaded: list[LoadedConnector] = []
    problems: list[str] = []
    for path in _expand(paths, problems):
        try:
            documents = list(yaml.safe_load_all(path.read_text()))
        except (OSError, yaml.YAMLError) as exc:
            problems.append(f"{path}: {exc}")
            continue
        for index, document in enumerate(documents):
            where = f"{path} (document {index + 1})"
            if not document:
                continue
            if not isinstance(document, dict) or document.get("kind") != "Connector":
                continue  # other kinds (a KafkaConnect, a Secret) may share the folder
            try:
                connector = Connector.model_validate(document)
            except ValidationError as exc:
                problems += [f"{where}: {_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
                continue
            # Refused whatever Connect `kco` talks to: a manifest `kco apply` takes, the operator takes too.
            if smuggled := provider_placeholders(connector, CONFIG_PROVIDERS):
                problems.append(f"{where}: {placeholder_problem(smuggled).message}")
                continue
            loaded.append(LoadedConnector(where, connector, document))
    names = [item.connector.spec.connector_name or item.connector.metadata.name for item in loaded]
    problems += [
        f"connector {name} is defined more than once" for name in sorted({n for n in names if names.count(n) > 1})
    ]
    if problems:
        raise ManifestError("\n".join(problems))
    return loaded


def _expand(paths: Iterable[Path], problems: list[str]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        elif path.is_file():
            files.append(path)
        else:
            problems.append(f"{path}: no such file or folder")
    return files


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(document)"
