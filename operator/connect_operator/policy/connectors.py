"""Which Connectors of a cluster one sync can act on, and why the others cannot."""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.engine.desired import DesiredConnector, from_connector, keyed_digest, secret_refs
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.results import ConnectorResult
from connect_operator.policy import secrets
from connect_operator.policy.messages import validation_message
from connect_operator.status.conditions import is_ready

Problem = tuple[str, str]  # (reason, message) for a Connector's Ready condition


def cluster_gate(cluster_name: str, cluster_status: Mapping[str, Any]) -> Problem | None:
    """Why no Connector of the cluster can be synced now, or None: only a Ready cluster is called."""
    if is_ready(cluster_status):
        return None
    return "ClusterNotReady", f"KafkaConnect {cluster_name} is not Ready"


@dataclass
class Screened:
    """The Connectors that passed the checks needing no Secret values, and what the others lack."""

    connectors: dict[str, Connector] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    problems: dict[str, Problem] = field(default_factory=dict)
    # Secrets the valid Connectors reference: a change to one of them wakes the loop.
    referenced: set[str] = field(default_factory=set)

    @property
    def secrets_to_read(self) -> set[str]:
        return {secret for c in self.connectors.values() for secret, _ in secret_refs(c)}


def screen(cluster_name: str, cluster_spec: KafkaConnectSpec, objects: Mapping[str, Mapping[str, Any]]) -> Screened:
    """Parse each Connector object and check that every Secret it references is exposed by the cluster."""
    found = Screened()
    for name, obj in objects.items():
        if obj["metadata"].get("deletionTimestamp"):
            found.removed.add(name)
            continue
        try:
            connector = Connector.model_validate(obj)
        except ValidationError as exc:
            found.problems[name] = ("InvalidSpec", validation_message(exc))
            continue
        used = {secret for secret, _ in secret_refs(connector)}
        found.referenced.update(used)
        hidden = sorted(used - set(cluster_spec.exposed_secrets))
        if hidden:
            found.problems[name] = (
                "SecretNotExposed",
                f"Secrets {', '.join(hidden)} are not in KafkaConnect {cluster_name}'s spec.exposedSecrets; "
                "add them there",
            )
            continue
        found.connectors[name] = connector
    return found


@dataclass
class Declared:
    desired: dict[str, DesiredConnector] = field(default_factory=dict)
    memory: dict[str, ConnectorMemory] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)
    problems: dict[str, Problem] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)


def declare(
    screened: Screened,
    cluster_spec: KafkaConnectSpec,
    reads: Mapping[str, secrets.SecretRead],
    statuses: Mapping[str, Mapping[str, Any]],
) -> Declared:
    """The desired connectors, with Secret values reduced at once to digests keyed by each Secret's uid."""
    found = Declared(
        removed=set(screened.removed), problems=dict(screened.problems), referenced=set(screened.referenced)
    )
    for name, connector in screened.connectors.items():
        digests: dict[tuple[str, str], bytes] = {}
        for secret, key in sorted(secret_refs(connector)):
            read = reads[secret]
            got = secrets.value(read, key)
            if isinstance(got, secrets.KeyProblem):
                reason = "SecretMissing" if got.kind == "missing" else "SecretUnreadable"
                found.problems[name] = (reason, f"{got.detail}; create it, or fix the secretKeyRef")
                break
            digests[(secret, key)] = keyed_digest(read.uid or read.name, got)
        else:
            found.desired[name] = from_connector(
                connector, default_auto_restart=cluster_spec.auto_restart, secret_values=digests
            )
            found.memory[name] = ConnectorMemory.from_json((statuses.get(name) or {}).get("sync") or {})
    return found


def released(removed: Set[str], still_in_connect: Set[str], results: Mapping[str, ConnectorResult]) -> set[str]:
    """Deleted Connectors whose finalizer may go: Connect no longer has them, or this sync deleted them."""
    return {name for name in removed if name not in still_in_connect or (name in results and results[name].deleted)}
