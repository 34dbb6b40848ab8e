"""Work moves when a worker dies and spreads when one joins: on a Connect group of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.connect_http import call
from tests.support.polling import poll_until

pytestmark = pytest.mark.contract

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"

# A dead member's work is reassigned 2 s after its session expires, instead of minutes later.
FAST_FAILOVER = {"scheduled.rebalance.max.delay.ms": "2000"}


@pytest.fixture
def own_cluster(testbed: Testbed, unique: Callable[[str], str]) -> Iterator[ConnectCluster]:
    cluster = testbed.new_cluster(unique("failover"), FAST_FAILOVER)
    try:
        cluster.start(2)
        yield cluster
    finally:
        cluster.stop()


def _placements(url: str) -> dict[str, str]:
    """Every connector and task of the cluster → the worker id running it (RUNNING ones only)."""
    answer = call("GET", f"{url}/connectors?expand=status")
    assert answer.status == 200, answer.body
    placed: dict[str, str] = {}
    for name, entry in answer.body.items():
        status: dict[str, Any] = entry["status"]
        if status["connector"]["state"] == "RUNNING":
            placed[name] = status["connector"]["worker_id"]
        for task in status["tasks"]:
            if task["state"] == "RUNNING":
                placed[f"{name}/{task['id']}"] = task["worker_id"]
    return placed


def test_killed_worker_work_moves_and_new_worker_gets_some(
    own_cluster: ConnectCluster, unique: Callable[[str], str], tmp_path: Path
) -> None:
    first, second = own_cluster.workers
    names = [unique("fo") for _ in range(2)]
    for index, name in enumerate(names):
        source_file = tmp_path / f"{index}.txt"
        source_file.write_text("x\n")
        config = {"connector.class": SOURCE, "file": str(source_file), "topic": unique("t"), "tasks.max": "1"}
        assert call("PUT", f"{first.rest_url}/connectors/{name}/config", config).status == 201
    units = {*names, *(f"{n}/0" for n in names)}

    def placed_on(url: str, workers: set[str]) -> dict[str, str] | None:
        """The placements once every unit runs, and only on `workers`; None until then."""
        placed = _placements(url)
        return placed if placed.keys() == units and set(placed.values()) <= workers else None

    everyone = {first.worker_id, second.worker_id}
    placed = poll_until(lambda: placed_on(first.rest_url, everyone), 90, "both connectors and their tasks RUNNING")

    victim = second if second.worker_id in placed.values() else first
    survivor = first if victim is second else second
    victim.kill()
    poll_until(lambda: placed_on(survivor.rest_url, {survivor.worker_id}), 90, f"all work on {survivor.worker_id}")

    newcomer = own_cluster.add_worker()
    newcomer.wait_ready(90)
    both = {survivor.worker_id, newcomer.worker_id}

    def newcomer_has_work() -> dict[str, str] | None:
        placed = placed_on(survivor.rest_url, both)
        return placed if placed and newcomer.worker_id in placed.values() else None

    placed = poll_until(newcomer_has_work, 90, f"a rebalance giving work to {newcomer.worker_id}")
    assert set(placed.values()) == both
