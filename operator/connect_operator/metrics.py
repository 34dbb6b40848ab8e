"""The operator's Prometheus metrics: what each sync found and did, and every Connect REST call.

Labels stay bounded: REST calls are labelled by route template, never by connector name; a
connector's series are removed when it leaves Connect.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Mapping
from wsgiref.simple_server import WSGIServer

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram

from connect_operator.connect.client import CallStats
from connect_operator.engine.results import ConnectorResult

STATES = ("RUNNING", "PAUSED", "STOPPED", "FAILED", "UNASSIGNED", "RESTARTING")
RESTART_KINDS = ("auto", "requested", "task", "secret")
_CONNECTOR = ("namespace", "cluster", "connector")

CONNECTOR_STATE = Gauge(
    "kco_connector_state", "1 for the connector's current state in Connect, else 0.", [*_CONNECTOR, "state"]
)
CONNECTOR_READY = Gauge(
    "kco_connector_ready", "1 when the connector is Ready (running as asked, nothing failed).", _CONNECTOR
)
FAILED_TASKS = Gauge("kco_connector_failed_tasks", "Tasks in state FAILED.", _CONNECTOR)
TASKS = Gauge("kco_connector_tasks", "Tasks Connect reports for the connector.", _CONNECTOR)
RESTARTS = Counter(
    "kco_connector_restarts",
    "Restarts the operator made, by kind: auto, requested, task, secret.",
    [*_CONNECTOR, "kind"],
)
ACTIONS = Counter(
    "kco_sync_actions",
    "Steps syncs ran, by action (Validate, Create, Update, ...).",
    ["namespace", "cluster", "action"],
)
SYNC_SECONDS = Histogram(
    "kco_sync_duration_seconds",
    "Duration of one sync of a Connect cluster (one read, plan, writes).",
    ["namespace", "cluster"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SYNC_FAILURES = Counter("kco_sync_failures", "Syncs that could not reach Connect.", ["namespace", "cluster"])
REST_CALLS = Counter("kco_connect_rest_requests", "Connect REST calls by route and outcome.", ["route", "outcome"])
KUBE_REQUESTS = Counter(
    "kco_kube_requests",
    "Kubernetes API requests of the operator's own client, by HTTP verb and resource (kopf's watches and its "
    "own patches go through kopf's client and are not counted here).",
    ["verb", "resource"],
)
REST_SECONDS = Histogram(
    "kco_connect_rest_request_duration_seconds",
    "Latency of Connect REST calls by route.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def rest_stats() -> CallStats:
    """Call statistics that also feed the REST metrics."""

    def listen(route: str, seconds: float, failed: bool) -> None:
        REST_CALLS.labels(route, "error" if failed else "ok").inc()
        REST_SECONDS.labels(route).observe(seconds)

    return CallStats(listener=listen)


def kube_request(verb: str, resource: str) -> None:
    KUBE_REQUESTS.labels(verb, resource).inc()


def restart_kind(action: str) -> str | None:
    """The restart kind of a described action (see engine.actions.describe), or None."""
    if action == "AutoRestart":
        return "auto"
    if action == "Restart(secret changed)":
        return "secret"
    if action.startswith("RestartTask("):
        return "task"
    if action.startswith("Restart("):
        return "requested"
    return None


# (namespace, cluster) → connectors with series, so a cluster's series can all go with it.
_KNOWN: dict[tuple[str, str], set[str]] = {}


def record_sync(
    namespace: str, cluster: str, seconds: float, results: Mapping[str, ConnectorResult], gone: Iterable[str]
) -> None:
    SYNC_SECONDS.labels(namespace, cluster).observe(seconds)
    known = _KNOWN.setdefault((namespace, cluster), set())
    for name, result in results.items():
        labels = (namespace, cluster, name)
        if result.deleted or result.unmanaged:
            forget(namespace, cluster, name)
            continue
        known.add(name)
        for state in STATES:
            CONNECTOR_STATE.labels(*labels, state).set(1 if result.state == state else 0)
        CONNECTOR_READY.labels(*labels).set(1 if result.ready else 0)
        FAILED_TASKS.labels(*labels).set(sum(1 for t in result.tasks if t.state == "FAILED"))
        TASKS.labels(*labels).set(len(result.tasks))
        for action in result.actions:
            ACTIONS.labels(namespace, cluster, action.split("(")[0]).inc()
            if kind := restart_kind(action):
                RESTARTS.labels(*labels, kind).inc()
    for name in gone:
        forget(namespace, cluster, name)


def record_sync_failure(namespace: str, cluster: str) -> None:
    """Connect unreachable: what was known is no longer true, so nothing reads as ready."""
    SYNC_FAILURES.labels(namespace, cluster).inc()
    for name in _KNOWN.get((namespace, cluster), set()):
        CONNECTOR_READY.labels(namespace, cluster, name).set(0)


def forget(namespace: str, cluster: str, connector: str) -> None:
    labels = (namespace, cluster, connector)
    _KNOWN.get((namespace, cluster), set()).discard(connector)
    for gauge in (CONNECTOR_READY, FAILED_TASKS, TASKS):
        _remove(gauge, labels)
    for state in STATES:
        _remove(CONNECTOR_STATE, (*labels, state))
    for kind in RESTART_KINDS:
        _remove(RESTARTS, (*labels, kind))


def forget_cluster(namespace: str, cluster: str) -> None:
    """Its sync loop ends (the KafkaConnect is gone, or this replica stands by): its series go too."""
    for name in list(_KNOWN.get((namespace, cluster), set())):
        forget(namespace, cluster, name)
    _KNOWN.pop((namespace, cluster), None)


def _remove(gauge: Gauge | Counter, labels: tuple[str, ...]) -> None:
    with contextlib.suppress(KeyError):
        gauge.remove(*labels)


def serve(port: int, address: str = "0.0.0.0") -> tuple[WSGIServer, threading.Thread]:
    """Start /metrics on a thread; the caller shuts the server down."""
    return prometheus_client.start_http_server(port, address)
