"""Which Connectors of a cluster one sync can act on, why the others cannot, and what is worth an Event."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.engine.desired import (
    DesiredConnector,
    from_connector,
    keyed_digest,
    provider_placeholders,
    secret_refs,
)
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.results import ConnectorResult
from connect_operator.policy import secrets
from connect_operator.policy.messages import validation_message
from connect_operator.render.names import CONFIG_PROVIDERS, HANDLED_ANNOTATION
from connect_operator.status.conditions import find, is_ready


@dataclass(frozen=True)
class Problem:
    """Why a Connector is not synced: Ready=False with this reason and message."""

    reason: str
    message: str
    # Only a person can fix it (kstatus Stalled); otherwise it passes by itself (Reconciling).
    stalled: bool


def cluster_gate(cluster_name: str, cluster_status: Mapping[str, Any]) -> Problem | None:
    """Why no Connector of the cluster can be synced now, or None: only a Ready cluster is called."""
    if is_ready(cluster_status):
        return None
    return Problem("ClusterNotReady", f"KafkaConnect {cluster_name} is not Ready", stalled=False)


def cluster_missing(cluster_name: str, namespace: str) -> Problem:
    return Problem(
        "ClusterNotFound",
        f"no KafkaConnect {cluster_name} in namespace {namespace}; create it, or fix spec.cluster "
        "(a Connector runs in a KafkaConnect of its own namespace)",
        stalled=True,
    )


def cluster_gone(cluster_name: str) -> Problem:
    return Problem(
        "ClusterGone",
        f"KafkaConnect {cluster_name} was deleted, and this connector with it; recreate the KafkaConnect or "
        "point spec.cluster at another one",
        stalled=True,
    )


def placeholder_problem(fields: Sequence[str]) -> Problem:
    """Plain values naming a provider the operator gives workers: they would read whatever file it may."""
    named = ", ".join(f"${{{p}:...}}" for p in CONFIG_PROVIDERS)
    return Problem(
        "InvalidSpec",
        f"{', '.join(fields)}: a plain value may not hold a config-provider placeholder the workers resolve "
        f"({named}); reference a Secret listed in the KafkaConnect's spec.exposedSecrets with "
        "valueFrom.secretKeyRef instead",
        stalled=True,
    )


def connect_name(obj: Mapping[str, Any]) -> str:
    """The connector's name in Connect: the one it was created with, else spec.connectorName, else the name."""
    status = obj.get("status") or {}
    spec = obj.get("spec") or {}
    return str(status.get("connectorName") or spec.get("connectorName") or obj["metadata"]["name"])


@dataclass
class Screened:
    """The Connectors that passed the checks needing no Secret values, and what the others lack."""

    connectors: dict[str, Connector] = field(default_factory=dict)  # by resource name
    names: dict[str, str] = field(default_factory=dict)  # resource name → name in Connect
    removed: set[str] = field(default_factory=set)  # names in Connect of Connectors being deleted
    problems: dict[str, Problem] = field(default_factory=dict)  # by resource name
    # Secrets the valid Connectors reference: a change to one of them wakes the loop.
    referenced: set[str] = field(default_factory=set)
    annotations: dict[str, Mapping[str, str]] = field(default_factory=dict)  # by resource name

    @property
    def secrets_to_read(self) -> set[str]:
        return {secret for c in self.connectors.values() for secret, _ in secret_refs(c)}


def screen(
    cluster_name: str,
    cluster_spec: KafkaConnectSpec,
    objects: Mapping[str, Mapping[str, Any]],
    held: Mapping[str, Problem] | None = None,
) -> Screened:
    """Parse each Connector object and check what needs no Secret value: placeholders in plain values,
    limits, names, exposed Secrets.

    `held`: Connectors that must wait for a reason found elsewhere (a move the old cluster has not
    finished); they keep their name in Connect, so no other Connector can claim it meanwhile.
    """
    found = Screened()
    claims: dict[str, list[tuple[str, str]]] = {}  # name in Connect → [(creationTimestamp, resource name)]
    for name, obj in objects.items():
        if obj["metadata"].get("deletionTimestamp"):
            found.removed.add(connect_name(obj))
            continue
        try:
            connector = Connector.model_validate(obj)
        except ValidationError as exc:
            found.problems[name] = Problem("InvalidSpec", validation_message(exc, prefix=""), stalled=True)
            continue
        smuggled = provider_placeholders(connector, CONFIG_PROVIDERS)
        problem = placeholder_problem(smuggled) if smuggled else None
        problem = problem or _limits_and_names(cluster_name, cluster_spec, connector, obj)
        used = {secret for secret, _ in secret_refs(connector)}
        found.referenced.update(used)
        hidden = sorted(used - set(cluster_spec.exposed_secrets))
        if problem is None and hidden:
            problem = Problem(
                "SecretNotExposed",
                f"Secrets {', '.join(hidden)} are not in KafkaConnect {cluster_name}'s spec.exposedSecrets; "
                "add them there",
                stalled=True,
            )
        if problem is None and held and name in held:
            problem = held[name]
        if problem is not None:
            found.problems[name] = problem
            continue
        found.connectors[name] = connector
        found.names[name] = connect_name(obj)
        found.annotations[name] = obj["metadata"].get("annotations") or {}
        claims.setdefault(found.names[name], []).append((str(obj["metadata"].get("creationTimestamp", "")), name))
    for connector_name, claimants in claims.items():
        first, *others = [name for _, name in sorted(claimants)]
        for other in others:
            del found.connectors[other], found.names[other]
            found.problems[other] = Problem(
                "NameConflict",
                f"Connector {first} already manages connector {connector_name} in KafkaConnect {cluster_name}; "
                "give this one another spec.connectorName",
                stalled=True,
            )
    return found


def _needs_distributed(cluster_name: str, cluster_spec: KafkaConnectSpec, connector: Connector) -> Problem | None:
    """A standalone worker has no exactly-once source support, and Connect 3.9 accepts such a connector
    without a word and runs it without transactions: a connector that requires it is refused instead."""
    if not cluster_spec.standalone:
        return None
    if str(connector.spec.config.get("exactly.once.support", "")).lower() != "required":
        return None
    return Problem(
        "NeedsDistributedMode",
        f"exactly.once.support is required, and KafkaConnect {cluster_name} runs in mode standalone, which has "
        "no exactly-once sources; run it on a distributed cluster, or drop the requirement",
        stalled=True,
    )


def _limits_and_names(
    cluster_name: str, cluster_spec: KafkaConnectSpec, connector: Connector, obj: Mapping[str, Any]
) -> Problem | None:
    if problem := _needs_distributed(cluster_name, cluster_spec, connector):
        return problem
    limit = cluster_spec.max_tasks_per_connector
    if connector.spec.tasks_max > limit:
        return Problem(
            "TasksMaxExceeded",
            f"spec.tasksMax {connector.spec.tasks_max} is above KafkaConnect {cluster_name}'s "
            f"spec.maxTasksPerConnector ({limit}); lower it, or raise the cluster's limit",
            stalled=True,
        )
    bound = (obj.get("status") or {}).get("connectorName")
    wanted = connector.spec.connector_name or connector.metadata.name
    if bound and bound != wanted:
        return Problem(
            "ConnectorNameImmutable",
            f"the connector exists in Connect as {bound}; spec.connectorName cannot change it (set it back, or "
            "delete this Connector and create a new one)",
            stalled=True,
        )
    return None


@dataclass
class Declared:
    desired: dict[str, DesiredConnector] = field(default_factory=dict)  # by name in Connect
    memory: dict[str, ConnectorMemory] = field(default_factory=dict)  # by name in Connect
    owners: dict[str, str] = field(default_factory=dict)  # name in Connect → resource name
    removed: set[str] = field(default_factory=set)
    problems: dict[str, Problem] = field(default_factory=dict)
    referenced: set[str] = field(default_factory=set)


def declare(
    screened: Screened,
    cluster_spec: KafkaConnectSpec,
    reads: Mapping[str, secrets.SecretRead],
    statuses: Mapping[str, Mapping[str, Any]],
    cluster_name: str = "",
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
                found.problems[name] = Problem(
                    reason, f"{got.detail}; create it, or fix the secretKeyRef", stalled=True
                )
                break
            digests[(secret, key)] = keyed_digest(read.uid or read.name, got)
        else:
            in_connect = screened.names[name]
            desired = from_connector(connector, default_auto_restart=cluster_spec.auto_restart, secret_values=digests)
            found.desired[in_connect] = desired
            remembered = ConnectorMemory.from_json((statuses.get(name) or {}).get("sync") or {})
            if (statuses.get(name) or {}).get("cluster") not in (None, cluster_name):
                # Still placed in another cluster (a move): its writes there are not this cluster's.
                remembered = remembered.handled_only()
            record = handled_record(screened.annotations.get(name, {}))
            found.memory[in_connect] = with_handled(remembered, record)
            # Ours to change if this cluster placed it (status, or the annotation a lost status leaves).
            placed = cluster_name in {(statuses.get(name) or {}).get("cluster"), record.get("cluster")}
            if not placed and cluster_spec.unmanaged_connectors != "adopt":
                found.desired[in_connect] = replace(desired, adoptable=False)
            found.owners[in_connect] = name
    return found


def handled_record(annotations: Mapping[str, str]) -> dict[str, Any]:
    """The honoured request ids kept in the Connector's annotation ({} when absent or unreadable)."""
    try:
        record = json.loads(annotations.get(HANDLED_ANNOTATION, "{}"))
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def handled_of(memory: ConnectorMemory, cluster: str | None = None) -> dict[str, Any]:
    """What the annotation keeps: the cluster that placed it and the ids (no Secret digest, no timing)."""
    record: dict[str, Any] = {
        "cluster": cluster,
        "restart": memory.handled_restart_id,
        "taskRestarts": sorted(memory.handled_task_restart_ids),
        "offsets": memory.handled_offsets_id,
    }
    return {k: v for k, v in record.items() if v}


def with_handled(memory: ConnectorMemory, record: Mapping[str, Any]) -> ConnectorMemory:
    """The memory with the annotation's ids restored where the status lost them: none is acted on twice."""
    return memory.evolve(
        handled_restart_id=memory.handled_restart_id or record.get("restart"),
        handled_task_restart_ids=tuple(
            sorted({*memory.handled_task_restart_ids, *(str(t) for t in record.get("taskRestarts") or ())})
        ),
        handled_offsets_id=memory.handled_offsets_id or record.get("offsets"),
    )


def released(removed: Set[str], still_in_connect: Set[str], results: Mapping[str, ConnectorResult]) -> set[str]:
    """Deleted Connectors whose finalizer may go: Connect no longer has them, or this sync deleted them."""
    return {name for name in removed if name not in still_in_connect or (name in results and results[name].deleted)}


def is_new_problem(previous_status: Mapping[str, Any], reason: str, message: str) -> bool:
    """One Warning Event per distinct problem: a new reason, or a new message for the same stalled reason.

    A transient problem's message may change every sync (an error text); only its reason counts.
    """
    ready = find(previous_status.get("conditions"), "Ready")
    if ready is None or ready.get("status") != "False" or ready.get("reason") != reason:
        return True
    stalled = find(previous_status.get("conditions"), "Stalled")
    return bool(stalled and stalled.get("status") == "True" and ready.get("message") != message)
