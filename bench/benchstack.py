"""What the platform benchmarks share: the local stack with the operator as its own process, and meters.

The stack is `kco dev`'s (Tansu broker, kube-apiserver 1.20 + controller-manager, the pod runner running
worker Pods as local processes), except that the operator runs as `python -m connect_operator` in a
child process (optionally with `bench/timeline.py`'s hooks), so its RSS and CPU are its own.
Meters: the operator's /metrics, the apiserver's /metrics (apiserver_request_total by verb and
resource), /proc/<pid> for RSS and CPU, and `uptime` for how loaded the machine was.
"""

from __future__ import annotations

import contextlib
import json
import os
import ssl
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from kubernetes import client, config, dynamic

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.devkit import k8sbuild
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.devkit.stack import install_crds
from connect_operator.kube import client as kube
from connect_worker import ports, settings
from connect_worker.supervision import ManagedProcess
from connect_worker.testbed import Testbed

REPO = Path(__file__).resolve().parents[1]
SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
T = TypeVar("T")


def wait(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; exit with `what` past the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def load() -> str:
    """The machine's load averages (1, 5, 15 min), as `uptime` prints them."""
    return "load average " + ", ".join(Path("/proc/loadavg").read_text().split()[:3])


def machine() -> str:
    lines = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in lines if "model name" in line), "?")
    mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return f"{os.cpu_count()} cores ({cpu}), {mem} MB RAM, Python {sys.version.split()[0]}"


@dataclass(frozen=True)
class ProcSample:
    at: float
    rss_mb: float
    hwm_mb: float
    cpu_seconds: float


def proc_sample(pid: int) -> ProcSample:
    """VmRSS and VmHWM from /proc/<pid>/status; user+system CPU from /proc/<pid>/stat."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    # After the ")" of the command: field 3 is the state, so utime (14) and stime (15) are at 11 and 12.
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return ProcSample(
        time.monotonic(),
        int(status["VmRSS"].split()[0]) / 1024,
        int(status["VmHWM"].split()[0]) / 1024,
        cpu,
    )


def cpu_percent(before: ProcSample, after: ProcSample) -> float:
    return 100 * (after.cpu_seconds - before.cpu_seconds) / (after.at - before.at)


class OperatorProcess:
    """`python -m connect_operator` (or bench/timeline.py, which hooks it first) watching `namespaces`."""

    def __init__(
        self,
        kubeconfig: Path,
        namespaces: tuple[str, ...],
        log: Path,
        timeline: Path | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.metrics_port, self.liveness_port = ports.free_port(), ports.free_port()
        env = {
            "KUBECONFIG": str(kubeconfig),
            "KCO_WATCH_NAMESPACES": ",".join(namespaces),
            "KCO_REST_VIA_POD_IPS": "1",
            "KCO_METRICS_PORT": str(self.metrics_port),
            "KCO_LIVENESS_ENDPOINT": f"http://127.0.0.1:{self.liveness_port}/healthz",
            "KCO_LOG_FORMAT": "json",
            # This checkout's code, whichever checkout the benchmark runs from (a baseline worktree too).
            "PYTHONPATH": ":".join(str(REPO / d) for d in ("operator", "worker", ".")),
            **(extra_env or {}),
        }
        argv = [sys.executable, "-m", "connect_operator"]
        if timeline is not None:
            env["KCO_BENCH_TIMELINE"] = str(timeline)
            argv = [sys.executable, str(REPO / "bench" / "timeline.py")]
        self.process = ManagedProcess("operator", argv, log, env=env, cwd=REPO)
        wait(self._alive, 60, "the operator's liveness endpoint", interval=0.2)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        self.process.stop()

    def metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=10) as answer:
            return parse_prometheus(answer.read().decode())

    def _alive(self) -> bool:
        if not self.process.is_running():
            raise SystemExit(f"the operator exited:\n{self.process.log_tail()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False


def parse_prometheus(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """name, labels → value, for every sample line of Prometheus' text format."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name, labels = key, frozenset[tuple[str, str]]()
        if "{" in key:
            name, inner = key[: key.index("{")], key[key.index("{") + 1 : key.rindex("}")]
            labels = frozenset((k, v.strip('"')) for part in _split_labels(inner) for k, _, v in [part.partition("=")])
        with contextlib.suppress(ValueError):
            samples[(name, labels)] = float(value)
    return samples


def _split_labels(inner: str) -> list[str]:
    parts, current, quoted = [], "", False
    for char in inner:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    return [p for p in [*parts, current] if p]


def total(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **match: str) -> float:
    return sum(
        value
        for (sample, labels), value in samples.items()
        if sample == name and all((k, v) in labels for k, v in match.items())
    )


WRITE_VERBS = ("POST", "PUT", "PATCH", "DELETE", "APPLY")


class Stack:
    """Broker, control plane with the CRDs, pod runner for `namespaces`; the operator started separately."""

    def __init__(self, work: Path, namespaces: tuple[str, ...]) -> None:
        self.work, self.namespaces = work, namespaces
        self._exit = contextlib.ExitStack()
        self.testbed = self._exit.enter_context(
            Testbed(work / "broker", settings.cache_dir(), kafka_home=settings.kafka_home(), workers=0)
        )
        self.plane = self._exit.enter_context(ControlPlane(k8sbuild.locate(settings.cache_dir()), work / "kube"))
        self.api = config.new_client_from_config(str(self.plane.endpoints.kubeconfig))  # type: ignore[no-untyped-call]
        install_crds(self.api)
        self.core = client.CoreV1Api(self.api)
        for namespace in namespaces:
            with contextlib.suppress(client.ApiException):
                self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
        self.custom = client.CustomObjectsApi(self.api)
        self.resources = dynamic.DynamicClient(self.api).resources  # type: ignore[no-untyped-call]
        assert self.testbed.runtime is not None
        self.pod_runner = self._exit.enter_context(
            PodRunner(self.api, self.testbed.runtime, work / "pods", namespaces=namespaces)
        )
        self.operator: OperatorProcess | None = None

    def start_operator(self, timeline: Path | None = None, env: dict[str, str] | None = None) -> OperatorProcess:
        self.operator = OperatorProcess(
            self.plane.endpoints.kubeconfig, self.namespaces, self.work / "operator.log", timeline, env
        )
        self._exit.callback(self.operator.stop)
        return self.operator

    def close(self) -> None:
        self._exit.close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # --- the apiserver's own count of requests -------------------------------------------------------

    def apiserver_metrics(self) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
        endpoints = self.plane.endpoints
        context = ssl.create_default_context(cafile=str(endpoints.ca_cert))
        request = urllib.request.Request(
            f"{endpoints.server}/metrics", headers={"Authorization": f"Bearer {endpoints.admin_token}"}
        )
        with urllib.request.urlopen(request, timeout=10, context=context) as answer:
            return parse_prometheus(answer.read().decode())

    def writes_by_resource(self) -> dict[str, float]:
        """apiserver_request_total of write verbs, by resource (+ subresource)."""
        counts: dict[str, float] = {}
        for (name, labels), value in self.apiserver_metrics().items():
            if name != "apiserver_request_total":
                continue
            label = dict(labels)
            if label.get("verb") not in WRITE_VERBS:
                continue
            key = label.get("resource", "") + (f"/{label['subresource']}" if label.get("subresource") else "")
            counts[key] = counts.get(key, 0.0) + value
        return counts

    # --- resources -----------------------------------------------------------------------------------

    def apply_kafkaconnect(self, namespace: str, name: str, replicas: int, **spec: Any) -> None:
        one = {"replicationFactor": 1}
        body = {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "KafkaConnect",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "replicas": replicas,
                "bootstrapServers": self.testbed.bootstrap_servers,
                "groupId": f"{namespace}-{name}",
                "internalTopics": {"config": one, "offset": one, "status": one},
                "jvmOptions": {"xms": "256m", "xmx": "512m"},
                **spec,
            },
        }
        self.resources.get(api_version=f"{GROUP}/{VERSION}", kind="KafkaConnect").server_side_apply(
            body=body, namespace=namespace, field_manager="kco-bench"
        )

    def connector_body(self, namespace: str, name: str, cluster: str, topic: str = "bench") -> dict[str, Any]:
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "Connector",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "cluster": cluster,
                "class": SOURCE,
                "config": {"file": str(self.work / "data" / f"{name}.txt"), "topic": topic},
            },
        }

    def create_connector(self, namespace: str, name: str, cluster: str) -> None:
        self.custom.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "connectors", self.connector_body(namespace, name, cluster)
        )

    def worker_urls(self, namespace: str, cluster: str) -> list[str]:
        selector = f"kco.dev/cluster={cluster}"
        return [f"http://{ip}:8083" for ip in kube.ready_pod_ips(self.api, namespace, selector)]

    def cluster_ready(self, namespace: str, name: str) -> bool:
        obj: dict[str, Any] = self.custom.get_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, namespace, "kafkaconnects", name
        )
        return _ready(obj)

    def ready_connectors(self, namespace: str) -> set[str]:
        listed: dict[str, Any] = self.custom.list_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, namespace, "connectors"
        )
        return {o["metadata"]["name"] for o in listed["items"] if _ready(o)}

    def with_ready_condition(self, namespace: str) -> set[str]:
        """Connectors whose status has a Ready condition, True or not: the operator has looked at them."""
        listed: dict[str, Any] = self.custom.list_namespaced_custom_object(  # type: ignore[assignment]
            GROUP, VERSION, namespace, "connectors"
        )
        return {
            o["metadata"]["name"]
            for o in listed["items"]
            if any(c.get("type") == "Ready" for c in (o.get("status") or {}).get("conditions") or [])
        }


def _ready(obj: dict[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    started = time.monotonic()
    yield lambda: time.monotonic() - started


def dump(path: Path | None, figures: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(figures, indent=2, sort_keys=True))
