"""The chart's Grafana dashboard: its queries, and which of them a /metrics scrape cannot answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.support import promql

DASHBOARD = Path(__file__).resolve().parents[2] / "helm" / "kafka-connect-operator" / "files" / "grafana-dashboard.json"
HISTOGRAM_SERIES = ("_bucket", "_sum", "_count")


def load() -> dict[str, Any]:
    dashboard: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return dashboard


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' collapsed children included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and every query variable."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']!r} {target['refId']}", target["expr"]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]
            yield f"variable {variable['name']}", query["query"] if isinstance(query, dict) else query


def exported(scrape: str) -> dict[str, tuple[str, set[str]]]:
    """Series name as PromQL sees it (counters' _total, histograms' _bucket/_sum/_count) → (family type, labels)."""
    series: dict[str, tuple[str, set[str]]] = {}
    for family in text_string_to_metric_families(scrape):
        for sample in family.samples:
            _, labels = series.setdefault(sample.name, (family.type, set()))
            labels.update(sample.labels)
    return series


def unanswered(dashboard: dict[str, Any], scrape: str) -> list[str]:
    """What the dashboard asks for that the scrape does not have: a metric, or a label of one."""
    series = exported(scrape)
    problems: list[str] = []
    for where, expr in queries(dashboard):
        query = promql.parse(expr)
        if not query.selectors:
            problems.append(f"{where}: reads no metric: {expr}")
        grouped_over: set[str] = set()
        for selector in query.selectors:
            if selector.metric not in series:
                problems.append(f"{where}: {selector.metric} is not exported")
                continue
            kind, labels = series[selector.metric]
            if selector.metric.endswith(HISTOGRAM_SERIES[0]) and kind != "histogram":
                problems.append(f"{where}: {selector.metric} is not a histogram's buckets ({kind})")
            grouped_over |= labels
            problems += [
                f"{where}: {selector.metric} has no label {label}"
                for label, _, _ in selector.matchers
                if label not in labels
            ]
        problems += [
            f"{where}: groups by {label}, which none of {sorted(query.metrics)} has"
            for label in sorted(query.grouping - grouped_over)
        ]
    return problems


def label_values(scrape: str, metric: str, label: str) -> set[str]:
    """What Grafana's label_values(metric, label) would list from this scrape."""
    return {
        sample.labels[label]
        for family in text_string_to_metric_families(scrape)
        for sample in family.samples
        if sample.name == metric and label in sample.labels
    }
