"""The steps a plan is made of. Each is a value; the executor turns it into one REST call."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Validate:
    class_name: str
    config: Mapping[str, str]
    config_hash: str


@dataclass(frozen=True)
class Create:
    config: Mapping[str, str]
    config_hash: str
    initial_state: Literal["RUNNING", "PAUSED", "STOPPED"]
    # A connector created now has nothing to restart: these pending request ids count as handled.
    restart_id: str | None = None
    task_restart_ids: tuple[str, ...] = ()
    secrets_version: str | None = None


@dataclass(frozen=True)
class Update:
    config: Mapping[str, str]
    config_hash: str
    drift: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChangeState:
    target: Literal["RUNNING", "PAUSED", "STOPPED"]


@dataclass(frozen=True)
class Restart:
    include_tasks: bool
    only_failed: bool
    request_id: str | None = None  # None: an automatic restart
    secrets_version: str | None = None  # set: a restart to pick up changed Secret values


@dataclass(frozen=True)
class RestartTask:
    task: int
    request_id: str


@dataclass(frozen=True)
class Offsets:
    action: Literal["list", "alter", "reset"]
    request_id: str
    offsets: tuple[Mapping[str, Any], ...] = field(default=())


@dataclass(frozen=True)
class Delete:
    reason: Literal["removed", "unmanaged"]


Action = Validate | Create | Update | ChangeState | Restart | RestartTask | Offsets | Delete


def describe(action: Action) -> str:
    """A short past-tense-ready label for status and logs, e.g. "Update(drift: topic)"."""
    match action:
        case Update(drift=drift) if drift:
            return f"Update(drift: {', '.join(drift)})"
        case ChangeState(target=target):
            return {"RUNNING": "Resume", "PAUSED": "Pause", "STOPPED": "Stop"}[target]
        case Restart(secrets_version=str()):
            return "Restart(secret changed)"
        case Restart(request_id=None):
            return "AutoRestart"
        case Restart(request_id=rid):
            return f"Restart({rid})"
        case RestartTask(task=task, request_id=rid):
            return f"RestartTask({task}, {rid})"
        case Offsets(action=kind, request_id=rid):
            return f"Offsets({kind}, {rid})"
        case Delete(reason=reason):
            return f"Delete({reason})"
        case _:
            return type(action).__name__
