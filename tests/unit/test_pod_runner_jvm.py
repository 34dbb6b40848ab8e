"""The pod runner sizes a worker's heap from the container's KAFKA_HEAP_OPTS, as Connect's start script does."""

from __future__ import annotations

import pytest
from kubernetes import client

from connect_operator.devkit.podrunner import jvm_options_of
from connect_worker.runtime import DEFAULT_JVM_OPTIONS

pytestmark = pytest.mark.unit


def _container(heap_opts: str | None) -> client.V1Container:
    env = [client.V1EnvVar(name="KAFKA_HEAP_OPTS", value=heap_opts)] if heap_opts is not None else []
    return client.V1Container(name="connect", env=[client.V1EnvVar(name="LOG_DIR", value="/tmp"), *env])


def test_the_containers_heap_sizes_replace_the_test_beds() -> None:
    options = jvm_options_of(_container("-Xms256m -Xmx512m"))
    assert [o for o in options if o.startswith("-Xm")] == ["-Xms256m", "-Xmx512m"]
    assert "-XX:+UseSerialGC" in options, "the test bed's other options stay"


def test_one_size_alone_drops_both_defaults_as_the_script_passes_the_variable_whole() -> None:
    # -Xms1g beside the default -Xmx384m would keep the JVM from starting.
    assert [o for o in jvm_options_of(_container("-Xms1g")) if o.startswith("-Xm")] == ["-Xms1g"]


def test_no_sizes_or_only_ram_percentages_keep_the_defaults() -> None:
    assert jvm_options_of(_container(None)) == DEFAULT_JVM_OPTIONS
    # This host has no container memory limit: a percentage would size the heap from the whole machine.
    assert jvm_options_of(_container("-XX:MaxRAMPercentage=75.0")) == DEFAULT_JVM_OPTIONS
