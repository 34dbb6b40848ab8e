"""What a sync loop reads of its cluster's Connectors: the watch's copy, overlaid with the operator's own writes.

Each sync used to LIST the namespace's Connectors: with 1,000 of them over 5 clusters, parsing those
pages was most of the operator's CPU and a good part of its memory. kopf already watches every
Connector, so an index (`CONNECTORS_BY_CLUSTER`) keeps one stripped copy of each, keyed by the
clusters it is bound to or placed in; kopf fills it before any handler or daemon runs.

A watch lags its writes: a sync 0.5 s after another may read a Connector from before the status the
first one wrote. Reading that older status would write the same patch again, post a problem's Warning
Event twice, or run a move's steps twice. So the objects the operator's own writes return are kept
here, per cluster, and a sync reads whichever copy is newer, until the watch catches up.

A Connector whose deletion the operator finished (its finalizer dropped) is forgotten at once: kopf
discards a deleted object from the index only on its DELETED event, and a relist after the watch's
resource version expired sends none for objects deleted in the gap.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CONNECTORS_BY_CLUSTER = "connectors_by_cluster"
# kopf's diff base: a second copy of the spec, never read by a sync.
DIFF_BASE_ANNOTATION = "kco.dev/last-handled-configuration"

Key = tuple[str, str]  # (namespace, cluster)


def stripped(body: Mapping[str, Any]) -> dict[str, Any]:
    """A plain copy without what no sync reads: managedFields (half of an object's JSON) and kopf's diff base."""
    obj = copy.deepcopy(dict(body))
    metadata = obj.setdefault("metadata", {})
    metadata.pop("managedFields", None)
    annotations = metadata.get("annotations")
    if annotations and DIFF_BASE_ANNOTATION in annotations:
        metadata["annotations"] = {k: v for k, v in annotations.items() if k != DIFF_BASE_ANNOTATION}
    return obj


def index_keys(body: Mapping[str, Any]) -> list[Key]:
    """The clusters a Connector is read by: the one its spec names, and the one it is still placed in."""
    namespace = str(body.get("metadata", {}).get("namespace") or "")
    spec, status = body.get("spec") or {}, body.get("status") or {}
    clusters = {str(c) for c in (spec.get("cluster"), status.get("cluster")) if c}
    return [(namespace, cluster) for cluster in sorted(clusters)]


def newer(candidate: Mapping[str, Any], than: Mapping[str, Any]) -> bool:
    """Whether `candidate` is a later version of the same object. Resource versions are etcd revisions
    here; one that is not a number (another storage) is never taken as newer, so the watch's copy wins."""
    try:
        return int(candidate["metadata"]["resourceVersion"]) > int(than["metadata"]["resourceVersion"])
    except (KeyError, TypeError, ValueError):
        return False


@dataclass
class ConnectorView:
    """The operator's own recent writes and finished deletions, laid over the index a sync reads."""

    # (namespace, cluster) → uid → the object as the write a sync of that cluster made returned it.
    _written: dict[Key, dict[str, dict[str, Any]]] = field(default_factory=dict)
    # (namespace, cluster) → uids of Connectors whose deletion the operator finished.
    _gone: dict[Key, set[str]] = field(default_factory=dict)

    def record(self, key: Key, written: Mapping[str, Any] | None) -> None:
        """Keep what a write returned (None: nothing was written)."""
        if not written:
            return
        obj = stripped(written)
        mine = self._written.setdefault(key, {})
        uid = str(obj["metadata"].get("uid", ""))
        if uid not in mine or newer(obj, mine[uid]):
            mine[uid] = obj

    def forget(self, body: Mapping[str, Any]) -> None:
        """A Connector whose finalizer the operator is dropping: gone, whatever the index still holds."""
        uid = str(body.get("metadata", {}).get("uid", ""))
        for key in index_keys(body):
            self._gone.setdefault(key, set()).add(uid)
            self._written.get(key, {}).pop(uid, None)

    def read(self, key: Key, indexed: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The cluster's Connectors: each from the index, or from the operator's own later write."""
        mine, gone = self._written.get(key, {}), self._gone.get(key, set())
        found: list[Mapping[str, Any]] = []
        seen: set[str] = set()
        for obj in indexed:
            uid = str(obj["metadata"].get("uid", ""))
            seen.add(uid)
            if uid in gone:
                continue
            written = mine.get(uid)
            if written is not None and newer(written, obj):
                found.append(written)
            else:
                mine.pop(uid, None)  # the watch has caught up with the write
                found.append(obj)
        # What the index no longer holds needs no overlay, nor a memory of its deletion.
        for uid in set(mine) - seen:
            del mine[uid]
        gone &= seen
        return found
