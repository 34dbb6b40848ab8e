"""What the engine remembers between syncs, per connector: writes awaiting observation, restart counts,
handled request ids, validation results. Immutable values; JSON round-trip so a status can carry it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class ConnectorMemory:
    applied_hash: str | None = None
    applied_at: float | None = None
    state_command: str | None = None
    state_command_at: float | None = None
    restart_count: int = 0
    last_restart_at: float | None = None
    healthy_since: float | None = None
    handled_restart_id: str | None = None
    handled_task_restart_ids: tuple[str, ...] = ()
    handled_offsets_id: str | None = None
    invalid_hash: str | None = None
    invalid_errors: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    validated_at: float | None = None
    # The Secrets digest the running connector resolved, and a newer one waiting for kubelets to
    # refresh the mounted files before the connector restarts.
    secrets_version: str | None = None
    secrets_pending: str | None = None
    secrets_pending_since: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["handled_task_restart_ids"] = list(self.handled_task_restart_ids)
        data["invalid_errors"] = {k: list(v) for k, v in self.invalid_errors.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConnectorMemory:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["handled_task_restart_ids"] = tuple(known.get("handled_task_restart_ids", ()))
        known["invalid_errors"] = {k: tuple(v) for k, v in known.get("invalid_errors", {}).items()}
        return cls(**known)

    def handled_only(self) -> ConnectorMemory:
        """What survives a move to another cluster: which one-shot requests were honoured, nothing else."""
        return ConnectorMemory(
            handled_restart_id=self.handled_restart_id,
            handled_task_restart_ids=self.handled_task_restart_ids,
            handled_offsets_id=self.handled_offsets_id,
        )

    def evolve(self, **changes: Any) -> ConnectorMemory:
        return replace(self, **changes)


EngineMemory = Mapping[str, ConnectorMemory]
