"""The pod runner's probes as a kubelet reads them from the Pod spec and counts their results."""

from __future__ import annotations

import json

import pytest
from kubernetes import client

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.devkit.podrunner import HttpProbe, ProbeResult, probes_of
from connect_operator.render import cluster
from connect_operator.render.names import ClusterRef

pytestmark = pytest.mark.unit


def _rendered_pod() -> client.V1Pod:
    """The worker Pod the operator renders, read by the kubernetes client as the runner reads Pods."""
    spec = KafkaConnectSpec.model_validate({"bootstrapServers": "k:9092"})
    objects = cluster.render(ClusterRef("c", "ns", "u"), spec, "img").objects
    template = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]
    pod: client.V1Pod = client.ApiClient().deserialize(json.dumps(template), "V1Pod", "application/json")
    return pod


def test_the_rendered_probes_are_read_with_the_named_port_resolved() -> None:
    startup, readiness, liveness = probes_of(_rendered_pod())
    assert readiness == HttpProbe(path="/", port=8083, timeout=3, period=5, failure_threshold=3)
    assert startup is not None and startup.path == "/health" and startup.port == 8083
    assert liveness == HttpProbe(path="/health", port=8083, timeout=10, period=10, failure_threshold=6)


def test_a_probe_left_unset_gets_kubernetes_defaults_and_a_missing_one_is_none() -> None:
    container = client.V1Container(name="connect", ports=[client.V1ContainerPort(container_port=8083, name="rest")])
    probe = client.V1Probe(http_get=client.V1HTTPGetAction(port=8083))
    assert HttpProbe.of(probe, container) == HttpProbe(path="/", port=8083, timeout=1, period=10, failure_threshold=3)
    assert HttpProbe.of(None, container) is None
    assert HttpProbe.of(client.V1Probe(var_exec=client.V1ExecAction(command=["true"])), container) is None


def test_a_verdict_flips_only_after_its_threshold_in_a_row() -> None:
    readiness = ProbeResult(success_threshold=1, failure_threshold=3, passing=False)
    assert readiness.record(True) is True
    assert [readiness.record(False) for _ in range(3)] == [True, True, False]
    assert readiness.record(True) is True


def test_one_success_between_failures_starts_the_count_again() -> None:
    liveness = ProbeResult(success_threshold=1, failure_threshold=3, passing=True)
    outcomes = [False, False, True, False, False]
    assert [liveness.record(ok) for ok in outcomes] == [True] * 5
    assert liveness.record(False) is False and liveness.failures == 3


def test_a_success_threshold_above_one_needs_that_many_in_a_row() -> None:
    readiness = ProbeResult(success_threshold=2, failure_threshold=1, passing=False)
    assert [readiness.record(ok) for ok in (True, False, True, True)] == [False, False, False, True]
