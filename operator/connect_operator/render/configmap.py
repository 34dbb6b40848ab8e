"""The ConfigMap carrying the worker properties template and the log4j config, and its content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from connect_operator.render import names
from connect_operator.render.names import ClusterRef
from connect_worker import properties as worker_properties


def data(properties: Mapping[str, str], log4j: str) -> dict[str, str]:
    # The init step reads this back with the same module's parser and writes the final file with it.
    return {names.WORKER_PROPERTIES: worker_properties.render(properties), names.LOG4J_PROPERTIES: log4j}


def config_hash(config_data: Mapping[str, str]) -> str:
    """Changes exactly when the workers' configuration does: the roll trigger."""
    return hashlib.sha256(json.dumps(dict(sorted(config_data.items()))).encode()).hexdigest()[:16]


def build_configmap(ref: ClusterRef, config_data: Mapping[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": ref.metadata(ref.config_map),
        "data": dict(config_data),
    }
