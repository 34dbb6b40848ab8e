"""A broker and a group of Connect workers, started and stopped as one: for `kco dev` and the tests."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from connect_worker import broker, ports, runtime
from connect_worker.process import WorkerProcess
from connect_worker.properties import InternalTopics, WorkerSpec
from connect_worker.runtime import DEFAULT_JVM_OPTIONS, ConnectRuntime

# Quicker than Connect's production defaults, so that local work moves in seconds. A group
# coordinator may hold a join for up to half the session timeout (the local broker does), so short
# session timeouts for the worker group and for sink tasks' consumer groups cut each rebalance from
# ~5 s to ~1.5 s and a sink's first assignment from ~23 s to ~2 s. Tasks of a departed worker are
# reassigned after 10 s instead of 5 min, and offsets are flushed every second.
DEV_WORKER_PROPERTIES: Mapping[str, str] = {
    "session.timeout.ms": "2000",
    "heartbeat.interval.ms": "300",
    "rebalance.timeout.ms": "20000",
    "consumer.session.timeout.ms": "2000",
    "consumer.heartbeat.interval.ms": "300",
    "scheduled.rebalance.max.delay.ms": "10000",
    "offset.flush.interval.ms": "1000",
    "task.shutdown.graceful.timeout.ms": "3000",
}


class ConnectCluster:
    """Workers sharing one group id and internal topics, each on its own loopback REST port."""

    def __init__(
        self,
        connect_runtime: ConnectRuntime,
        bootstrap_servers: str,
        group_id: str,
        work_dir: Path,
        extra_properties: Mapping[str, str] | None = None,
        jvm_options: Sequence[str] = DEFAULT_JVM_OPTIONS,
        rest_scheme: str = "http",
    ) -> None:
        self.group_id = group_id
        # "https": the `listeners.https.ssl.*` settings come in extra_properties, and each worker gets a
        # plain probe listener too, where readiness is polled without a client certificate.
        self.rest_scheme = rest_scheme
        self.bootstrap_servers = bootstrap_servers
        self.topics = InternalTopics.for_group(group_id)
        self.work_dir = work_dir
        self.plugin_path = work_dir / "plugins"
        self.workers: list[WorkerProcess] = []
        self._runtime = connect_runtime
        self._extra = {**DEV_WORKER_PROPERTIES, **(extra_properties or {})}
        self._jvm_options = tuple(jvm_options)

    @property
    def rest_urls(self) -> list[str]:
        return [w.rest_url for w in self.workers if w.is_running()]

    def add_worker(self, port: int | None = None) -> WorkerProcess:
        """Start one more worker in the group; returns at once (call its wait_ready)."""
        spec = WorkerSpec(
            bootstrap_servers=self.bootstrap_servers,
            group_id=self.group_id,
            topics=self.topics,
            rest_host="127.0.0.1",
            rest_port=port or ports.free_port(),
            plugin_path=str(self.plugin_path),
            extra=self._extra,
            rest_scheme=self.rest_scheme,
            probe_port=ports.free_port() if self.rest_scheme == "https" else None,
        )
        worker = WorkerProcess(self._runtime, spec, self.work_dir, self._jvm_options)
        self.workers.append(worker)
        worker.start()
        return worker

    def start(self, count: int, timeout: float = 120.0) -> None:
        """Start `count` workers at once and wait until every one has joined the group."""
        started = [self.add_worker() for _ in range(count)]
        deadline = time.monotonic() + timeout
        for worker in started:
            worker.wait_ready(max(1.0, deadline - time.monotonic()))

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {w.name} ({w.log_path}) ---\n{w.log_tail(lines)}" for w in self.workers)


class Testbed:
    """A local broker (or an existing one) and a Connect cluster; a context manager that cleans up."""

    __test__ = False  # not a pytest test class, despite its name

    def __init__(
        self,
        work_dir: Path,
        cache: Path,
        *,
        kafka_home: Path | None = None,
        bootstrap_servers: str | None = None,
        workers: int = 2,
        group_id: str = "kco-dev",
        extra_properties: Mapping[str, str] | None = None,
        broker_timeout: float = 10.0,
    ) -> None:
        self.work_dir = work_dir
        self.cache = cache
        self.group_id = group_id
        self.worker_count = workers
        self.broker: broker.LocalBroker | None = None
        self.cluster: ConnectCluster | None = None
        self.runtime: ConnectRuntime | None = None
        self._kafka_home = kafka_home
        self._bootstrap_servers = bootstrap_servers
        self._extra = extra_properties
        self._broker_timeout = broker_timeout

    @property
    def bootstrap_servers(self) -> str:
        if self._bootstrap_servers:
            return self._bootstrap_servers
        if self.broker is None:
            raise RuntimeError("the test bed is not started")
        return self.broker.bootstrap_servers

    def start(self, timeout: float = 120.0) -> None:
        # Fail on a missing runtime before starting anything that would need stopping.
        self.runtime = runtime.locate(self.cache, self._kafka_home)
        try:
            if self._bootstrap_servers is None:
                self.broker = broker.LocalBroker(broker.binary_path(self.cache), self.work_dir)
                self.broker.start()
                self.broker.wait_ready()
            broker.check_reachable(self.bootstrap_servers, self._broker_timeout)
            self.cluster = ConnectCluster(
                self.runtime, self.bootstrap_servers, self.group_id, self.work_dir / self.group_id, self._extra
            )
            self.cluster.start(self.worker_count, timeout)
        except BaseException:
            self.stop()
            raise

    def new_cluster(
        self, group_id: str, extra_properties: Mapping[str, str] | None = None, rest_scheme: str = "http"
    ) -> ConnectCluster:
        """Another Connect group on the same broker (the caller starts and stops it)."""
        if self.runtime is None:
            raise RuntimeError("the test bed is not started")
        return ConnectCluster(
            self.runtime,
            self.bootstrap_servers,
            group_id,
            self.work_dir / group_id,
            {**(self._extra or {}), **(extra_properties or {})},
            rest_scheme=rest_scheme,
        )

    def stop(self) -> None:
        if self.cluster is not None:
            self.cluster.stop()
        if self.broker is not None:
            with contextlib.suppress(Exception):
                self.broker.stop()

    def addresses(self) -> str:
        """The broker and every worker's REST URL, a line each, for people to copy."""
        urls = self.cluster.rest_urls if self.cluster else []
        return "\n".join([f"Broker:  {self.bootstrap_servers}", *(f"Connect: {url}" for url in urls)])

    def logs(self, lines: int = 40) -> str:
        parts = []
        if self.broker is not None:
            parts.append(f"--- broker ({self.broker.log_path}) ---\n{self.broker.log_tail(lines)}")
        if self.cluster is not None:
            parts.append(self.cluster.logs(lines))
        return "\n".join(parts)

    def __enter__(self) -> Testbed:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
