"""Benchmark: Connectors applied through the operator (the whole local loop) vs the raw REST loop.

The same local stack as `kco dev`: broker, control plane, the operator, one real worker Pod. Prints
the time from applying N Connector resources to all of them Ready in status (and RUNNING in
Connect), REST calls per steady-state sync (from the operator's own metrics), the time from a
spec edit to the new config in Connect, and the raw parallel-PUT loop for N other connectors on
the same cluster. Run: `.venv/bin/python bench/operator_bench.py --connectors 20`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client, dynamic
from prometheus_client import REGISTRY

from connect_operator.cli.dev import EXAMPLES, local_kafkaconnect
from connect_operator.connect.client import ConnectClient
from connect_operator.devkit.stack import FIELD_MANAGER, LocalStack
from connect_operator.kube import client as kube
from connect_worker import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engine_bench import SOURCE, _desired, raw_loop

NAMESPACE = "default"
T = TypeVar("T")


def wait(probe: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def rest_calls() -> float:
    total = 0.0
    for family in REGISTRY.collect():
        if family.name == "kco_connect_rest_requests":
            total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connectors", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8, help="of the raw loop")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kco-operator-bench-"))
    with LocalStack(work, settings.cache_dir(), settings.kafka_home()) as stack:
        assert stack.api is not None
        resources = dynamic.DynamicClient(stack.api).resources  # type: ignore[no-untyped-call]
        kafkaconnects = resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
        connectors = resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
        manifest = yaml.safe_load((EXAMPLES / "kafkaconnect.yaml").read_text())
        kafkaconnects.server_side_apply(
            body=local_kafkaconnect(manifest, stack.bootstrap_servers, 1),
            namespace=NAMESPACE,
            field_manager=FIELD_MANAGER,
        )
        url = wait(lambda: _worker_url(stack.api), 180, "a ready worker Pod")
        wait(lambda: _cluster_ready(kafkaconnects), 60, "the KafkaConnect Ready")
        print(f"Stack and one worker Pod ready; Connect at {url}", flush=True)

        names = [f"op-{i}" for i in range(args.connectors)]
        started = time.monotonic()
        for name in names:
            body = {
                "apiVersion": "kco.dev/v1alpha1",
                "kind": "Connector",
                "metadata": {"name": name},
                "spec": {"cluster": "local", "class": SOURCE, "config": {"file": str(work / name), "topic": "bench"}},
            }
            connectors.server_side_apply(body=body, namespace=NAMESPACE, field_manager=FIELD_MANAGER)
        wait(lambda: _all_ready(connectors, names), 600, f"{len(names)} Connectors Ready")
        operator_seconds = time.monotonic() - started

        syncs = metric("kco_sync_duration_seconds_count", namespace=NAMESPACE, cluster="local")
        calls = rest_calls()
        wait(
            lambda: metric("kco_sync_duration_seconds_count", namespace=NAMESPACE, cluster="local") >= syncs + 5,
            60,
            "five steady syncs",
        )
        steady_syncs = metric("kco_sync_duration_seconds_count", namespace=NAMESPACE, cluster="local") - syncs
        per_sync = (rest_calls() - calls) / steady_syncs

        edited = time.monotonic()
        connectors.patch(
            namespace=NAMESPACE,
            name=names[0],
            content_type="application/merge-patch+json",
            body={"spec": {"config": {"topic": "bench-edited"}}},
        )
        wait(lambda: asyncio.run(_topic(url, names[0])) == "bench-edited", 60, "the edit in Connect")
        edit_seconds = time.monotonic() - edited

        raw = _desired("raw", args.connectors, work)
        puts_done, raw_seconds, raw_requests = asyncio.run(raw_loop(url, raw, args.concurrency))

    print(f"N = {args.connectors} FileStream source connectors, one worker Pod, local stack")
    print(f"operator: apply -> all Ready in status          {operator_seconds:6.1f} s")
    print(
        f"raw loop: PUTs done {puts_done:5.1f} s, all RUNNING          {raw_seconds:6.1f} s ({raw_requests} requests)"
    )
    print(f"operator steady state: REST calls per sync       {per_sync:6.2f} (over {steady_syncs:.0f} syncs)")
    print(f"operator: spec edit -> new config in Connect     {edit_seconds:6.2f} s")


def _worker_url(api: client.ApiClient | None) -> str | None:
    assert api is not None
    ips = kube.ready_pod_ips(api, NAMESPACE, "kco.dev/cluster=local")
    return f"http://{ips[0]}:8083" if ips else None


def _cluster_ready(kafkaconnects: Any) -> bool:
    status = kafkaconnects.get(namespace=NAMESPACE, name="local").to_dict().get("status") or {}
    return any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or [])


def _all_ready(connectors: Any, names: list[str]) -> bool:
    ready = 0
    for item in connectors.get(namespace=NAMESPACE).items:
        status = item.to_dict().get("status") or {}
        if any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or []):
            ready += item.metadata.name in names
    return ready == len(names)


async def _topic(url: str, name: str) -> str:
    async with ConnectClient(url) as rest:
        return (await rest.get_config(name)).get("topic", "")


if __name__ == "__main__":
    main()
