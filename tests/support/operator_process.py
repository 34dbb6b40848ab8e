"""The operator as its image runs it (`python -m connect_operator`), in a child process a test can SIGKILL."""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

from connect_worker import ports
from connect_worker.supervision import ManagedProcess
from tests.support.polling import poll_until

REPO = Path(__file__).resolve().parents[2]


class OperatorProcess:
    def __init__(self, kubeconfig: Path, namespace: str, log_path: Path, **env: str) -> None:
        self.metrics_port = ports.free_port()
        self.liveness_port = ports.free_port()
        self.log_path = log_path
        self.namespace = namespace
        self._env = {
            "KUBECONFIG": str(kubeconfig),
            "KCO_WATCH_NAMESPACES": namespace,
            "KCO_REST_VIA_POD_IPS": "1",
            "KCO_STATUS_INTERVAL_SECONDS": "2",
            "KCO_METRICS_PORT": str(self.metrics_port),
            "KCO_LIVENESS_ENDPOINT": f"http://127.0.0.1:{self.liveness_port}/healthz",
            "KCO_LOG_FORMAT": "json",
            **env,
        }
        self._process: ManagedProcess | None = None

    def start(self) -> OperatorProcess:
        self._process = ManagedProcess(
            "operator", [sys.executable, "-m", "connect_operator"], self.log_path, env=self._env, cwd=REPO
        )
        poll_until(self._alive, 60, "the operator's liveness endpoint")
        return self

    def kill(self) -> None:
        assert self._process is not None
        self._process.kill()

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as answer:
            return str(answer.read().decode())

    def metric(self, name: str, **labels: str) -> float:
        """One sample's value from /metrics (0 when absent)."""
        wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        for line in self.metrics().splitlines():
            key, _, value = line.rpartition(" ")
            if key.split("{")[0] == name and _labels(key) == wanted:
                return float(value)
        return 0.0

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _alive(self) -> bool:
        assert self._process is not None
        assert self._process.is_running(), f"the operator exited:\n{self._process.log_tail()}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.liveness_port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False


def _labels(key: str) -> str:
    if "{" not in key:
        return ""
    inner = key[key.index("{") + 1 : key.rindex("}")]
    return ",".join(sorted(part for part in inner.split(",") if part))
