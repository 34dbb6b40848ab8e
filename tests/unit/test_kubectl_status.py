"""`kubectl kco status`'s rows, table and JSON from Connector objects as the API server serves them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from connect_operator.kubectl import table

pytestmark = pytest.mark.unit


def served(namespace: str, name: str, spec_cluster: str, want: str = "running", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"namespace": namespace, "name": name},
        "spec": {"cluster": spec_cluster, "class": "Src", "state": want},
        "status": status,
    }


def ready(status: str, reason: str, message: str = "") -> list[dict[str, Any]]:
    return [
        {"type": "Synced", "status": "True", "reason": "Synced"},
        {"type": "Ready", "status": status, "reason": reason, "message": message},
    ]


OBJECTS = [
    served("team-b", "sink", "east", want="paused"),
    served(
        "team-a",
        "orders",
        "west",
        conditions=ready("True", "Running", "RUNNING, 2/2 tasks running"),
        state="RUNNING",
        tasksReady="2/2",
    ),
    served("team-a", "audit", "west", conditions=ready("False", "NotCreated"), cluster="east"),
]


def test_rows_read_the_ready_condition_and_the_placed_cluster_sorted_by_namespace_cluster_name() -> None:
    found = table.rows(OBJECTS)
    assert [(r.namespace, r.cluster, r.name) for r in found] == [
        ("team-a", "east", "audit"),  # placed in east, its spec already names west: a move under way
        ("team-a", "west", "orders"),
        ("team-b", "east", "sink"),
    ]
    orders = found[1]
    assert (orders.state, orders.ready, orders.reason, orders.tasks_ready) == ("RUNNING", "True", "Running", "2/2")
    assert (found[2].ready, found[2].reason, found[2].desired_state) == (None, None, "paused")


def test_cluster_keeps_that_clusters_connectors_only() -> None:
    assert [r.name for r in table.rows(OBJECTS, cluster="east")] == ["audit", "sink"]
    assert table.rows(OBJECTS, cluster="nowhere") == []


def test_the_table_aligns_columns_and_shows_a_wanted_state_not_reached_yet() -> None:
    objs = [
        served("ns", "orders", "west", conditions=ready("True", "Running"), state="RUNNING", tasksReady="2/2"),
        served("ns", "a-much-longer-name", "west", want="paused", conditions=ready("True", "Running")),
    ]
    objs[1]["status"].update(state="RUNNING", tasksReady="1/1")
    lines = table.table(table.rows(objs)).splitlines()
    assert lines[0].split() == ["NAMESPACE", "NAME", "CLUSTER", "STATE", "READY", "REASON", "TASKS"]
    assert lines[1].split() == ["ns", "a-much-longer-name", "west", "RUNNING→paused", "True", "Running", "1/1"]
    assert lines[2].split() == ["ns", "orders", "west", "RUNNING", "True", "Running", "2/2"]
    # Aligned: every column starts where its header does.
    for header in ("CLUSTER", "STATE", "TASKS"):
        at = lines[0].index(header)
        assert all(line[at - 1] == " " and line[at] != " " for line in lines[1:]), header
    assert table.table([]) == "No connectors found."


def test_the_json_holds_every_field_in_camel_case() -> None:
    payload = json.loads(table.as_json(table.rows(OBJECTS[1:2])))
    assert payload == {
        "items": [
            {
                "namespace": "team-a",
                "name": "orders",
                "cluster": "west",
                "desiredState": "running",
                "state": "RUNNING",
                "ready": "True",
                "reason": "Running",
                "message": "RUNNING, 2/2 tasks running",
                "tasksReady": "2/2",
            }
        ]
    }


def test_offsets_are_one_partition_and_offset_a_line() -> None:
    offsets = [{"partition": {"filename": "/a.txt"}, "offset": {"position": 42}}]
    assert table.offsets_table(offsets) == '{"filename": "/a.txt"}  {"position": 42}'
    assert table.offsets_table([]) == "No offsets."
