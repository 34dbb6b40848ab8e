"""`kco dev`, the README's main command: the whole operator loop on one machine.

A local broker, a Kubernetes control plane with the CRDs, the operator and the pod runner; then
`examples/kafkaconnect.yaml` (pointed at the local broker) and the example pipeline applied as
resources, with a live table of the Connectors' status until Ctrl-C. `--no-kube` runs just a
2-worker Connect cluster and the sync engine, for a machine without the control plane build.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import logging
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from kubernetes import dynamic

from connect_operator import runner
from connect_operator.cli import main as cli
from connect_operator.cli import manifests, output
from connect_operator.connect.client import ConnectClient
from connect_operator.devkit import k8sbuild, nodestack, progress
from connect_operator.devkit.stack import FIELD_MANAGER, LocalStack
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector, from_connector
from connect_operator.engine.planner import PlannerSettings
from connect_worker import settings
from connect_worker.errors import WorkerError
from connect_worker.testbed import Testbed

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NAMESPACE = "default"
# The example source reads this file; the sink writes the other (relative to the pipeline folder).
PIPELINE_INPUT = "pipeline-input.txt"
PIPELINE_OUTPUT = "pipeline-output.txt"


LOG_FILE = "kco-dev.log"


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.filename] if args.filename else [EXAMPLES / "connectors"]
    loaded = manifests.load(paths)
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="kco-dev-"))
    log_file = _log_to_file(work_dir)
    print(f"kco dev: everything runs under {work_dir}; the operator's log is {log_file}", flush=True)
    try:
        if args.no_kube:
            return _run_connect_only(loaded, work_dir, args)
        reason = "--pod-runner" if args.pod_runner else nodestack.why_not(settings.cache_dir())
        if reason is None:
            return _run_on_a_node(loaded, work_dir, args)
        print(f"kco dev: worker Pods run as local processes (the pod runner), not on a real node: {reason}", flush=True)
        return _run_whole_loop(loaded, work_dir, args)
    except (WorkerError, k8sbuild.BuildError, runner.OperatorStartError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return cli.EXIT_USAGE
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return cli.EXIT_OK


def _run_whole_loop(loaded: list[manifests.LoadedConnector], work_dir: Path, args: argparse.Namespace) -> int:
    pipeline = work_dir / "pipeline"
    pipeline.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    shown = progress.Progress.to(sys.stdout)
    with LocalStack(work_dir, settings.cache_dir(), settings.kafka_home(), phase=shown.phase) as stack:
        assert stack.api is not None and stack.timings is not None
        timings = stack.timings
        print(
            f"Broker {stack.bootstrap_servers} in {timings.broker:.1f} s; Kubernetes in {timings.control_plane:.1f} s; "
            f"operator and pod runner in {timings.operator:.1f} s.",
            flush=True,
        )
        cluster = local_kafkaconnect(_read_one(EXAMPLES / "kafkaconnect.yaml"), stack.bootstrap_servers, args.workers)
        return _apply_and_watch(stack.api, stack.kubeconfig, cluster, loaded, pipeline, started, args)


def _run_on_a_node(loaded: list[manifests.LoadedConnector], work_dir: Path, args: argparse.Namespace) -> int:
    pipeline = work_dir / "pipeline"
    pipeline.mkdir(parents=True, exist_ok=True)
    # The workers run as uid 1000 and write the sink's file here, through a hostPath volume.
    pipeline.chmod(0o777)
    started = time.monotonic()
    shown = progress.Progress.to(sys.stdout)
    print("kco dev: on a real node (kubelet, containerd); the operator runs as a Pod from the Helm chart.", flush=True)
    with nodestack.NodeStack(work_dir, settings.cache_dir(), phase=shown.phase) as stack:
        assert stack.api is not None and stack.release is not None
        print(
            f"Broker {stack.bootstrap_servers}; operator Pod {stack.release.namespace}/{stack.release.pod}; "
            f"ready in {time.monotonic() - started:.1f} s.",
            flush=True,
        )
        cluster = on_the_node(
            local_kafkaconnect(_read_one(EXAMPLES / "kafkaconnect.yaml"), stack.bootstrap_servers, args.workers),
            stack.connect_image,
            pipeline,
        )
        return _apply_and_watch(stack.api, stack.kubeconfig, cluster, loaded, pipeline, started, args)


def on_the_node(cluster: Mapping[str, Any], image: str, pipeline: Path) -> dict[str, Any]:
    """The local KafkaConnect on a real node: the Connect image built here, the pipeline folder mounted at its
    own path (the example's FileStream connectors read and write files there)."""
    body = copy.deepcopy(dict(cluster))
    spec = body["spec"]
    spec["image"] = image
    pod = spec.setdefault("template", {}).setdefault("pod", {})
    pod.setdefault("volumes", []).append(
        {"name": "kco-dev-pipeline", "hostPath": {"path": str(pipeline), "type": "Directory"}}
    )
    pod.setdefault("volumeMounts", []).append({"name": "kco-dev-pipeline", "mountPath": str(pipeline)})
    return body


def _apply_and_watch(
    api: Any,
    kubeconfig: Path,
    cluster: dict[str, Any],
    loaded: list[manifests.LoadedConnector],
    pipeline: Path,
    started: float,
    args: argparse.Namespace,
) -> int:
    """Apply the KafkaConnect and the Connectors; then the live table until Ctrl-C (or, with --once, Ready)."""
    print(f"export KUBECONFIG={kubeconfig}\nkubectl get kafkaconnects,connectors", flush=True)
    resources = dynamic.DynamicClient(api).resources
    kafkaconnects = resources.get(api_version="kco.dev/v1alpha1", kind="KafkaConnect")
    connectors = resources.get(api_version="kco.dev/v1alpha1", kind="Connector")
    kafkaconnects.server_side_apply(body=cluster, namespace=NAMESPACE, field_manager=FIELD_MANAGER)
    for item in loaded:
        body = with_local_files(item.document, pipeline)
        connectors.server_side_apply(body=body, namespace=NAMESPACE, field_manager=FIELD_MANAGER)
    stop_feed = threading.Event()
    threading.Thread(target=_feed, args=(pipeline / PIPELINE_INPUT, stop_feed), daemon=True).start()
    view = progress.LiveBlock.to(sys.stdout)
    try:
        while True:
            statuses = {
                item.metadata.name: item.to_dict().get("status") or {}
                for item in connectors.get(namespace=NAMESPACE).items
            }
            delivered = _count_lines(pipeline / PIPELINE_OUTPUT)
            view.show(
                f"{status_table(statuses)}\n\nPipeline: {delivered} lines delivered to "
                f"{pipeline / PIPELINE_OUTPUT} ({time.monotonic() - started:.0f} s). Ctrl-C stops."
            )
            if args.once and delivered and statuses and all(_ready(s) for s in statuses.values()):
                return cli.EXIT_OK
            time.sleep(2.0)
    finally:
        stop_feed.set()


def local_kafkaconnect(manifest: Mapping[str, Any], bootstrap_servers: str, replicas: int) -> dict[str, Any]:
    """The example KafkaConnect on the local single broker: replication factor 1, the local address."""
    body = copy.deepcopy(dict(manifest))
    spec = body["spec"]
    spec["bootstrapServers"] = bootstrap_servers
    spec["replicas"] = replicas
    for topic in ("config", "offset", "status"):
        spec.setdefault("internalTopics", {}).setdefault(topic, {})["replicationFactor"] = 1
    return body


def with_local_files(document: Mapping[str, Any], folder: Path) -> dict[str, Any]:
    """Worker Pods here share one host but not a working folder: FileStream paths made absolute."""
    body = copy.deepcopy(dict(document))
    config = body.get("spec", {}).get("config", {})
    if isinstance(config.get("file"), str) and not Path(config["file"]).is_absolute():
        config["file"] = str(folder / config["file"])
    return body


def status_table(statuses: Mapping[str, Mapping[str, Any]]) -> str:
    rows = [("NAME", "STATE", "TASKS", "READY", "MESSAGE")]
    for name in sorted(statuses):
        status = statuses[name]
        ready: Mapping[str, Any] = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), {})
        rows.append(
            (
                name,
                str(status.get("state") or "-"),
                str(status.get("tasksReady") or "-"),
                "yes" if ready.get("status") == "True" else "no",
                str(ready.get("message") or "waiting for the operator"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows)


def _ready(status: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def _read_one(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} holds one KafkaConnect"
    return document


def _run_connect_only(loaded: list[manifests.LoadedConnector], work_dir: Path, args: argparse.Namespace) -> int:
    desired = {d.name: d for d in (from_connector(item.connector) for item in loaded)}
    started = time.monotonic()
    with Testbed(work_dir, settings.cache_dir(), kafka_home=settings.kafka_home(), workers=args.workers) as bed:
        assert bed.cluster is not None
        print(bed.addresses())
        print(f"Workers ready in {time.monotonic() - started:.1f} s; logs in {work_dir}", flush=True)
        return asyncio.run(_live(bed.cluster.rest_urls[0], bed.cluster.work_dir, desired, once=args.once))


async def _live(url: str, pipeline_dir: Path, desired: dict[str, DesiredConnector], *, once: bool) -> int:
    stop_feed = threading.Event()
    threading.Thread(target=_feed, args=(pipeline_dir / PIPELINE_INPUT, stop_feed), daemon=True).start()
    try:
        async with ConnectClient(url) as client:
            report = await cli.apply(client, desired, PlannerSettings(), wait_seconds=120)
            memory = report.memory
            view = progress.LiveBlock.to(sys.stdout)
            while True:
                report = await syncing.sync(client, desired, memory)
                memory = report.memory
                delivered = _count_lines(pipeline_dir / PIPELINE_OUTPUT)
                view.show(
                    f"{output.table(report.results)}\n\nPipeline: {delivered} lines delivered to "
                    f"{pipeline_dir / PIPELINE_OUTPUT}. Ctrl-C stops."
                )
                if once and delivered and all(r.ready for r in report.results.values()):
                    return cli.EXIT_OK
                await asyncio.sleep(2.0)
    finally:
        stop_feed.set()


def _log_to_file(work_dir: Path) -> Path:
    """Every log record (the operator's, kopf's, the clients') to a file, none on the terminal: the person
    at it sees the steps and the table, and the first lines name the file for the rest."""
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / LOG_FILE
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    return path


def _feed(path: Path, stop: threading.Event) -> None:
    """Append a line a second, so the example pipeline always has something to carry."""
    number = 0
    while not stop.wait(1.0):
        number += 1
        with path.open("a") as stream:
            stream.write(f"event {number} at {time.strftime('%H:%M:%S')}\n")


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for _ in path.open())
    except OSError:
        return 0
