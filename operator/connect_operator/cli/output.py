"""How `kco` shows results: a table for people, JSON for pipelines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from connect_operator.engine.results import ConnectorResult


def table(results: Mapping[str, ConnectorResult]) -> str:
    rows = [("NAME", "STATE", "TASKS", "READY", "WORKER", "NOTES")]
    for name in sorted(results):
        result = results[name]
        running = sum(t.state == "RUNNING" for t in result.tasks)
        rows.append(
            (
                name,
                result.state or "-",
                f"{running}/{len(result.tasks)}",
                "yes" if result.ready else "no",
                result.worker_id or "-",
                notes(result),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    )


def notes(result: ConnectorResult) -> str:
    parts: list[str] = []
    if result.actions:
        parts.append("did: " + ", ".join(result.actions))
    if result.drift:
        parts.append("reverted drift in: " + ", ".join(result.drift))
    if result.field_errors:
        parts.append("invalid: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in result.field_errors.items()))
    parts += list(result.errors)
    if result.waiting:
        parts.append("waiting: " + result.waiting)
    if result.unmanaged:
        parts.append("unmanaged")
    if result.auto_restart_exhausted:
        parts.append(f"auto-restart gave up after {result.restart_count}")
    failed = [t for t in result.tasks if t.state == "FAILED"]
    if failed and failed[0].trace:
        parts.append(f"task {failed[0].id}: {failed[0].trace.splitlines()[0]}")
    return "; ".join(parts)


def as_json(results: Mapping[str, ConnectorResult]) -> str:
    payload: dict[str, Any] = {}
    for name, result in sorted(results.items()):
        entry = asdict(result)
        entry["ready"] = result.ready
        payload[name] = entry
    return json.dumps(payload, indent=2, default=list)
