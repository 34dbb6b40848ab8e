"""What a KafkaConnect reconcile applies, holds back and reports."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connect_operator.policy import secrets
from connect_operator.render import kafkaclient
from connect_operator.status.conditions import find

Problem = tuple[str, str]  # (reason, message) for the Ready condition

# Problems a reconcile finds and only a reconcile can clear: a status refresh must not paper over them.
RECONCILE_PROBLEMS = frozenset(
    {
        "InvalidSpec",
        "InternalTopicsInvalid",
        "KafkaSecretMissing",
        "KafkaSecretUnreadable",
        "KafkaSecretInvalid",
        "KafkaClientInvalid",
        "GroupIdConflict",
        "GroupIdInUse",
        "WorkerObjectsRefused",
    }
)
# API server answers to a dry run that only a change of the spec (or of the operator's RBAC) can clear.
_REFUSING_STATUSES = frozenset({400, 403, 422})
PDB_V1 = "policy/v1"
PDB_V1BETA1 = "policy/v1beta1"


def ready_reason(status: Mapping[str, Any]) -> Problem | None:
    ready = find(status.get("conditions"), "Ready")
    return None if ready is None else (str(ready.get("reason", "")), str(ready.get("message", "")))


def standing_problem(status: Mapping[str, Any]) -> Problem | None:
    """The problem the last reconcile reported, if only another reconcile can clear it."""
    ready = ready_reason(status)
    return ready if ready is not None and ready[0] in RECONCILE_PROBLEMS else None


def is_new(status: Mapping[str, Any], problem: Problem) -> bool:
    """One Warning Event per new problem, not one per retry of the same one."""
    return ready_reason(status) != problem


def new_init_failures(status: Mapping[str, Any], failures: Sequence[Problem]) -> list[Problem]:
    """The init container failures the last status did not report (in Ready or Degraded): one Warning each."""
    reported = [str(c.get("message", "")) for t in ("Ready", "Degraded") if (c := find(status.get("conditions"), t))]
    return [f for f in failures if not any(f[1] in message for message in reported)]


def pdb_api(policy_v1_served: bool) -> tuple[str, tuple[Problem, ...]]:
    """The PodDisruptionBudget API to use, and the warning when only the deprecated one is served."""
    if policy_v1_served:
        return PDB_V1, ()
    return PDB_V1BETA1, (
        ("PodDisruptionBudgetV1beta1", "policy/v1 is not served (Kubernetes < 1.21): applied policy/v1beta1"),
    )


def exposed_secret_warnings(exposed: Sequence[str], reads: Mapping[str, secrets.SecretRead]) -> tuple[Problem, ...]:
    """One warning per Secret of `spec.exposedSecrets` that is gone.

    A warning (Degraded), not Ready=False: its volume is optional, so worker Pods still start, and only the
    connectors that reference it fail (each Connector says so, `SecretMissing`).
    """
    return tuple(
        (
            "ExposedSecretMissing",
            f"Secret {name} (spec.exposedSecrets) not found: worker Pods start without it, "
            "connectors that reference it cannot start",
        )
        for name in exposed
        if reads[name].error == "not found"
    )


def new_warnings(status: Mapping[str, Any], warnings: Sequence[Problem]) -> list[Problem]:
    """The warnings the stored Degraded condition does not show yet: one Warning Event each, not one per pass."""
    degraded = find(status.get("conditions"), "Degraded")
    shown = str(degraded.get("message", "")) if degraded is not None and degraded.get("status") == "True" else ""
    return [w for w in warnings if w[1] not in shown]


def to_apply(objects: Sequence[dict[str, Any]], topic_problems: Sequence[str]) -> list[dict[str, Any]]:
    """Everything rendered, less the workers while the internal topics are unusable (they would fail or corrupt)."""
    return [o for o in objects if not (topic_problems and o["kind"] == "Deployment")]


def kafka_secret_values(
    uses: Sequence[kafkaclient.SecretUse], reads: Mapping[str, secrets.SecretRead]
) -> dict[tuple[str, str], str] | Problem:
    """The admin client's Secret values as text, or the problem naming every missing Secret, key and field.

    Unreadable first (nothing else can be known), then invalid (a value the workers would use differently).
    """
    values: dict[tuple[str, str], str] = {}
    found: dict[secrets.Problem, list[str]] = {"missing": [], "unreadable": [], "invalid": []}
    for use in uses:
        read = reads[use.secret]
        got = secrets.password(read, use.key) if use.password else secrets.text(read, use.key)
        if isinstance(got, secrets.KeyProblem):
            found[got.kind].append(kafkaclient.problem_message(use, got.detail))
            continue
        values[(use.secret, use.key)] = got
    order: tuple[tuple[secrets.Problem, str], ...] = (
        ("unreadable", "KafkaSecretUnreadable"),
        ("invalid", "KafkaSecretInvalid"),
        ("missing", "KafkaSecretMissing"),
    )
    for kind, reason in order:
        if found[kind]:
            return reason, "; ".join(dict.fromkeys(found[kind]))
    return values


def refusal(kind: str, name: str, http_status: int, message: str) -> Problem | None:
    """A dry-run refusal of one rendered object as the KafkaConnect's problem; None for a passing failure (5xx)."""
    if http_status not in _REFUSING_STATUSES:
        return None
    return "WorkerObjectsRefused", f"the API server refuses {kind} {name}, so nothing was applied: {message}"
