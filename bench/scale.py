"""Benchmark (goals 2-5): apply N Connectors through the operator vs a raw parallel-PUT client, steady state, memory.

The local stack with the operator as its own process (default settings: a 15 s status interval). One
KafkaConnect per run of `--workers` real workers; optionally `--idle-clusters` more KafkaConnects scaled to zero
(no workers: their Connectors are held `ClusterNotReady`) sharing `--idle-connectors` Connectors; and
optionally `--unrelated-secrets` Secrets and `--unrelated-pods` Pods (Pending: no node runs them) in the
watched namespace, created after the first steady window, before a second one.

Each of `--runs` runs applies N Connectors (FileStream sources tailing empty files; created by 8
threads, as a parallel `kubectl apply` would) and waits for all `Ready=True`, and runs the raw client:
N other connectors PUT with 16 in parallel (409s, 5xx and a restarting worker retried), then polled until
all RUNNING. Each run has a fresh cluster; the raw client shares it (the second side finds the first's N
connectors there, the order alternating between runs) or, with `--raw-cluster-of-its-own`, has a fresh
one of the same size. The last run's operator Connectors stay for the steady state.

Steady state (`--steady-seconds` after settling): syncs, Connect REST calls per sync (the operator's
metrics), Kubernetes writes (the operator's own client, from its metrics; and every client's, from the
apiserver's apiserver_request_total by verb and resource), operator RSS (VmRSS, VmHWM) and CPU.

Run: `.venv/bin/python bench/scale.py --connectors 200 --runs 3`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchstack import Stack, cpu_percent, dump, load, machine, proc_sample, total, wait
from engine_bench import _desired, raw_loop

NAMESPACE, MAIN = "bench-scale", "main"


def create_connectors(stack: Stack, names: list[str], cluster: str) -> None:
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: stack.create_connector(NAMESPACE, n, cluster), names))


def operator_apply(stack: Stack, names: list[str], cluster: str) -> float:
    started = time.monotonic()
    create_connectors(stack, names, cluster)
    # About 1.2 s of rebalances per connector here: 30 minutes, or 4 s each for large N.
    deadline = max(1800.0, 4.0 * len(names))
    wait(lambda: stack.ready_connectors(NAMESPACE) >= set(names), deadline, f"{len(names)} Connectors Ready", 0.5)
    return time.monotonic() - started


class Steady:
    """Counters at the start of a window, and their differences at its end."""

    def __init__(self, stack: Stack) -> None:
        assert stack.operator is not None
        self.stack, self.operator = stack, stack.operator
        self.metrics = self.operator.metrics()
        self.writes = stack.writes_by_resource()
        self.proc = proc_sample(self.operator.pid)

    def end(self) -> dict[str, Any]:
        metrics, writes, proc = self.operator.metrics(), self.stack.writes_by_resource(), proc_sample(self.operator.pid)

        def delta(name: str, **match: str) -> float:
            return total(metrics, name, **match) - total(self.metrics, name, **match)

        syncs = delta("kco_sync_duration_seconds_count")
        # Syncs of clusters with workers (the ones scaled to zero call no REST): the REST count has no cluster label.
        main_syncs = sum(
            value - self.metrics.get((name, labels), 0.0)
            for (name, labels), value in metrics.items()
            if name == "kco_sync_duration_seconds_count" and not dict(labels).get("cluster", "").startswith("idle-")
        )
        kube_writes = sum(delta("kco_kube_requests_total", verb=verb) for verb in ("POST", "PUT", "PATCH", "DELETE"))
        apiserver = {k: v - self.writes.get(k, 0.0) for k, v in writes.items() if v - self.writes.get(k, 0.0)}
        by_call: dict[str, float] = {}
        for (name, labels), value in metrics.items():
            if name == "kco_kube_requests_total":
                label = dict(labels)
                key = f"{label['verb']} {label['resource']}"
                if change := value - self.metrics.get((name, labels), 0.0):
                    by_call[key] = change
        return {
            "seconds": proc.at - self.proc.at,
            "syncs": syncs,
            "main_syncs": main_syncs,
            "rest_calls": delta("kco_connect_rest_requests_total"),
            "rest_per_sync": delta("kco_connect_rest_requests_total") / main_syncs if main_syncs else None,
            "kube_writes_operator_client": kube_writes,
            "kube_requests_operator_client": delta("kco_kube_requests_total"),
            "kube_requests_by_call": by_call,
            "apiserver_writes": apiserver,
            "rss_mb": proc.rss_mb,
            "hwm_mb": proc.hwm_mb,
            "cpu_percent": cpu_percent(self.proc, proc),
        }


def steady_window(stack: Stack, seconds: float, label: str) -> dict[str, Any]:
    print(f"[{label}] steady window of {seconds:.0f} s; {load()}", flush=True)
    window = Steady(stack)
    # The window itself: what is measured is what happens in it. RSS is sampled every second, since the
    # operator hands freed memory back every 30 s and one sample would land anywhere in that cycle.
    assert stack.operator is not None
    ends, rss = time.monotonic() + seconds, []
    while (left := ends - time.monotonic()) > 0:
        rss.append(proc_sample(stack.operator.pid).rss_mb)
        time.sleep(min(1.0, left))
    figures = window.end()
    figures["rss_max_mb"], figures["rss_median_mb"] = max(rss), statistics.median(rss)
    figures["load_end"] = load()
    print_steady(label, figures)
    return figures


def print_steady(label: str, f: dict[str, Any]) -> None:
    operator_writes = {k: v for k, v in f["apiserver_writes"].items() if k not in _NOT_OPERATOR}
    print(f"[{label}] over {f['seconds']:.0f} s: {f['syncs']:.0f} syncs ({f['main_syncs']:.0f} with workers)")
    print(f"[{label}]   Connect REST calls: {f['rest_calls']:.0f}, per sync with workers: {f['rest_per_sync']}")
    print(
        f"[{label}]   Kubernetes writes by the operator's client: {f['kube_writes_operator_client']:.0f} "
        f"(of {f['kube_requests_operator_client']:.0f} requests: {f['kube_requests_by_call']})"
    )
    print(f"[{label}]   apiserver writes by resource (every client): {f['apiserver_writes']}")
    print(f"[{label}]   of which to resources only the operator writes: {operator_writes}")
    print(
        f"[{label}]   operator RSS {f['rss_mb']:.1f} MB at the end, {f['rss_median_mb']:.1f} MB median and "
        f"{f['rss_max_mb']:.1f} MB at most in the window (high water {f['hwm_mb']:.1f} MB), "
        f"CPU {f['cpu_percent']:.1f} %"
    )


# Written by the pod runner (Pod status, Node heartbeats and Leases) and the controller-manager.
_NOT_OPERATOR = {
    "pods/status",
    "nodes/status",
    "leases",
    "nodes",
    "deployments/status",
    "replicasets/status",
    "replicasets",
    "pods",
    "endpoints",
    "events",
    "serviceaccounts",
    "secrets",
    "pods/binding",
    "configmaps",
}


def create_unrelated(stack: Stack, secrets: int, pods: int) -> float:
    started = time.monotonic()
    data = {"password": "c2VjcmV0LXZhbHVlLW9mLXNvbWUtbGVuZ3Ro", "token": "dG9rZW4tdmFsdWUtb2Ytc29tZS1sZW5ndGg="}

    def secret(i: int) -> None:
        body = client.V1Secret(metadata=client.V1ObjectMeta(name=f"unrelated-{i}", labels={"app": "other"}), data=data)
        stack.core.create_namespaced_secret(NAMESPACE, body)

    def pod(i: int) -> None:
        container = client.V1Container(name="app", image="example.com/other:1", args=["serve"])
        body = client.V1Pod(
            metadata=client.V1ObjectMeta(name=f"unrelated-{i}", labels={"app": "other"}),
            spec=client.V1PodSpec(containers=[container]),
        )
        stack.core.create_namespaced_pod(NAMESPACE, body)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(secret, range(secrets)))
        list(pool.map(pod, range(pods)))
    return time.monotonic() - started


def main() -> None:  # noqa: PLR0915 - one benchmark, step by step
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connectors", type=int, default=200, help="N, in the cluster with workers")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="of each cluster")
    parser.add_argument("--no-raw", action="store_true", help="skip the raw client")
    parser.add_argument(
        "--raw-cluster-of-its-own",
        action="store_true",
        help="the raw client on a fresh cluster of its own (same size), not the operator's: for large N, where "
        "2 x N connectors on one cluster is more than its workers hold",
    )
    parser.add_argument("--idle-clusters", type=int, default=0, help="KafkaConnects scaled to zero")
    parser.add_argument("--idle-connectors", type=int, default=0, help="Connectors spread over them")
    parser.add_argument("--unrelated-secrets", type=int, default=0)
    parser.add_argument("--unrelated-pods", type=int, default=0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--json", type=Path, help="write the figures here (bench/report.py reads them)")
    parser.add_argument("--timeline", action="store_true", help="run the operator with bench/timeline.py's hooks")
    parser.add_argument("--operator-env", action="append", default=[], help="KEY=VALUE for the operator's process")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kco-scale-bench-"))
    (work / "data").mkdir()
    figures: dict[str, Any] = {
        "n": args.connectors,
        "machine": machine(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    figures["load_start"] = load()
    print(f"machine: {figures['machine']}; {figures['load_start']} at the start", flush=True)
    with Stack(work, (NAMESPACE,)) as stack:
        env = dict(item.split("=", 1) for item in args.operator_env)
        stack.start_operator(work / "timeline.jsonl" if args.timeline else None, env)
        figures["operator_env"] = env
        print(f"work dir {work}", flush=True)
        # A fresh cluster per run: nothing is deleted between runs (a mass delete is its own benchmark). Unless
        # the raw client has a cluster of its own, each run's second side finds the first side's N connectors
        # there, the order alternating.
        clusters = [f"{MAIN}-{run}" for run in range(args.runs)]
        raw_clusters = [f"raw-{run}" for run in range(args.runs)] if args.raw_cluster_of_its_own else clusters
        every_cluster = list(dict.fromkeys([*clusters, *raw_clusters]))
        for cluster in every_cluster:
            stack.apply_kafkaconnect(NAMESPACE, cluster, replicas=args.workers)
        for cluster in every_cluster:
            wait(lambda: len(stack.worker_urls(NAMESPACE, cluster)) == args.workers, 600, "ready workers", 0.5)  # noqa: B023
            wait(lambda: stack.cluster_ready(NAMESPACE, cluster), 300, "the KafkaConnect Ready", 0.5)  # noqa: B023
        print(f"{len(every_cluster)} clusters Ready, {args.workers} workers each; {load()}", flush=True)
        figures["workers"] = args.workers
        figures["raw_cluster_of_its_own"] = args.raw_cluster_of_its_own
        applies: list[dict[str, float]] = []
        for run, cluster in enumerate(clusters):
            url = sorted(stack.worker_urls(NAMESPACE, raw_clusters[run]))[0]
            op_names = [f"op{run}-{i}" for i in range(args.connectors)]
            raw = _desired(f"raw{run}", args.connectors, work / "data")
            # Empty files to tail: a FileStream task whose file is missing logs a warning every second,
            # 1,000 lines a second from 1,000 tasks, which slowed the worker's /health past its probe.
            for name in [*op_names, *raw]:
                (work / "data" / f"{name}.txt").touch()
            timing: dict[str, float] = {}
            steps = ["operator", "raw"] if run % 2 == 0 else ["raw", "operator"]
            for step in steps:
                if step == "operator":
                    assert stack.operator is not None
                    before = stack.operator.metrics()
                    timing["operator"] = operator_apply(stack, op_names, cluster)
                    after = stack.operator.metrics()
                    for verb, resource in (("PATCH", "connectors/status"), ("PATCH", "connectors")):
                        name = f"kube {verb} {resource} during the apply"
                        counted = total(after, "kco_kube_requests_total", verb=verb, resource=resource)
                        timing[name] = counted - total(before, "kco_kube_requests_total", verb=verb, resource=resource)
                elif not args.no_raw:
                    _, timing["raw"], _ = asyncio.run(raw_loop(url, raw, 16))
            applies.append(timing)
            ratio = f", operator/raw {timing['operator'] / timing['raw']:.2f}" if "raw" in timing else ""
            print(
                f"run {run} ({' then '.join(steps)}, on {cluster}): operator apply → all Ready "
                f"{timing['operator']:.1f} s; raw PUTs → all RUNNING {timing.get('raw', float('nan')):.1f} s"
                f"{ratio}; {load()}; {[(k, v) for k, v in timing.items() if k.startswith('kube')]}",
                flush=True,
            )
        figures["applies"] = applies
        for index in range(args.idle_clusters):
            stack.apply_kafkaconnect(NAMESPACE, f"idle-{index}", replicas=0)
        if args.idle_connectors:
            idle = [f"idle{i}" for i in range(args.idle_connectors)]
            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda i: stack.create_connector(NAMESPACE, idle[i], f"idle-{i % args.idle_clusters}"),
                        range(len(idle)),
                    )
                )
            wait(
                lambda: len(stack.with_ready_condition(NAMESPACE)) >= args.connectors + len(idle),
                900,
                "every Connector with a status",
                1.0,
            )
            print(
                f"{len(idle)} Connectors on {args.idle_clusters} clusters without workers, "
                f"each with a status in {time.monotonic() - started:.0f} s",
                flush=True,
            )
        # Settled: the last apply's follow-up syncs and the Connectors' first status writes are over.
        time.sleep(20)
        figures["steady"] = steady_window(stack, args.steady_seconds, "steady")
        if args.unrelated_secrets or args.unrelated_pods:
            seconds = create_unrelated(stack, args.unrelated_secrets, args.unrelated_pods)
            print(
                f"created {args.unrelated_secrets} unrelated Secrets and {args.unrelated_pods} Pods in {seconds:.0f} s",
                flush=True,
            )
            time.sleep(20)
            figures["unrelated"] = steady_window(stack, args.steady_seconds, "with unrelated objects")
    figures["load_end"] = load()
    print_summary(figures)
    dump(args.json, figures)


def print_summary(figures: dict[str, Any]) -> None:
    applies = figures["applies"]
    operator = statistics.median(a["operator"] for a in applies)
    print(f"\nN = {figures['n']} FileStream source connectors on {figures['workers']} workers; {figures['machine']}")
    each = [round(a["operator"], 1) for a in applies]
    print(f"operator apply → all Ready (median of {len(applies)}): {operator:.1f} s  {each}")
    if all("raw" in a for a in applies):
        raw = statistics.median(a["raw"] for a in applies)
        ratios = [a["operator"] / a["raw"] for a in applies]
        print(f"raw parallel PUTs → all RUNNING (median):      {raw:.1f} s  {[round(a['raw'], 1) for a in applies]}")
        print(f"operator / raw: median {statistics.median(ratios):.2f}  per run {[round(r, 2) for r in ratios]}")
    steady = figures["steady"]
    print(
        f"steady: {steady['rest_per_sync']} REST calls per sync of a cluster with workers, "
        f"{steady['kube_writes_operator_client']:.0f} Kubernetes writes by the operator's client "
        f"in {steady['syncs']:.0f} syncs; "
        f"RSS {steady['rss_mb']:.1f} MB (at most {steady['rss_max_mb']:.1f}, HWM {steady['hwm_mb']:.0f}), "
        f"CPU {steady['cpu_percent']:.1f} %"
    )
    print(f"load: {figures['load_start']} at the start, {figures['load_end']} at the end")


if __name__ == "__main__":
    main()
