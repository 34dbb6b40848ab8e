"""A rolling restart of a 3-worker cluster with running tasks strands none: each task is back RUNNING on a
live worker within a bound, far below Connect's default 5-minute scheduled rebalance delay.

Real workers in Pods (the pod runner), the Deployment controller rolling them one at a time (surge 1),
and every task's state and worker sampled from Connect's REST API every 0.5 s.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.kube import client as kube
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support.connect_http import call
from tests.support.groups import settled_generation, worker_logs
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, source_connector

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

WORKERS = 3
CONNECTORS = 6
# Far below Connect's default delay (300 s), which would hold the last old worker's tasks that long; the roll
# itself takes ~10 s on an idle machine, and over 60 s under make test's parallel tiers on two cores.
MOST_SECONDS_UNASSIGNED = 120.0
SELECTOR = f"kco.dev/cluster={LOCAL_CLUSTER}"


@dataclass
class TaskSampler:
    """Every `interval` s: each task's state and worker from a ready worker, and the workers alive then."""

    api: client.ApiClient
    namespace: str
    interval: float = 0.5
    # task id -> [(time, running on a live worker)]
    seen: dict[str, list[tuple[float, bool]]] = field(default_factory=lambda: defaultdict(list))
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            live = {f"{ip}:8083" for ip in kube.ready_pod_ips(self.api, self.namespace, SELECTOR)}
            statuses = self._read(live)
            if statuses is None:
                continue  # no worker answered this round: no finding about the tasks
            now = time.monotonic()
            for connector in statuses.values():
                for task in connector["status"]["tasks"]:
                    running = task["state"] == "RUNNING" and task["worker_id"] in live
                    self.seen[f"{connector['status']['name']}/{task['id']}"].append((now, running))

    def _read(self, live: set[str]) -> dict[str, Any] | None:
        for worker in sorted(live):
            try:
                answer = call("GET", f"http://{worker}/connectors?expand=status", timeout=3, rebalance_deadline=0)
            except OSError:  # a worker stopping between the Pod list and the call
                continue
            if answer.status == 200:
                return dict(answer.body)
        return None

    def stop(self) -> None:
        self._stop.set()

    def longest_gaps(self, since: float) -> dict[str, float]:
        """Per task, the longest stretch after `since` in which it was not RUNNING on a live worker."""
        gaps = {}
        for task, samples in self.seen.items():
            longest, started = 0.0, None
            for at, running in samples:
                if at < since:
                    continue
                if not running and started is None:
                    started = at
                elif running and started is not None:
                    longest, started = max(longest, at - started), None
            if started is not None:
                longest = max(longest, samples[-1][0] - started)
            gaps[task] = longest
        return gaps


@pytest.fixture
def task_sampler(control_plane: ControlPlane, namespace: str) -> Iterator[TaskSampler]:
    own = config.new_client_from_config(str(control_plane.endpoints.kubeconfig))
    sampler = TaskSampler(own, namespace)
    thread = threading.Thread(target=sampler.run, name="task-sampler", daemon=True)
    thread.start()
    yield sampler
    sampler.stop()
    thread.join(10)


def _pod_names(api: client.ApiClient, namespace: str) -> list[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=SELECTOR).items
    return [str(p.metadata.name) for p in pods if p.metadata and not p.metadata.deletion_timestamp]


def test_a_rolling_restart_of_three_workers_leaves_no_task_unassigned_for_long(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    data_dir: Path,
    task_sampler: TaskSampler,
) -> None:
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    connectors = crds.resources.get(api_version=API_VERSION, kind="Connector")
    kafkaconnects.create(namespace=namespace, body=kafkaconnect_manifest(namespace, testbed, replicas=WORKERS))

    def rolled_out(generation: int) -> bool:
        current = kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER)
        return (
            current.status.get("observedGeneration") == generation
            and condition(current, "Reconciling").get("reason") == "RolledOut"
            and current.status.get("readyReplicas") == WORKERS
        )

    poll_until(lambda: rolled_out(1), 240, f"{WORKERS} workers ready")
    names = [f"s{i}" for i in range(CONNECTORS)]
    for name in names:
        (data_dir / f"{name}.txt").write_text("line\n")
        connectors.create(namespace=namespace, body=source_connector(name, data_dir))
    poll_until(
        lambda: (
            all(condition(c, "Ready").get("status") == "True" for c in connectors.get(namespace=namespace).items)
            and len(connectors.get(namespace=namespace).items) == CONNECTORS
        ),
        180,
        "every Connector Ready",
    )
    old_pods = _pod_names(api, namespace)
    poll_until(
        lambda: settled_generation(worker_logs(pod_runner.work_dir, namespace, old_pods)), 120, "the group settled"
    )
    workers = {t["worker_id"] for t in _tasks(api, namespace)}
    assert len(workers) > 1, f"tasks spread over the workers before the roll: {workers}"

    started = time.monotonic()
    kafkaconnects.patch(
        namespace=namespace,
        name=LOCAL_CLUSTER,
        content_type="application/merge-patch+json",
        body={"spec": {"logging": {"loggers": {"org.apache.kafka.connect.runtime.rest": "WARN"}}}},
    )
    poll_until(
        lambda: rolled_out(2) and not set(_pod_names(api, namespace)) & set(old_pods), 600, "the roll of every worker"
    )
    rolled = time.monotonic() - started

    def all_running_on_new_workers() -> bool | list[str]:
        live = {f"{ip}:8083" for ip in kube.ready_pod_ips(api, namespace, SELECTOR)}
        tasks = _tasks(api, namespace)
        if len(tasks) == CONNECTORS and all(t["state"] == "RUNNING" and t["worker_id"] in live for t in tasks):
            return True
        return [f"{t['state']} on {t['worker_id']}{'' if t['worker_id'] in live else ' (gone)'}" for t in tasks]

    try:
        poll_until(
            lambda: all_running_on_new_workers() is True, MOST_SECONDS_UNASSIGNED, "every task running on new workers"
        )
    except AssertionError as exc:
        gaps = task_sampler.longest_gaps(started)
        raise AssertionError(f"{exc}; tasks: {all_running_on_new_workers()}; longest gaps: {gaps}") from None
    task_sampler.stop()
    gaps = task_sampler.longest_gaps(started)
    print(f"\nroll of {WORKERS} workers took {rolled:.1f} s; longest time not running per task (s):")
    print({task: round(gap, 1) for task, gap in sorted(gaps.items())})
    assert len(gaps) == CONNECTORS, gaps
    assert max(gaps.values()) < MOST_SECONDS_UNASSIGNED, gaps


def _tasks(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    for ip in kube.ready_pod_ips(api, namespace, SELECTOR):
        try:
            answer = call("GET", f"http://{ip}:8083/connectors?expand=status", timeout=5, rebalance_deadline=5)
        except OSError:
            continue
        if answer.status == 200:
            return [task for c in answer.body.values() for task in c["status"]["tasks"]]
    return []
