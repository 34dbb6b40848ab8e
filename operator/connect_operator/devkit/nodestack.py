"""The whole loop on a real node, as one unit: images, control plane, node, a broker the Pods reach, and the
operator installed by its chart as a Pod. `kco dev`'s default where a real node can run (root on Linux).

Started in dependency order and stopped in reverse, even when a start fails half way.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from types import TracebackType

from kubernetes import client, config

from connect_operator.devkit import chart, images, k8sbuild, progress
from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.node import LocalNode, NodeBinaries, unavailable_reason
from connect_operator.devkit.stack import StackTimings, install_crds, which_kubernetes
from connect_worker import broker

# What `kco dev` sets on the chart: status every 2 s, Secret rotations applied 5 s after the kubelet has them.
DEV_OPERATOR_ENV = {"KCO_STATUS_INTERVAL_SECONDS": "2", "KCO_SECRET_PROPAGATION_SECONDS": "5"}


def why_not(cache: Path) -> str | None:
    """Why `kco dev` cannot use a real node here (it falls back to the pod runner), or None."""
    try:
        binaries = k8sbuild.locate(cache)
    except k8sbuild.BuildError as exc:
        return str(exc)
    return unavailable_reason(NodeBinaries.beside(binaries))


class NodeStack:
    def __init__(self, work_dir: Path, cache: Path, phase: progress.Phase = progress.quiet) -> None:
        self.work_dir, self._cache, self._phase = work_dir, cache, phase
        self._stack = contextlib.ExitStack()
        self.plane: ControlPlane | None = None
        self.node: LocalNode | None = None
        self.broker: broker.LocalBroker | None = None
        self.api: client.ApiClient | None = None
        self.built: images.BuiltImages | None = None
        self.release: chart.Release | None = None
        self.timings: StackTimings | None = None

    @property
    def kubeconfig(self) -> Path:
        assert self.plane is not None
        return self.plane.endpoints.kubeconfig

    @property
    def bootstrap_servers(self) -> str:
        assert self.broker is not None
        return self.broker.bootstrap_servers

    @property
    def connect_image(self) -> str:
        assert self.built is not None
        return self.built.connect.reference

    def start(self) -> None:
        binaries = k8sbuild.locate(self._cache)
        try:
            started = time.monotonic()
            with self._phase("images: the operator (from the Dockerfile), Connect 3.9 and pause"):
                self.built = built = images.ensure(self._cache, phase=self._phase)
            with self._phase(
                f"Kubernetes: etcd, kube-apiserver, kube-controller-manager {which_kubernetes(binaries)} and the CRDs"
            ):
                self.plane = self._stack.enter_context(ControlPlane(binaries, self.work_dir / "kube"))
                self.api = config.new_client_from_config(str(self.plane.endpoints.kubeconfig))  # type: ignore[no-untyped-call]
                install_crds(self.api)
            plane_at = time.monotonic()
            with self._phase("a node: containerd, kubelet, kube-proxy, kube-scheduler, the images imported"):
                archives = [built.pause.archive, built.operator.archive, built.connect.archive]
                self.node = node = self._stack.enter_context(
                    LocalNode(
                        self.plane.endpoints,
                        NodeBinaries.beside(binaries),
                        self.work_dir / "node",
                        archives,
                        built.pause.reference,
                    )
                )
            with self._phase("a Kafka-protocol broker (Tansu) where the Pods reach it"):
                self.broker = broker.LocalBroker(
                    broker.binary_path(self._cache), self.work_dir / "broker", host=node.host_address
                )
                self._stack.callback(self.broker.stop)
                self.broker.start()
                self.broker.wait_ready()
            broker_at = time.monotonic()
            with self._phase("the operator: helm install of the chart, its Pod Ready"):
                self.release = self._stack.enter_context(
                    chart.installed(self.api, self.kubeconfig, built.operator.reference, DEV_OPERATOR_ENV)
                )
            self.timings = StackTimings(broker_at - plane_at, plane_at - started, time.monotonic() - broker_at)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        self._stack.close()

    def logs(self, lines: int = 30) -> str:
        parts = [part.logs(lines) for part in (self.plane, self.node) if part is not None]
        if self.broker is not None:
            parts.append(f"--- broker ---\n{self.broker.log_tail(lines)}")
        return "\n".join(parts)

    def __enter__(self) -> NodeStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
