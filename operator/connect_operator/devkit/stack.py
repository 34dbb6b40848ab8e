"""The whole loop on one machine, as one unit: broker, control plane with the CRDs, operator, pod runner.

For `kco dev`. Started in dependency order and stopped in reverse, even when a start fails half way.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import yaml
from kubernetes import client, config, dynamic

from connect_operator import runner
from connect_operator.api import crdgen
from connect_operator.api.v1alpha1 import GROUP
from connect_operator.devkit import k8sbuild, progress
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_operator.settings import OperatorSettings
from connect_worker.errors import WorkerError
from connect_worker.testbed import Testbed

FIELD_MANAGER = "kco-dev"


@dataclass(frozen=True)
class StackTimings:
    broker: float
    control_plane: float
    operator: float


class LocalStack:
    def __init__(
        self, work_dir: Path, cache: Path, kafka_home: Path | None = None, phase: progress.Phase = progress.quiet
    ) -> None:
        self.work_dir = work_dir
        self._phase = phase
        self._cache = cache
        self._kafka_home = kafka_home
        self._stack = contextlib.ExitStack()
        self.testbed: Testbed | None = None
        self.plane: ControlPlane | None = None
        self.api: client.ApiClient | None = None
        self.pod_runner: PodRunner | None = None
        self.timings: StackTimings | None = None

    @property
    def kubeconfig(self) -> Path:
        assert self.plane is not None
        return self.plane.endpoints.kubeconfig

    @property
    def bootstrap_servers(self) -> str:
        assert self.testbed is not None
        return self.testbed.bootstrap_servers

    def start(self) -> None:
        # Locate the build first: a missing one fails before anything needs stopping.
        binaries = k8sbuild.locate(self._cache)
        try:
            started = time.monotonic()
            with self._phase("a Kafka-protocol broker (Tansu)"):
                self.testbed = self._stack.enter_context(
                    Testbed(self.work_dir / "broker", self._cache, kafka_home=self._kafka_home, workers=0)
                )
            broker_at = time.monotonic()
            with self._phase(
                f"Kubernetes: etcd, kube-apiserver, kube-controller-manager {which_kubernetes(binaries)} and the CRDs"
            ):
                self.plane = self._stack.enter_context(ControlPlane(binaries, self.work_dir / "kube"))
                self.api = config.new_client_from_config(str(self.plane.endpoints.kubeconfig))
                install_crds(self.api)
            plane_at = time.monotonic()
            with self._phase("the operator"):
                self._stack.enter_context(self._operator())
            assert self.testbed.runtime is not None
            with self._phase("the pod runner (the kubelet's part)"):
                self.pod_runner = self._stack.enter_context(
                    PodRunner(self.api, self.testbed.runtime, self.work_dir / "pods")
                )
            self.timings = StackTimings(broker_at - started, plane_at - broker_at, time.monotonic() - plane_at)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._stack.close()

    def logs(self, lines: int = 30) -> str:
        parts = [part.logs(lines) for part in (self.testbed, self.plane, self.pod_runner) if part is not None]
        return "\n".join(parts)

    def _operator(self) -> contextlib.AbstractContextManager[None]:
        settings = OperatorSettings(
            kubeconfig=str(self.kubeconfig),
            rest_via_pod_ips=True,
            status_interval_seconds=2,
            secret_propagation_seconds=2,
        )
        return runner.in_thread(settings)

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def which_kubernetes(binaries: k8sbuild.ControlPlaneBinaries) -> str:
    """Which Kubernetes, from where: the build, or the folder KUBEBUILDER_ASSETS names."""
    return f"{binaries.version} ({binaries.apiserver.parent})"


def install_crds(api: client.ApiClient, timeout: float = 30.0) -> None:
    """Apply the generated CRDs and wait until the API server serves them."""
    definitions = dynamic.DynamicClient(api).resources.get(
        api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition"
    )
    for text in crdgen.render_all().values():
        definitions.server_side_apply(body=yaml.safe_load(text), field_manager=FIELD_MANAGER)
    deadline = time.monotonic() + timeout
    names = [f"{resource.plural}.{GROUP}" for resource in crdgen.RESOURCES]
    while not all(_established(definitions, name) for name in names):
        if time.monotonic() > deadline:
            raise WorkerError(f"the CRDs {', '.join(names)} were not established within {timeout:.0f} s")
        time.sleep(0.2)


def _established(definitions: dynamic.Resource, name: str) -> bool:
    conditions = definitions.get(name=name).status.conditions or []
    return any(c.type == "Established" and c.status == "True" for c in conditions)
