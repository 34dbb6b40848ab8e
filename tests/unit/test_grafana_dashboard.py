"""The chart's Grafana dashboard as a file: a dashboard Grafana can load into any Prometheus data source,
whose panels filter by KafkaConnect, and whose queries the PromQL reader of the kube test understands.

That its metrics and labels are really exported is tests/kube/test_grafana_dashboard.py; that the chart
ships it is tests/unit/test_helm_chart.py.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support import grafana, promql

pytestmark = pytest.mark.unit

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Panels over the REST metrics, which are labelled by route only (no KafkaConnect to filter by).
UNFILTERABLE = "kco_connect_rest_"


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    return grafana.load()


def test_the_dashboard_has_a_stable_uid_a_title_and_panels_on_a_grid(dashboard: dict[str, Any]) -> None:
    # The uid is the dashboard's address (/d/<uid>): fixed, so links and provisioning keep working.
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", dashboard["uid"]), dashboard["uid"]
    assert dashboard["uid"] == "kco-kafka-connect-operator"
    assert dashboard["title"] and isinstance(dashboard["schemaVersion"], int)
    panels = list(grafana.panels(dashboard))
    assert [p for p in panels if p["type"] != "row"], "panels to look at"
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0, panel["title"]


def test_every_panel_and_query_uses_the_datasource_variable_and_no_fixed_uid(dashboard: dict[str, Any]) -> None:
    (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["name"] == "datasource" and variable["query"] == "prometheus"
    assert "__inputs" not in dashboard, "an export's inputs would make the sidecar's import fail"
    for panel in grafana.panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, (panel["title"], target["refId"])
    for query in (v for v in dashboard["templating"]["list"] if v["type"] == "query"):
        assert query["datasource"] == DATASOURCE, query["name"]
    # No data source named anywhere else either, whatever the key.
    uids = set(re.findall(r'"uid":\s*"([^"]*)"', grafana.DASHBOARD.read_text()))
    assert uids == {dashboard["uid"], "${datasource}"}, uids


def test_every_panel_over_a_kafkaconnects_metrics_filters_by_its_namespace_and_name(
    dashboard: dict[str, Any],
) -> None:
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert names == ["datasource", "namespace", "cluster"], "the cluster variable is chosen within a namespace"
    filtered = 0
    for where, expr in grafana.queries(dashboard):
        if where.startswith("variable"):
            continue
        for selector in promql.parse(expr).selectors:
            matchers = {(label, op, value) for label, op, value in selector.matchers}
            if selector.metric.startswith(UNFILTERABLE):
                assert not matchers, f"{where}: the REST metrics have no namespace or cluster label"
                continue
            filtered += 1
            assert {("namespace", "=~", '"$namespace"'), ("cluster", "=~", '"$cluster"')} <= matchers, where
    assert filtered >= 10


def test_latency_panels_are_quantiles_of_histogram_buckets_by_le(dashboard: dict[str, Any]) -> None:
    latency = {
        where: expr
        for where, expr in grafana.queries(dashboard)
        if any(m.endswith("_bucket") for m in promql.parse(expr).metrics)
    }
    metrics = {m for expr in latency.values() for m in promql.parse(expr).metrics}
    assert metrics == {"kco_sync_duration_seconds_bucket", "kco_connect_rest_request_duration_seconds_bucket"}
    for where, expr in latency.items():
        assert expr.startswith("histogram_quantile("), where
        assert "le" in promql.parse(expr).grouping, f"{where}: quantiles need the buckets kept apart by le"
    rest = [promql.parse(e) for e in latency.values() if "rest" in e]
    assert rest and all("route" in q.grouping for q in rest), "REST latency is by route"


def test_the_promql_reader_finds_metrics_and_labels_and_refuses_what_it_cannot_read() -> None:
    query = promql.parse(
        'histogram_quantile(0.95, sum by (le, route) (rate(x_bucket{a="1", b=~"$v"}[$__rate_interval])))'
        " / on (route) group_left count without (c) (y_total) or vector(0)"
    )
    assert query.metrics == {"x_bucket", "y_total"}
    assert query.grouping == {"le", "route", "c"}
    assert query.labels == {"le", "route", "c", "a", "b"}
    values = promql.parse('label_values(m{namespace=~"$namespace"}, cluster)')
    assert values.metrics == {"m"} and values.labels == {"namespace", "cluster"}
    for unreadable in ('{__name__="m"}', "m offset 5m", "m @ 1", "m{a=~b}"):
        with pytest.raises(ValueError):
            promql.parse(unreadable)


def test_a_scrape_without_a_metric_or_a_label_is_reported() -> None:
    dashboard = {
        "panels": [
            {"title": "p", "type": "timeseries", "targets": [{"refId": "A", "expr": "sum by (kind) (m_total)"}]}
        ],
        "templating": {"list": []},
    }
    assert grafana.unanswered(dashboard, '# TYPE m counter\nm_total{kind="a"} 1\n') == []
    assert grafana.unanswered(dashboard, '# TYPE m counter\nm_total{other="a"} 1\n') == [
        "panel 'p' A: groups by kind, which none of ['m_total'] has"
    ]
    assert "panel 'p' A: m_total is not exported" in grafana.unanswered(dashboard, "# TYPE n counter\nn_total 1\n")
