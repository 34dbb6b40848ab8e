"""Benchmark: delete N Connectors at once (a `kubectl delete -f` of a folder, an Argo CD prune) and see
every one leave Connect, none recorded as left behind while Connect answers.

The local stack with the operator as its own process (default settings: a 60 s delete grace). One
KafkaConnect `main` of 2 real workers; N Connectors applied (8 threads) and waited for until Ready, then
deleted by 8 threads. Prints: seconds until the last Connector object is gone, seconds until Connect lists
none, how many Connect still lists then, the KafkaConnect's status.leftoverConnectors, the
ConnectorLeftInConnect Warnings, and the operator's Kubernetes requests during the delete.

Run: `.venv/bin/python bench/mass_delete.py --connectors 200`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchstack import Stack, dump, load, machine, total, wait

from connect_operator.api.v1alpha1 import GROUP, VERSION

NAMESPACE, MAIN = "bench-delete", "main"


def in_connect(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/connectors", timeout=10) as answer:
        names: list[str] = json.load(answer)
    return names


def connector_objects(stack: Stack) -> list[str]:
    listed: dict[str, Any] = stack.custom.list_namespaced_custom_object(  # type: ignore[assignment]
        GROUP, VERSION, NAMESPACE, "connectors"
    )
    return [o["metadata"]["name"] for o in listed["items"]]


def warnings_about_leftovers(stack: Stack) -> int:
    core: Any = client.CoreV1Api(stack.api)
    listed = core.list_namespaced_event(NAMESPACE, field_selector="reason=ConnectorLeftInConnect")
    return len(listed.items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connectors", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kco-delete-bench-"))
    (work / "data").mkdir()
    figures: dict[str, Any] = {"n": args.connectors, "machine": machine()}
    with Stack(work, (NAMESPACE,)) as stack:
        operator = stack.start_operator()
        stack.apply_kafkaconnect(NAMESPACE, MAIN, replicas=args.workers)
        wait(lambda: len(stack.worker_urls(NAMESPACE, MAIN)) == args.workers, 600, "ready workers", 0.5)
        wait(lambda: stack.cluster_ready(NAMESPACE, MAIN), 300, "the KafkaConnect Ready", 0.5)
        url = sorted(stack.worker_urls(NAMESPACE, MAIN))[0]
        names = [f"del-{i}" for i in range(args.connectors)]
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: stack.create_connector(NAMESPACE, n, MAIN), names))
        wait(lambda: stack.ready_connectors(NAMESPACE) >= set(names), 1800, f"{len(names)} Ready", 0.5)
        figures["apply_seconds"] = time.monotonic() - started
        print(f"{len(names)} Connectors Ready in {figures['apply_seconds']:.1f} s; {load()}", flush=True)

        before = operator.metrics()
        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda n: stack.custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "connectors", n),
                    names,
                )
            )
        wait(lambda: not connector_objects(stack), 900, "every Connector object gone", 0.5)
        figures["objects_gone_seconds"] = time.monotonic() - started
        with contextlib.suppress(AssertionError):  # what is still there is the figure
            wait(lambda: not in_connect(url), 120, "Connect listing none", 0.5)
        figures["connect_empty_seconds"] = time.monotonic() - started
        figures["still_in_connect"] = len(in_connect(url))
        after = operator.metrics()
        status: dict[str, Any] = stack.custom.get_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, NAMESPACE, "kafkaconnects", MAIN
        )
        figures["leftover_connectors"] = len((status.get("status") or {}).get("leftoverConnectors") or [])
        figures["left_in_connect_warnings"] = warnings_about_leftovers(stack)
        figures["operator_kube_requests_during_delete"] = total(after, "kco_kube_requests_total") - total(
            before, "kco_kube_requests_total"
        )
        figures["load_end"] = load()
    print(
        f"delete of {args.connectors} at once: objects gone in {figures['objects_gone_seconds']:.1f} s, "
        f"Connect empty after {figures['connect_empty_seconds']:.1f} s; still in Connect: "
        f"{figures['still_in_connect']}; leftoverConnectors: {figures['leftover_connectors']}; "
        f"ConnectorLeftInConnect Warnings: {figures['left_in_connect_warnings']}; the operator's Kubernetes "
        f"requests meanwhile: {figures['operator_kube_requests_during_delete']:.0f}; {figures['load_end']}",
        flush=True,
    )
    dump(args.json, figures)


if __name__ == "__main__":
    main()
