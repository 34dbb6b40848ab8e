"""Why worker Pods do not start: their init container's last failure, as the kubelet reports it.

The init step (`connect_worker`) writes `<Reason>: <message>` to its termination-message file when it
fails for a reason it knows (a plugin that cannot be downloaded, verified or unpacked); the kubelet
puts that text in the container's `terminated.message`, or the tail of its log when the file is empty
(`terminationMessagePolicy: FallbackToLogsOnError`, a crash). While the kubelet backs off, the
failure is in `lastState`; once the container has completed, an older failure no longer counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Problem = tuple[str, str]  # (reason, message)

# Reasons the init step writes (connect_worker.errors: each WorkerError's `reason`); any other text is a log tail.
INIT_REASONS = frozenset({"PluginInstallFailed", "WorkerInitFailed"})
FALLBACK_REASON = "WorkerInitFailed"
INIT_CONTAINER = "init"
_LOG_TAIL_CHARS = 400


def last_failure(container: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The `terminated` state of the container's latest failed run, unless it has completed since."""
    state = container.get("state") or {}
    terminated = state.get("terminated")
    if terminated is not None:
        return terminated if terminated.get("exitCode", 0) != 0 else None
    previous = (container.get("lastState") or {}).get("terminated")
    return previous if previous is not None and previous.get("exitCode", 0) != 0 else None


def problem_of(terminated: Mapping[str, Any]) -> Problem:
    """The reason and message for the KafkaConnect's condition; restart counts and times stay out, so the
    same failure on the next retry (or in another Pod) reads the same and is not a new problem."""
    text = str(terminated.get("message") or "").strip()
    first, _, _ = text.partition("\n")
    reason, separator, rest = first.partition(": ")
    if separator and reason in INIT_REASONS and rest.strip():
        return reason, f"init container failed: {rest.strip()}"
    exit_code = terminated.get("exitCode")
    if not text:
        return FALLBACK_REASON, f"init container exited with code {exit_code} and no message; see its log"
    tail = " ".join(text.split())[-_LOG_TAIL_CHARS:]
    return FALLBACK_REASON, f"init container exited with code {exit_code}: {tail}"


def init_failures(pods: Sequence[Sequence[Mapping[str, Any]]]) -> tuple[Problem, ...]:
    """Each distinct failure among the worker Pods' init containers (`status.initContainerStatuses` per Pod)."""
    found: dict[Problem, None] = {}
    for statuses in pods:
        for container in statuses:
            if container.get("name") != INIT_CONTAINER:
                continue
            terminated = last_failure(container)
            if terminated is not None:
                found[problem_of(terminated)] = None
    return tuple(found)
