"""A local Kafka Connect worker process: start it, wait until it has joined its group, stop it."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from connect_worker import ports, properties
from connect_worker.errors import WorkerStartError
from connect_worker.properties import AnyWorkerSpec, StandaloneWorkerSpec
from connect_worker.runtime import DEFAULT_JVM_OPTIONS, ConnectRuntime
from connect_worker.supervision import ManagedProcess

_POLL_SECONDS = 0.5
_PROBE_TIMEOUT_SECONDS = 3.0


class WorkerProcess:
    """One worker (standalone for a StandaloneWorkerSpec), its properties file and log under `work_dir`."""

    def __init__(
        self,
        runtime: ConnectRuntime,
        spec: AnyWorkerSpec,
        work_dir: Path,
        jvm_options: Sequence[str] = DEFAULT_JVM_OPTIONS,
    ) -> None:
        self.spec = spec
        self.work_dir = work_dir
        self._runtime = runtime
        self._jvm_options = tuple(jvm_options)
        self._process: ManagedProcess | None = None

    @property
    def name(self) -> str:
        return f"worker-{self.spec.rest_port}"

    @property
    def rest_url(self) -> str:
        return self.spec.rest_url

    @property
    def worker_id(self) -> str:
        """The id Connect reports in statuses for this worker: its advertised host and port."""
        return f"{self.spec.rest_host}:{self.spec.rest_port}"

    @property
    def log_path(self) -> Path:
        return self.work_dir / f"{self.name}.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Write the properties and launch the JVM; returns at once (see wait_ready)."""
        ports.ensure_free(self.spec.rest_host, self.spec.rest_port, f"the REST listener of {self.name}")
        if self.spec.probe_port is not None:
            ports.ensure_free(self.spec.rest_host, self.spec.probe_port, f"the probe listener of {self.name}")
        Path(self.spec.plugin_path).mkdir(parents=True, exist_ok=True)
        if isinstance(self.spec, StandaloneWorkerSpec):  # Connect writes the file, not its folder
            Path(self.spec.offsets_file).parent.mkdir(parents=True, exist_ok=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        props_file = self.work_dir / f"{self.name}.properties"
        props_file.write_text(properties.render(properties.worker_properties(self.spec)))
        standalone = isinstance(self.spec, StandaloneWorkerSpec)
        command = self._runtime.command(props_file, self._jvm_options, standalone=standalone)
        self._process = ManagedProcess(self.name, command.argv, self.log_path, env=command.env, cwd=self.work_dir)

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Block until the worker answers /health (Connect ≥ 3.9: startup done, group joined) or fail clearly."""
        process = self._require_started()
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            code = process.exit_code()
            if code is not None:
                raise WorkerStartError(
                    f"{self.name} exited with code {code} before it was ready. Last log lines "
                    f"({self.log_path}):\n{process.log_tail()}"
                )
            ready, last = self._probe()
            if ready:
                return
            time.sleep(_POLL_SECONDS)
        raise WorkerStartError(
            f"{self.name} at {self.rest_url} was not ready after {timeout:.0f} s ({last}). "
            f"Last log lines ({self.log_path}):\n{process.log_tail()}"
        )

    def is_running(self) -> bool:
        return self._process is not None and self._process.is_running()

    def stop(self, timeout: float = 20.0) -> None:
        if self._process is not None:
            self._process.stop(timeout)

    def kill(self) -> None:
        if self._process is not None:
            self._process.kill()

    def log_tail(self, lines: int = 40) -> str:
        return self._process.log_tail(lines) if self._process else ""

    def _require_started(self) -> ManagedProcess:
        if self._process is None:
            raise WorkerStartError(f"{self.name} was never started")
        return self._process

    def _probe(self) -> tuple[bool, str]:
        try:
            with urllib.request.urlopen(f"{self.spec.health_url}/health", timeout=_PROBE_TIMEOUT_SECONDS) as answer:
                body = json.loads(answer.read() or b"{}")
                return body.get("status") == "healthy", f"health: {body.get('message', body)}"
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return self._probe_without_health_endpoint()
            return False, f"health answered HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return False, f"REST not answering: {exc}"

    def _probe_without_health_endpoint(self) -> tuple[bool, str]:
        # Connect before 3.9 has no /health; listing connectors works only once the herder has started.
        try:
            with urllib.request.urlopen(f"{self.spec.health_url}/connectors", timeout=_PROBE_TIMEOUT_SECONDS):
                return True, "connectors listed"
        except (OSError, ValueError) as exc:
            return False, f"connectors not listed yet: {exc}"
