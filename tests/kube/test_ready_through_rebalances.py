"""Rebalances Connect completes by itself flip no Ready condition: 2 real workers in Pods, sampled every 0.2 s
while Connectors are created and deleted (each a rebalance) and while a worker Pod is replaced."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, dynamic

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.kube.conftest import LOCAL_CLUSTER, kafkaconnect_manifest
from tests.support.groups import settled_generation
from tests.support.polling import poll_until

pytestmark = [pytest.mark.kube, pytest.mark.e2e]

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
GROUP, VERSION = "kco.dev", "v1alpha1"
CHANGES = 3  # Connectors created, then deleted: 6 rebalances


@dataclass(frozen=True)
class Sample:
    at: float
    phase: str
    ready: tuple[str, str]  # the KafkaConnect's Ready (status, reason)
    degraded: tuple[str, str]
    ready_replicas: int
    connectors: dict[str, tuple[str, str]]  # each Connector's Ready (status, reason)


@dataclass
class Sampler:
    """Reads the KafkaConnect and its Connectors every `interval` seconds in a thread, until stopped."""

    api: client.ApiClient
    namespace: str
    interval: float = 0.2
    phase: str = ""
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        objects = client.CustomObjectsApi(self.api)
        while not self._stop.wait(self.interval):
            try:
                kc: Any = objects.get_namespaced_custom_object(
                    GROUP, VERSION, self.namespace, "kafkaconnects", LOCAL_CLUSTER
                )
                listed: Any = objects.list_namespaced_custom_object(GROUP, VERSION, self.namespace, "connectors")
            except client.ApiException as exc:  # a slow apiserver is no finding; the next read counts
                self.errors.append(str(exc.reason))
                continue
            status = kc.get("status") or {}
            self.samples.append(
                Sample(
                    at=time.monotonic(),
                    phase=self.phase,
                    ready=_condition(status, "Ready"),
                    degraded=_condition(status, "Degraded"),
                    ready_replicas=int(status.get("readyReplicas") or 0),
                    connectors={
                        c["metadata"]["name"]: _condition(c.get("status") or {}, "Ready") for c in listed["items"]
                    },
                )
            )

    def stop(self) -> None:
        self._stop.set()

    def of(self, phase: str) -> list[Sample]:
        return [s for s in self.samples if s.phase == phase]


def _condition(status: dict[str, Any], type_: str) -> tuple[str, str]:
    found: dict[str, Any] = next((c for c in status.get("conditions") or [] if c["type"] == type_), {})
    return str(found.get("status", "")), str(found.get("reason", ""))


@pytest.fixture
def sampler(control_plane: ControlPlane, namespace: str) -> Iterator[Sampler]:
    # A client of its own: the sampling thread shares no connection pool with the test's calls.
    own = config.new_client_from_config(str(control_plane.endpoints.kubeconfig))
    running = Sampler(own, namespace)
    thread = threading.Thread(target=running.run, name="ready-sampler", daemon=True)
    thread.start()
    yield running
    running.stop()
    thread.join(10)


def _connector(name: str, data_dir: Path, namespace: str) -> dict[str, Any]:
    source = data_dir / f"{name}.txt"
    source.write_text("line\n")
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Connector",
        "metadata": {"name": name},
        "spec": {
            "cluster": LOCAL_CLUSTER,
            "class": SOURCE,
            "config": {"file": str(source), "topic": f"{namespace}-{name}"},
        },
    }


def _pods(api: client.ApiClient, namespace: str) -> list[Any]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"kco.dev/cluster={LOCAL_CLUSTER}")
    return list(pods.items)


def _summary(samples: list[Sample]) -> str:
    ready = sum(s.ready[0] == "True" for s in samples)
    degraded = sum(s.degraded == ("True", "WorkersNotReady") for s in samples)
    flipped = sorted({f"{n}={r}" for s in samples for n, (st, r) in s.connectors.items() if st == "False"})
    kafkaconnect = f"KafkaConnect Ready=True {ready}, Degraded=True WorkersNotReady {degraded}"
    return f"{len(samples)} samples: {kafkaconnect}; Connectors Ready=False: {flipped}"


def test_connector_changes_and_a_worker_replacement_never_flip_the_clusters_ready(
    local_operator: None,
    pod_runner: PodRunner,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    data_dir: Path,
    sampler: Sampler,
) -> None:
    kafkaconnects = crds.resources.get(api_version=f"{GROUP}/{VERSION}", kind="KafkaConnect")
    connectors = crds.resources.get(api_version=f"{GROUP}/{VERSION}", kind="Connector")
    kafkaconnects.create(namespace=namespace, body=kafkaconnect_manifest(namespace, testbed, replicas=2))

    def cluster_status() -> dict[str, Any]:
        return dict(kafkaconnects.get(namespace=namespace, name=LOCAL_CLUSTER).to_dict().get("status") or {})

    def whole() -> bool:
        # Degraded may be True for PodDisruptionBudgetV1beta1 (this control plane is Kubernetes 1.20), never
        # for missing workers once both are ready.
        status = cluster_status()
        return (
            _condition(status, "Ready")[0] == "True"
            and _condition(status, "Degraded")[1] != "WorkersNotReady"
            and status.get("readyReplicas") == 2
        )

    poll_until(whole, 180, "the KafkaConnect Ready with 2 of 2 workers")
    rolled_out = poll_until(
        lambda: _condition(cluster_status(), "Reconciling") == ("False", "RolledOut"), 30, "the rollout reported done"
    )
    assert rolled_out and cluster_status()["observedGeneration"] == 1

    def ready_connector(name: str) -> bool:
        status = connectors.get(namespace=namespace, name=name).to_dict().get("status") or {}
        return _condition(status, "Ready")[0] == "True"

    connectors.create(namespace=namespace, body=_connector("steady", data_dir, namespace))
    poll_until(lambda: ready_connector("steady"), 90, "the steady Connector Ready")
    logs = [pod_runner.work_dir / namespace / p.metadata.name / "worker-8083.log" for p in _pods(api, namespace)]
    generation = poll_until(lambda: settled_generation(logs), 90, "both workers settled in one generation")

    def after_a_rebalance(what: str) -> int:
        """The group settled again in a later generation: `what` did cause a rebalance."""
        return poll_until(
            lambda: (g := settled_generation(logs)) is not None and g > generation and g, 90, f"a rebalance for {what}"
        )

    sampler.phase = "connector changes"
    names = [f"c{i}" for i in range(CHANGES)]
    for name in names:
        connectors.create(namespace=namespace, body=_connector(name, data_dir, namespace))
        poll_until(lambda: ready_connector(name), 90, f"{name} Ready")  # noqa: B023
        generation = after_a_rebalance(f"creating {name}")
    for name in names:
        connectors.delete(namespace=namespace, name=name)
        poll_until(
            lambda: all(c.metadata.name != name for c in connectors.get(namespace=namespace).items),  # noqa: B023
            90,
            f"{name} deleted from Connect and released",
        )
        generation = after_a_rebalance(f"deleting {name}")

    sampler.phase = "worker replaced"
    victim = _pods(api, namespace)[0].metadata.name
    client.CoreV1Api(api).delete_namespaced_pod(victim, namespace)
    # First the shortfall (a status read before the deletion still says 2/2), then the recovery.
    poll_until(
        lambda: _condition(cluster_status(), "Degraded") == ("True", "WorkersNotReady"),
        60,
        "the KafkaConnect reporting one worker short",
    )

    def replaced() -> bool:
        names_now = {p.metadata.name for p in _pods(api, namespace)}
        return victim not in names_now and whole()

    poll_until(replaced, 150, "a replacement worker and the KafkaConnect whole again")
    sampler.phase = "done"

    changes, replacement = sampler.of("connector changes"), sampler.of("worker replaced")
    print(f"\nconnector changes: {_summary(changes)}\nworker replaced: {_summary(replacement)}")
    assert len(changes) >= 50 and len(replacement) >= 25, "sampled every ~0.2 s throughout"
    # Six rebalances, and the KafkaConnect stayed Ready with both workers through every one of them.
    assert all(s.ready == ("True", "WorkersReady") for s in changes), _summary(changes)
    assert all(s.degraded[1] != "WorkersNotReady" and s.ready_replicas == 2 for s in changes), _summary(changes)
    assert all(s.connectors.get("steady", ("True", ""))[0] == "True" for s in changes), _summary(changes)
    # A replaced worker: still serving with the other one (Ready), short of what was asked (Degraded).
    assert all(s.ready[0] == "True" for s in replacement), _summary(replacement)
    short = [s for s in replacement if s.degraded == ("True", "WorkersNotReady")]
    assert short and all(s.ready_replicas == 1 for s in short), _summary(replacement)
    # So no Connector was ever held back for its cluster.
    held = [s for s in changes + replacement if any(r == "ClusterNotReady" for _, r in s.connectors.values())]
    assert not held, _summary(held)
