"""The label selectors the API server filters the operator's watches of built-in kinds by.

kopf watches a whole kind in each watched namespace; a handler's `labels=` filter only drops events
after they have been received and parsed. For every built-in kind the operator watches, the same
labels are given to the API server as a `labelSelector`, so only the operator's own objects are
listed and streamed: worker Pods, and the six kinds a KafkaConnect renders. User Secrets are not
watched at all: each sync reads the ones its Connectors reference by name (`handlers.connector_sync`).
"""

from __future__ import annotations

from collections.abc import Mapping

import kopf

from connect_operator.handlers.children import CHILD_LABELS, CHILD_RESOURCES
from connect_operator.render import names

WORKER_POD = ("", "v1", "pods")


def selector(labels: Mapping[str, object]) -> str:
    """`labels` as the API's selector syntax: `key=value`, or `key` for kopf.PRESENT."""
    return ",".join(key if value is kopf.PRESENT else f"{key}={value}" for key, value in sorted(labels.items()))


ResourceKey = tuple[str, str] | tuple[str, str, str]


def label_selectors() -> list[tuple[ResourceKey, str]]:
    """(kopf resource selector, label selector) for each built-in kind a handler watches: (group, version,
    plural), or (group, plural) for a kind watched in whichever version the API server prefers."""
    found: list[tuple[ResourceKey, str]] = [(WORKER_POD, selector(names.WORKER_LABELS))]
    for group, version, plural in CHILD_RESOURCES:
        key: ResourceKey = (group, version, plural) if version else (group, plural)
        found.append((key, selector(CHILD_LABELS)))
    return found
