"""A kubelet stand-in for development and tests: runs KafkaConnect worker Pods as local Connect processes.

It registers a Node and keeps its heartbeat, binds the worker Pods to it, gives each Pod a loopback
address of its own (127.A.B.2, 127.A.B.3, ... in a random /24), runs the Pod's init container as a
process (`python -m connect_worker init` with the container's arguments and environment, each mount
path and its `terminationMessagePath` mapped into the Pod's folder) and then a real Connect worker
(each restarted after a failure with a kubelet's backoff) with the configuration the init container
wrote, and writes the Pod's status: phase, IP, Ready, the init container's state and last state (exit
code, the termination message, or the log's tail under FallbackToLogsOnError, restart count) and the
Connect container's restarts. A deleted Pod stops its processes. The Connect container's own
probes run as a kubelet runs them (`Prober`): each httpGet probe on the Pod's IP with its period,
timeout and thresholds; readiness and liveness only once the startup probe passed; Ready follows the
readiness probe, and a failed liveness or startup probe stops the worker, restarted with the backoff.
Local adaptations, because Pods here share one host: the REST listener binds the Pod's address,
the worker's JVM gets the test bed's small defaults but for the heap sizes the container's
KAFKA_HEAP_OPTS names,
volumes are folders of the Pod's folder (`volumes/<name>`), and the test bed's quick group timeouts
apply. Secret volumes (TLS, SASL, exposed Secrets) are not mounted (but the REST listener's, `rest-tls`,
whose files the init step turns into stores), nor are Secret-sourced EnvVars read,
but they are checked as a kubelet's volume manager does before it starts a Pod's containers: a missing
Secret keeps the Pod Pending (ContainerCreating, the kubelet's FailedMount message) until it exists,
unless its volume is `optional`. Each config provider's `allowed.paths` (which Connect requires to
exist) becomes an empty folder of the Pod's, so placeholders stay unresolved. A PersistentVolumeClaim
volume is a folder of the claim (`claims/<namespace>/<claim>`), not of the Pod, so it outlives the Pod as a
PersistentVolume does; a claim that does not exist keeps the Pod Pending (nothing binds volumes here, so
existing is enough). A Connect container started by `connect-standalone.sh` runs ConnectStandalone.

The Node carries a zone label (`NODE_ZONE`), and ConfigMap and downward-API volumes are written into
the Pod's folder from the Pod as it is, downward-API files on every pass, as a kubelet keeps them up
to date; so rack awareness works as in a cluster: the operator annotates the Pod, the file shows the
rack, the init container, waiting on it, reads it.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import ipaddress
import logging
import random
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator.status.conditions import rfc3339
from connect_worker import ports, properties
from connect_worker.errors import PortInUseError, WorkerError
from connect_worker.process import WorkerProcess
from connect_worker.runtime import DEFAULT_JVM_OPTIONS, ConnectRuntime
from connect_worker.supervision import ManagedProcess
from connect_worker.testbed import DEV_WORKER_PROPERTIES

log = logging.getLogger(__name__)
WORKER_SELECTOR = "app.kubernetes.io/name=kafka-connect"
REST_PORT = 8083
ZONE_LABEL = "topology.kubernetes.io/zone"
# What a kubelet keeps of a termination message, and of the log when it falls back to it.
TERMINATION_MESSAGE_BYTES = 4096
FALLBACK_LOG_LINES, FALLBACK_LOG_BYTES = 80, 2048
NODE_ZONE = "local-a"
# Pods share the machine with the control plane, the operator and other workers: sessions long
# enough that a CPU-starved heartbeat does not expire a member and start a rebalance storm.
POD_WORKER_PROPERTIES = {
    **DEV_WORKER_PROPERTIES,
    "session.timeout.ms": "6000",
    "heartbeat.interval.ms": "1000",
    "consumer.session.timeout.ms": "6000",
    "consumer.heartbeat.interval.ms": "1000",
}


# The REST listener's Secret volume (render.deployment) and the stores its init step writes, whose paths
# in the worker properties are the container's.
REST_TLS_VOLUME = "rest-tls"
REST_STORE_KEYS = ("listeners.https.ssl.keystore.location", "listeners.https.ssl.truststore.location")


@dataclass(frozen=True)
class HttpProbe:
    """One httpGet or exec probe of a container, with the timing a kubelet gives it (Kubernetes' defaults
    when unset). An exec probe (`command`) runs on this host, where a Pod's loopback is its own address:
    127.0.0.1 among its arguments becomes the Pod's IP, as the listeners bind it here."""

    path: str
    port: int
    timeout: float = 1.0
    period: float = 10.0
    failure_threshold: int = 3
    success_threshold: int = 1
    initial_delay: float = 0.0
    command: tuple[str, ...] = ()

    @classmethod
    def of(cls, probe: client.V1Probe | None, container: client.V1Container) -> HttpProbe | None:
        """The probe as the Pod spec has it; None when there is none or it is neither httpGet nor exec."""
        if probe is not None and probe._exec is not None and probe._exec.command:
            command = tuple(probe._exec.command)
            return cls(
                path=" ".join(command),
                port=0,
                timeout=float(probe.timeout_seconds or 1),
                period=float(probe.period_seconds or 10),
                failure_threshold=int(probe.failure_threshold or 3),
                success_threshold=int(probe.success_threshold or 1),
                initial_delay=float(probe.initial_delay_seconds or 0),
                command=command,
            )
        if probe is None or probe.http_get is None:
            return None
        port = probe.http_get.port
        if isinstance(port, str) and not port.isdigit():  # a named port of the container
            port = next(p.container_port for p in container.ports or [] if p.name == port)
        return cls(
            path=probe.http_get.path or "/",
            port=int(port),
            timeout=float(probe.timeout_seconds or 1),
            period=float(probe.period_seconds or 10),
            failure_threshold=int(probe.failure_threshold or 3),
            success_threshold=int(probe.success_threshold or 1),
            initial_delay=float(probe.initial_delay_seconds or 0),
        )


@dataclass
class ProbeResult:
    """A kubelet's verdict from one probe's consecutive results: it flips only after its threshold in a row."""

    success_threshold: int
    failure_threshold: int
    passing: bool  # what holds before the first probe: readiness starts failing, liveness passing
    successes: int = 0
    failures: int = 0

    def record(self, succeeded: bool) -> bool:
        """Count one probe; returns the verdict after it."""
        if succeeded:
            self.successes, self.failures = self.successes + 1, 0
            if self.successes >= self.success_threshold:
                self.passing = True
        else:
            self.successes, self.failures = 0, self.failures + 1
            if self.failures >= self.failure_threshold:
                self.passing = False
        return self.passing


def http_probe(ip: str, probe: HttpProbe) -> tuple[bool, str]:
    """One httpGet as a kubelet sends it: success is an answer from 200 to 399 within the timeout; an exec
    probe succeeds when its command exits 0 within the timeout."""
    if probe.command:
        argv = [ip if arg == "127.0.0.1" else arg for arg in probe.command]
        try:
            done = subprocess.run(argv, capture_output=True, timeout=probe.timeout, check=False)
        except subprocess.TimeoutExpired:
            return False, f"command timed out after {probe.timeout:.0f} s"
        except OSError as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return done.returncode == 0, f"exit code {done.returncode}"
    try:
        with urllib.request.urlopen(f"http://{ip}:{probe.port}{probe.path}", timeout=probe.timeout) as answer:
            return 200 <= answer.status < 400, f"HTTP {answer.status}"
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return False, f"{type(exc).__name__}: {exc}"


class Prober:
    """The probes of one start of a container, each in a thread of its own, as a kubelet's probe workers.

    Until the startup probe passes, readiness and liveness are not run (and the container is not ready);
    startup failing `failure_threshold` times in a row, or liveness after it passed, sets `failed`: the
    container is to be killed and restarted. Readiness decides `ready`. Without a readiness probe a
    started container is ready; without a startup probe it has started at once.
    """

    def __init__(
        self, ip: str, startup: HttpProbe | None, readiness: HttpProbe | None, liveness: HttpProbe | None
    ) -> None:
        self._ip = ip
        self._stop = threading.Event()
        self._probes = {"startup": startup, "readiness": readiness, "liveness": liveness}
        # Before its first result a readiness probe counts as failing, a liveness probe as passing.
        self._verdicts = {
            kind: ProbeResult(probe.success_threshold, probe.failure_threshold, passing=kind == "liveness")
            for kind, probe in self._probes.items()
            if probe is not None
        }
        self.started = startup is None
        self.failed = ""  # why the container is to be killed, once a startup or liveness probe says so
        self._threads = [
            threading.Thread(target=self._run, args=(kind, probe), name=f"probe-{kind}-{ip}", daemon=True)
            for kind, probe in self._probes.items()
            if probe is not None
        ]

    @property
    def ready(self) -> bool:
        readiness = self._verdicts.get("readiness")
        return self.started and not self.failed and (readiness is None or readiness.passing)

    def start(self) -> Prober:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self, kind: str, probe: HttpProbe) -> None:
        verdict = self._verdicts[kind]
        if self._stop.wait(probe.initial_delay):
            return
        while not self._stop.is_set():
            began = time.monotonic()
            # Readiness and liveness wait for the startup probe, as a kubelet holds them back until then.
            if kind == "startup" or self.started:
                succeeded, outcome = http_probe(self._ip, probe)
                passing = verdict.record(succeeded)
                if kind == "startup" and passing:
                    self.started = True
                    return
                if kind != "readiness" and verdict.failures >= probe.failure_threshold:
                    verb = "exec" if probe.command else "GET"
                    self.failed = f"{kind} probe {verb} {probe.path} failed {verdict.failures} times: {outcome}"
                    return
            # The next probe one period after this one began, at once if it took longer (a kubelet's ticker).
            self._stop.wait(max(0.0, probe.period - (time.monotonic() - began)))


def probes_of(pod: client.V1Pod, container_name: str = "connect") -> tuple[HttpProbe | None, ...]:
    """(startup, readiness, liveness) of the Pod's Connect container."""
    container = next(c for c in pod.spec.containers if c.name == container_name)
    return tuple(
        HttpProbe.of(p, container)
        for p in (container.startup_probe, container.readiness_probe, container.liveness_probe)
    )


@dataclass
class RunningPod:
    namespace: str
    name: str
    uid: str
    ip: str
    worker: WorkerProcess | None = None
    prober: Prober | None = None
    restarts: int = 0
    # monotonic time before which a crashed worker is not started again (a kubelet's CrashLoopBackOff)
    backoff_until: float = 0.0
    started_at: str = ""
    error: str = ""
    killed: str = ""  # why the worker was stopped by a probe, until it runs again
    unmounted: str = ""  # why a volume cannot be mounted yet (a missing Secret): the Pod waits
    ready: bool = False
    last_status: dict[str, Any] = field(default_factory=dict)
    # volume name → PersistentVolumeClaim: such a volume is the claim's folder, which outlives the Pod
    claims: dict[str, str] = field(default_factory=dict)
    # The init container: its process while it runs, and its state and last state as a kubelet reports them.
    init: ManagedProcess | None = None
    init_restarts: int = 0
    init_backoff_until: float = 0.0
    init_started_at: str = ""
    init_state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "PodInitializing"}})
    init_last_state: dict[str, Any] = field(default_factory=dict)
    initialized: bool = False

    def stop_worker(self) -> None:
        if self.init is not None:
            self.init.stop(timeout=5)
        if self.prober is not None:
            self.prober.stop()
        if self.worker is not None:
            self.worker.stop()


class PodRunner:
    """Use as a context manager; it runs its loop in a thread of its own until stopped."""

    def __init__(
        self,
        api: client.ApiClient,
        runtime: ConnectRuntime,
        work_dir: Path,
        node_name: str = "kco-local-node",
        interval: float = 1.0,
        namespaces: tuple[str, ...] = (),
    ) -> None:
        """`namespaces`: only run Pods there (empty: every namespace)."""
        self.node_name = node_name
        self.work_dir = work_dir
        self._core = client.CoreV1Api(api)
        self._leases = client.CoordinationV1Api(api)
        self._runtime = runtime
        self._interval = interval
        self._pods: dict[str, RunningPod] = {}
        # A loopback /24 of its own: runners in other processes (parallel tests, `kco dev`) pick theirs at
        # random, so two never hand out the same address between a free-port check and a JVM's bind.
        self._next_ip = ipaddress.IPv4Address(f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.2")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="pod-runner", daemon=True)
        self._beats = 0
        self._namespaces = namespaces

    @property
    def pods(self) -> dict[str, RunningPod]:
        return dict(self._pods)

    def start(self) -> None:
        self._register_node()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def __enter__(self) -> PodRunner:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def logs(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- pod {key} ({p.ip}) ---\n{p.worker.log_tail(lines) if p.worker else p.error or self._init_log(p)}"
            for key, p in self._pods.items()
        )

    def _init_log(self, running: RunningPod) -> str:
        with contextlib.suppress(OSError):
            return (self._pod_dir(running) / "init" / "log").read_text(errors="replace")
        return ""

    # --- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            while not self._stop.wait(self._interval):
                # One failed step must neither end the runner nor block the other step; the next pass retries.
                for step in (self._heartbeat, self._sync_pods):
                    try:
                        step()
                    except Exception:
                        log.exception("Pod runner step %s failed", step.__name__)
        finally:
            for pod in self._pods.values():
                pod.stop_worker()

    def _sync_pods(self) -> None:
        listed = self._core.list_pod_for_all_namespaces(label_selector=WORKER_SELECTOR).items
        seen: set[str] = set()
        for pod in listed:
            if self._namespaces and str(pod.metadata.namespace) not in self._namespaces:
                continue
            key = f"{pod.metadata.namespace}/{pod.metadata.name}"
            seen.add(key)
            try:
                if pod.metadata.deletion_timestamp:
                    self._remove(key, pod)
                elif not pod.spec.node_name:
                    self._bind(pod)
                elif pod.spec.node_name == self.node_name:
                    self._run(key, pod)
            except ApiException:  # one Pod's trouble must not stall the others
                log.exception("Pod %s could not be handled", key)
        for key in set(self._pods) - seen:
            self._forget(key)

    def _bind(self, pod: client.V1Pod) -> None:
        binding = client.V1Binding(
            metadata=client.V1ObjectMeta(name=pod.metadata.name),
            target=client.V1ObjectReference(kind="Node", name=self.node_name),
        )
        # The generated client cannot parse the binding answer (it has no body model); the call succeeds.
        with contextlib.suppress(ValueError):
            self._core.create_namespaced_pod_binding(
                pod.metadata.name, pod.metadata.namespace, binding, _preload_content=False
            )

    def _run(self, key: str, pod: client.V1Pod) -> None:
        running = self._pods.get(key)
        if running is None:
            running = RunningPod(pod.metadata.namespace, pod.metadata.name, pod.metadata.uid, self._allocate_ip())
            running.claims = volume_claims(pod.spec.volumes or [])
            self._pods[key] = running
        self._project_downward_api(running, pod)
        if running.worker is None and not running.error:
            running.unmounted = unmountable(
                pod.spec.volumes or [], self._present_secrets(pod), self._present_claims(pod)
            )
            if not running.unmounted and not running.initialized:
                try:
                    self._step_init(running, pod)
                except (KeyError, OSError) as exc:  # the Pod cannot run here: say so in its status
                    running.error = f"{type(exc).__name__}: {exc}"
            if not running.unmounted and running.initialized:
                self._launch(running, pod)
        elif running.worker is not None and running.worker.is_running() and running.prober and running.prober.failed:
            # A kubelet kills a container whose liveness (or startup) probe failed; the restart below follows.
            running.killed = running.prober.failed
            log.warning("Pod %s: %s; stopping its worker", key, running.killed)
            running.stop_worker()
        elif running.worker is not None and not running.worker.is_running() and not running.error:
            if running.backoff_until == 0.0:
                running.backoff_until = time.monotonic() + crash_backoff(running.restarts)
            elif time.monotonic() >= running.backoff_until:
                running.restarts += 1
                running.backoff_until = 0.0
                self._launch(running, pod)
        running.ready = (
            running.worker is not None
            and running.worker.is_running()
            and running.prober is not None
            and running.prober.ready
        )
        self._write_status(running)

    def _allocate_ip(self) -> str:
        """The next loopback address whose REST port is free (another runner may share the machine)."""
        while True:
            candidate = str(self._next_ip)
            self._next_ip += 1
            if self._next_ip.packed[3] == 255:
                self._next_ip = ipaddress.IPv4Address(f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.2")
            try:
                ports.ensure_free(candidate, REST_PORT, "a Pod")
                return candidate
            except PortInUseError:
                continue

    def _pod_dir(self, running: RunningPod) -> Path:
        return self.work_dir / running.namespace / running.name

    def _project_downward_api(self, running: RunningPod, pod: client.V1Pod) -> None:
        """Write each downward-API volume's files from the Pod as it is now, replacing them whole."""
        for volume in pod.spec.volumes or []:
            if volume.downward_api is None:
                continue
            folder = self._pod_dir(running) / "volumes" / volume.name
            folder.mkdir(parents=True, exist_ok=True)
            for item in volume.downward_api.items or []:
                value = _field_value(pod, item.field_ref.field_path) if item.field_ref else None
                target = folder / item.path
                if value is None or (target.exists() and target.read_text() == value):
                    continue
                # A rename, as the kubelet swaps its ..data link: a reader never sees half a file.
                staged = target.with_name(f".{target.name}.new")
                staged.write_text(value)
                staged.replace(target)

    def _present_secrets(self, pod: client.V1Pod) -> set[str]:
        """The Secrets of the Pod's secret volumes that exist now (read again on every pass, as a kubelet retries)."""
        present: set[str] = set()
        for volume in pod.spec.volumes or []:
            if volume.secret is None:
                continue
            try:
                self._core.read_namespaced_secret(volume.secret.secret_name, pod.metadata.namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                continue
            present.add(volume.secret.secret_name)
        return present

    def _present_claims(self, pod: client.V1Pod) -> set[str]:
        """The PersistentVolumeClaims of the Pod's volumes that exist (no PV controller binds them here)."""
        present: set[str] = set()
        for claim in volume_claims(pod.spec.volumes or []).values():
            try:
                self._core.read_namespaced_persistent_volume_claim(claim, pod.metadata.namespace)
            except ApiException as exc:
                if exc.status != 404:
                    raise
                continue
            present.add(claim)
        return present

    def _volume_dir(self, running: RunningPod, volume: str) -> Path:
        claim = running.claims.get(volume)
        if claim is not None:
            return claim_dir(self.work_dir, running.namespace, claim)
        return self._pod_dir(running) / "volumes" / volume

    def _local_path(self, running: RunningPod, container: client.V1Container, path: str) -> str:
        """Where a path of the container is in the Pod's folder: its volume's folder, or the termination file."""
        if path == (container.termination_message_path or "/dev/termination-log"):
            return str(self._pod_dir(running) / container.name / "termination-log")
        mounts = sorted(container.volume_mounts or [], key=lambda m: len(m.mount_path), reverse=True)
        for mount in mounts:
            root = mount.mount_path.rstrip("/")
            if path == root or path.startswith(root + "/"):
                return str(self._volume_dir(running, mount.name)) + path[len(root) :]
        return path

    def _step_init(self, running: RunningPod, pod: client.V1Pod) -> None:
        """Start, watch or restart the init container, as a kubelet: a real `python -m connect_worker init`
        process with the container's arguments and environment, its paths in the Pod's volume folders."""
        container = _init_container(pod)
        if running.init is None:
            if time.monotonic() < running.init_backoff_until:
                return
            if running.init_backoff_until:
                running.init_restarts += 1
            self._start_init(running, pod, container)
            return
        code = running.init.exit_code()
        if code is None:
            return
        running.init.stop()  # closes its log
        terminated = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": running.init_started_at,
            "finishedAt": _now(),
        }
        message = self._termination_message(running, container, failed=code != 0)
        if message:
            terminated["message"] = message
        running.init = None
        running.init_state = {"terminated": terminated}
        if code == 0:
            running.initialized = True
            return
        delay = crash_backoff(running.init_restarts)
        running.init_backoff_until = time.monotonic() + delay
        log.warning("Pod %s/%s: init container exited with %d: %s", running.namespace, running.name, code, message)

    def _start_init(self, running: RunningPod, pod: client.V1Pod, container: client.V1Container) -> None:
        if running.init_state.get("terminated"):
            running.init_last_state = running.init_state
        self._project_config_maps(running, pod)
        self._project_rest_tls(running, pod)
        folder = self._pod_dir(running) / container.name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "termination-log").write_text("")  # a kubelet mounts a fresh, empty file for each start
        if (folder / "log").exists():  # each run has a log of its own (kubectl logs --previous)
            (folder / "log").replace(folder / "log.previous")
        for mount in container.volume_mounts or []:
            self._volume_dir(running, mount.name).mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "connect_worker"] + [
            self._local_path(running, container, arg) for arg in container.args or []
        ]
        env = _container_env(container, running.ip)
        running.init = ManagedProcess(f"init-{running.name}", argv, folder / "log", env=env)
        running.init_started_at = _now()
        running.init_state = {"running": {"startedAt": running.init_started_at}}

    def _termination_message(self, running: RunningPod, container: client.V1Container, failed: bool) -> str:
        folder = self._pod_dir(running) / container.name
        written = b""
        with contextlib.suppress(OSError):
            written = (folder / "termination-log").read_bytes()
        fallback = failed and container.termination_message_policy == "FallbackToLogsOnError" and not written.strip()
        logged = b""
        if fallback:
            with contextlib.suppress(OSError):
                logged = (folder / "log").read_bytes()
        return termination_message(written, logged, fallback)

    def _project_config_maps(self, running: RunningPod, pod: client.V1Pod) -> None:
        """Each ConfigMap volume's keys as files in its folder (the worker template and log4j)."""
        for volume in pod.spec.volumes or []:
            if volume.config_map is None:
                continue
            config_map = self._core.read_namespaced_config_map(volume.config_map.name, pod.metadata.namespace)
            folder = self._volume_dir(running, volume.name)
            folder.mkdir(parents=True, exist_ok=True)
            for key, value in (config_map.data or {}).items():
                (folder / key).write_text(value)

    def _project_rest_tls(self, running: RunningPod, pod: client.V1Pod) -> None:
        """The REST listener's Secret volume, the one Secret volume mounted here: its keys as files (0600)."""
        for volume in pod.spec.volumes or []:
            if volume.secret is None or volume.name != REST_TLS_VOLUME:
                continue
            with contextlib.suppress(ApiException):  # missing: the volume check above keeps the Pod Pending
                secret = self._core.read_namespaced_secret(volume.secret.secret_name, pod.metadata.namespace)
                folder = self._volume_dir(running, volume.name)
                folder.mkdir(parents=True, exist_ok=True)
                for key, value in (secret.data or {}).items():
                    target = folder / key
                    target.touch(mode=0o600)
                    target.write_bytes(base64.b64decode(value))

    def _launch(self, running: RunningPod, pod: client.V1Pod) -> None:
        """Start the Connect container: a worker with the properties the init container wrote."""
        if running.prober is not None:  # the probes of the container's last start
            running.prober.stop()
        try:
            container = _init_container(pod)
            output = self._local_path(running, container, str(_init_argument(pod, "--output")))
            plugin_dir = self._local_path(running, container, str(_init_argument(pod, "--plugin-dir")))
            final = properties.parse(Path(output).read_text())
            local = {**POD_WORKER_PROPERTIES, **final, "plugin.discovery": "service_load"}
            local |= _unmounted_allowed_paths(local, self._pod_dir(running) / "volumes")
            local |= {k: self._local_path(running, container, local[k]) for k in REST_STORE_KEYS if k in local}
            connect = next(c for c in pod.spec.containers if c.name == "connect")
            for mount in connect.volume_mounts or []:
                self._volume_dir(running, mount.name).mkdir(parents=True, exist_ok=True)
            spec: properties.AnyWorkerSpec
            if is_standalone(connect):
                offsets = self._local_path(running, connect, local["offset.storage.file.filename"])
                spec = properties.standalone_spec_from_properties(local, running.ip, REST_PORT, plugin_dir, offsets)
            else:
                spec = properties.spec_from_properties(local, running.ip, REST_PORT, plugin_dir)
            running.worker = WorkerProcess(self._runtime, spec, self._pod_dir(running), jvm_options_of(connect))
            running.worker.start()
            # New probe workers for each start of the container, as a kubelet starts them afresh.
            running.prober = Prober(running.ip, *probes_of(pod)).start()
            running.started_at = _now()
            running.error = running.killed = ""
        except (WorkerError, ApiException, OSError, KeyError) as exc:
            running.error = f"{type(exc).__name__}: {exc}"
            log.warning("Pod %s/%s cannot start: %s", running.namespace, running.name, running.error)

    def _write_status(self, running: RunningPod) -> None:
        ready = "True" if running.ready else "False"
        started = running.worker is not None and not running.error
        crashed = running.worker is not None and not running.worker.is_running()
        exited = f"the worker was stopped: {running.killed}" if running.killed else "the worker exited; see its log"
        state: dict[str, Any] = (
            {"waiting": {"reason": "InitFailed", "message": running.error[:500]}}
            if running.error
            else {"waiting": {"reason": "ContainerCreating", "message": running.unmounted}}
            if running.unmounted
            else {"waiting": {"reason": "CrashLoopBackOff", "message": exited[:500]}}
            if crashed
            else {"running": {"startedAt": running.started_at}}
            if started
            else {"waiting": {"reason": "PodInitializing"}}
        )
        init_state = running.init_state
        if running.init is None and not running.initialized and running.init_backoff_until:
            # Between a failed run and its restart, as a kubelet shows it; the failure is in lastState.
            back_off = f"back-off {crash_backoff(running.init_restarts):.0f}s restarting failed container=init"
            init_state = {"waiting": {"reason": "CrashLoopBackOff", "message": f"{back_off} pod={running.name}"}}
            last_state = running.init_state if running.init_state.get("terminated") else running.init_last_state
        else:
            last_state = running.init_last_state
        status = {
            "phase": "Running" if started else "Pending",
            "hostIP": "127.0.0.1",
            "podIP": running.ip,
            "podIPs": [{"ip": running.ip}],
            "startTime": running.started_at or _now(),
            "conditions": [
                {"type": "PodScheduled", "status": "True"},
                {"type": "Initialized", "status": "True" if running.initialized else "False"},
                {"type": "ContainersReady", "status": ready},
                {"type": "Ready", "status": ready},
            ],
            "initContainerStatuses": [
                {
                    "name": "init",
                    "ready": running.initialized,
                    "restartCount": running.init_restarts,
                    "image": "local",
                    "imageID": "",
                    "state": init_state,
                    "lastState": last_state,
                }
            ],
            "containerStatuses": [
                {
                    "name": "connect",
                    "ready": running.ready,
                    "restartCount": running.restarts,
                    "image": "local",
                    "imageID": "",
                    # As a kubelet reports it: the startup probe has passed.
                    "started": started and not crashed and running.prober is not None and running.prober.started,
                    "state": state,
                }
            ],
        }
        if status == running.last_status:
            return
        try:
            # A merge patch replaces lists (podIPs, conditions) instead of merging them by key.
            self._core.patch_namespaced_pod_status(
                running.name, running.namespace, {"status": status}, _content_type="application/merge-patch+json"
            )
            running.last_status = status
        except ApiException as exc:
            if exc.status != 404:
                raise

    def _remove(self, key: str, pod: client.V1Pod) -> None:
        """The Pod is terminating: stop its worker, then confirm the deletion as a kubelet does."""
        self._forget(key)
        with contextlib.suppress(ApiException):
            self._core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace, grace_period_seconds=0)

    def _forget(self, key: str) -> None:
        running = self._pods.pop(key, None)
        if running is not None:
            running.stop_worker()

    # --- the node ------------------------------------------------------------------------------

    def _register_node(self) -> None:
        labels = {"kubernetes.io/hostname": self.node_name, ZONE_LABEL: NODE_ZONE}
        try:
            self._core.create_node(client.V1Node(metadata=client.V1ObjectMeta(name=self.node_name, labels=labels)))
        except ApiException as exc:
            if exc.status != 409:
                raise
            # Left by an earlier runner on this control plane, maybe with other labels.
            self._core.patch_node(self.node_name, {"metadata": {"labels": labels}})
        self._heartbeat(force=True)

    def _heartbeat(self, force: bool = False) -> None:
        """Node Ready and its Lease renewed every ~10 s, so the node-lifecycle controller evicts nothing."""
        self._beats += 1
        if not force and self._beats % max(1, int(10 / self._interval)):
            return
        now = _now()
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "kco pod runner",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        capacity = {"cpu": "8", "memory": "32Gi", "pods": "110"}
        self._core.patch_node_status(
            self.node_name,
            {
                "status": {
                    "conditions": [ready],
                    "capacity": capacity,
                    "allocatable": capacity,
                    "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
                }
            },
        )
        renewed = datetime.datetime.now(datetime.UTC)
        try:
            lease = self._leases.read_namespaced_lease(self.node_name, "kube-node-lease")
        except ApiException as exc:
            if exc.status != 404:
                raise
            fresh = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.node_name, namespace="kube-node-lease"),
                spec=client.V1LeaseSpec(holder_identity=self.node_name, lease_duration_seconds=40, renew_time=renewed),
            )
            self._leases.create_namespaced_lease("kube-node-lease", fresh)
            return
        # An update of a Lease must carry the resourceVersion it was read at.
        lease.spec.renew_time = renewed
        self._leases.replace_namespaced_lease(self.node_name, "kube-node-lease", lease)


def termination_message(written: bytes, log: bytes, from_log: bool) -> str:
    """A container's termination message as a kubelet keeps it: the file's first 4096 bytes, or with
    `from_log` (a failure, FallbackToLogsOnError, nothing written) the log's last 80 lines, at most 2048 bytes."""
    if not from_log:
        return written[:TERMINATION_MESSAGE_BYTES].decode(errors="replace")
    tail = b"\n".join(log.splitlines()[-FALLBACK_LOG_LINES:])
    return tail[-FALLBACK_LOG_BYTES:].decode(errors="replace")


def crash_backoff(restarts: int) -> float:
    """Seconds before a crashed worker starts again, as a kubelet waits: 10 s doubling, at most 5 minutes."""
    return float(min(10 * 2**restarts, 300))


def unmountable(volumes: list[client.V1Volume], present: set[str], claims: set[str] | None = None) -> str:
    """Why a kubelet would not mount these volumes yet ("" when it would): a Secret or claim that is not there.

    A Secret volume marked `optional` mounts empty instead, so the Pod starts without it. `claims`: the
    PersistentVolumeClaims that exist (None: not checked).
    """
    for volume in volumes:
        pvc = volume.persistent_volume_claim
        if pvc is not None and claims is not None and pvc.claim_name not in claims:
            return f'persistentvolumeclaim "{pvc.claim_name}" not found'

        source = volume.secret
        if source is not None and source.secret_name not in present and not source.optional:
            return f'MountVolume.SetUp failed for volume "{volume.name}" : secret "{source.secret_name}" not found'
    return ""


def volume_claims(volumes: list[client.V1Volume]) -> dict[str, str]:
    """Volume name → claim name of each PersistentVolumeClaim volume."""
    return {v.name: v.persistent_volume_claim.claim_name for v in volumes if v.persistent_volume_claim is not None}


def claim_dir(work_dir: Path, namespace: str, claim: str) -> Path:
    """A claim's storage: keyed by namespace and claim, not by Pod, so the next Pod finds the same files."""
    return work_dir / "claims" / namespace / claim


def is_standalone(container: client.V1Container) -> bool:
    """The container runs Connect in standalone mode: the Kafka image's connect-standalone.sh."""
    command = list(container.command or [])
    return bool(command) and command[0].endswith("connect-standalone.sh")


def _init_container(pod: client.V1Pod) -> client.V1Container:
    """The worker Pod's one init container (the operator renders exactly one)."""
    containers: list[client.V1Container] = list(pod.spec.init_containers or [])
    if not containers:
        raise KeyError(f"Pod {pod.metadata.name} has no init container")
    return containers[0]


def _unmounted_allowed_paths(worker: dict[str, str], volumes: Path) -> dict[str, str]:
    """Each provider's allowed paths as empty folders under `volumes`: a worker stops at start when one
    is missing, and no Secret volume is mounted here."""
    moved: dict[str, str] = {}
    for key, value in worker.items():
        if key.startswith("config.providers.") and key.endswith(".param.allowed.paths"):
            folders = [volumes / path.strip().lstrip("/") for path in value.split(",") if path.strip()]
            for folder in folders:
                folder.mkdir(parents=True, exist_ok=True)
            moved[key] = ",".join(str(folder) for folder in folders)
    return moved


def _init_argument(pod: client.V1Pod, flag: str) -> str | None:
    args = list(pod.spec.init_containers[0].args or []) if pod.spec.init_containers else []
    return args[args.index(flag) + 1] if flag in args else None


def _container_env(container: client.V1Container, pod_ip: str) -> dict[str, str]:
    """The container's EnvVars with a value, and the Pod IP where a fieldRef asks for it (Secrets are not read)."""
    env: dict[str, str] = {}
    for var in container.env or []:
        if var.value is not None:
            env[var.name] = var.value
        elif var.value_from and var.value_from.field_ref and var.value_from.field_ref.field_path == "status.podIP":
            env[var.name] = pod_ip
    return env


def jvm_options_of(container: client.V1Container) -> tuple[str, ...]:
    """The local worker's JVM options, with the container's own heap sizes (`-Xms`, `-Xmx` in KAFKA_HEAP_OPTS).

    Connect's start script passes KAFKA_HEAP_OPTS to the JVM, so a KafkaConnect's `jvmOptions` size the
    worker's heap here as in a cluster. Percentages of RAM are left out: the host has no container memory
    limit, so they would size the heap from the whole machine.
    """
    heap_opts = _container_env(container, pod_ip="").get("KAFKA_HEAP_OPTS", "")
    sizes = tuple(option for option in heap_opts.split() if option.startswith(("-Xms", "-Xmx")))
    if not sizes:
        return DEFAULT_JVM_OPTIONS
    # The script passes KAFKA_HEAP_OPTS as it is: the defaults' sizes go, as -Xms1g beside -Xmx384m would not start.
    return tuple(option for option in DEFAULT_JVM_OPTIONS if not option.startswith("-Xm")) + sizes


def _field_value(pod: client.V1Pod, field_path: str) -> str | None:
    """A downward-API fieldRef on the Pod's metadata; an absent annotation or label is an empty file."""
    meta = pod.metadata
    for prefix, mapping in (("metadata.annotations", meta.annotations), ("metadata.labels", meta.labels)):
        if field_path.startswith(f"{prefix}['") and field_path.endswith("']"):
            return str((mapping or {}).get(field_path[len(prefix) + 2 : -2], ""))
    plain = {"metadata.name": meta.name, "metadata.namespace": meta.namespace, "metadata.uid": meta.uid}
    return str(plain[field_path]) if field_path in plain else None


def _now() -> str:
    return rfc3339(time.time())
