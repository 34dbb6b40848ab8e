"""The operator's metrics: a sync's results become per-connector series, removed with the connector."""

from __future__ import annotations

import urllib.request

import pytest
from prometheus_client import REGISTRY

from connect_operator import metrics
from connect_operator.engine.results import TaskResult
from connect_worker import ports
from tests.support.results import connector_result

pytestmark = pytest.mark.unit


def _value(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_a_sync_sets_state_failed_tasks_and_counts_restarts_by_kind() -> None:
    labels = {"namespace": "m1", "cluster": "c", "connector": "a"}
    metrics.record_sync(
        "m1", "c", 0.2, {"a": connector_result("a", actions=("AutoRestart", "Restart(secret changed)"))}, ()
    )
    assert _value("kco_connector_state", **labels, state="RUNNING") == 1
    assert _value("kco_connector_state", **labels, state="FAILED") == 0
    assert _value("kco_connector_failed_tasks", **labels) == 1
    assert _value("kco_connector_ready", **labels) == 0, "a FAILED task is not ready"
    assert _value("kco_connector_restarts_total", **labels, kind="auto") == 1
    assert _value("kco_connector_restarts_total", **labels, kind="secret") == 1
    assert _value("kco_sync_duration_seconds_count", namespace="m1", cluster="c") == 1


def test_a_deleted_connector_loses_its_series() -> None:
    labels = {"namespace": "m2", "cluster": "c", "connector": "a"}
    metrics.record_sync("m2", "c", 0.1, {"a": connector_result("a")}, ())
    assert _value("kco_connector_tasks", **labels) == 2
    metrics.record_sync("m2", "c", 0.1, {"a": connector_result("a", deleted=True)}, ())
    assert _value("kco_connector_tasks", **labels) is None
    assert _value("kco_connector_state", **labels, state="RUNNING") is None


@pytest.mark.parametrize(
    ("action", "kind"),
    [("AutoRestart", "auto"), ("Restart(r1)", "requested"), ("RestartTask(0, t1)", "task"), ("Update", None)],
)
def test_restart_kinds(action: str, kind: str | None) -> None:
    assert metrics.restart_kind(action) == kind


def test_rest_calls_are_counted_by_route_and_served_over_http() -> None:
    stats = metrics.rest_stats()
    stats.record("GET /unit-test-route", 0.01, retried=False, failed=False)
    stats.record("GET /unit-test-route", 0.02, retried=False, failed=True)
    assert _value("kco_connect_rest_requests_total", route="GET /unit-test-route", outcome="error") == 1
    port = ports.free_port("127.0.0.1")
    server, _ = metrics.serve(port, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'kco_connect_rest_request_duration_seconds_count{route="GET /unit-test-route"} 2.0' in text


def test_a_clusters_series_all_go_with_its_sync_loop_and_read_not_ready_when_connect_is_unreachable() -> None:
    labels = {"namespace": "m3", "cluster": "c", "connector": "a"}
    running = (TaskResult(0, "RUNNING", "w:8083", None),)
    metrics.record_sync("m3", "c", 0.1, {"a": connector_result("a", tasks=running, actions=("Restart(r1)",))}, ())
    assert _value("kco_connector_ready", **labels) == 1
    metrics.record_sync_failure("m3", "c")
    assert _value("kco_connector_ready", **labels) == 0
    assert _value("kco_connector_restarts_total", **labels, kind="requested") == 1
    metrics.forget_cluster("m3", "c")
    assert _value("kco_connector_ready", **labels) is None
    assert _value("kco_connector_restarts_total", **labels, kind="requested") is None
