"""What `kubectl kco status` shows, from Connector objects as the API server serves them: rows, a table, JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Row:
    namespace: str
    name: str
    cluster: str
    desired_state: str
    state: str | None
    ready: str | None
    reason: str | None
    message: str | None
    tasks_ready: str | None


def row(obj: Mapping[str, Any]) -> Row:
    meta, spec, status = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    ready: Mapping[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
    return Row(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        # Where it runs while a move is under way is the placed cluster; the spec says where it goes.
        cluster=str(status.get("cluster") or spec.get("cluster") or ""),
        desired_state=str(spec.get("state") or "running"),
        state=status.get("state"),
        ready=ready.get("status"),
        reason=ready.get("reason"),
        message=ready.get("message"),
        tasks_ready=status.get("tasksReady"),
    )


def rows(objs: Iterable[Mapping[str, Any]], cluster: str | None = None) -> list[Row]:
    """Sorted by namespace, cluster and name; `cluster` keeps the connectors of that KafkaConnect only."""
    found = [row(o) for o in objs]
    if cluster is not None:
        found = [r for r in found if r.cluster == cluster]
    return sorted(found, key=lambda r: (r.namespace, r.cluster, r.name))


def table(found: list[Row]) -> str:
    if not found:
        return "No connectors found."
    header = ("NAMESPACE", "NAME", "CLUSTER", "STATE", "READY", "REASON", "TASKS")
    lines = [header] + [
        (r.namespace, r.name, r.cluster, _state(r), r.ready or "-", r.reason or "-", r.tasks_ready or "-")
        for r in found
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines)


def _state(r: Row) -> str:
    """Connect's state, and the wanted one while they differ (`RUNNING→paused`), as the operator works on it."""
    seen = r.state or "-"
    return seen if seen.lower() == r.desired_state else f"{seen}→{r.desired_state}"


def as_json(found: list[Row]) -> str:
    return json.dumps({"items": [_camel(asdict(r)) for r in found]}, indent=2)


def _camel(entry: dict[str, Any]) -> dict[str, Any]:
    def camel(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(p.title() for p in rest)

    return {camel(k): v for k, v in entry.items()}


def offsets_table(offsets: Sequence[Mapping[str, Any]]) -> str:
    """Connect's offsets as the operator copied them into status: one partition → offset per line."""
    if not offsets:
        return "No offsets."
    return "\n".join(
        f"{json.dumps(o.get('partition'), sort_keys=True)}  {json.dumps(o.get('offset'), sort_keys=True)}"
        for o in offsets
    )
