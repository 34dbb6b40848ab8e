"""The operator installed as users install it: `helm install` of the chart (Helm's own engine, helm-python-sdk),
then its Pod waited for until its probes pass."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kubernetes import client

from connect_worker.errors import WorkerStartError

CHART = Path(__file__).resolve().parents[3] / "helm" / "kafka-connect-operator"
OPERATOR_NAMESPACE = "kco-system"
RELEASE = "kco"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


@dataclass(frozen=True)
class Release:
    namespace: str
    name: str
    pod: str
    image: str


def values_for(image: str, env: Mapping[str, str]) -> dict[str, Any]:
    repository, tag = image.rsplit(":", 1)
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "extraEnv": [{"name": name, "value": value} for name, value in env.items()],
    }


@contextlib.contextmanager
def installed(
    api: client.ApiClient, kubeconfig: Path, image: str, env: Mapping[str, str], timeout: float = 180
) -> Iterator[Release]:
    """The chart as it ships, with only the image and `env` set; uninstalled on exit."""
    import helm_python as helm  # the kube extra; imported here so the rest of the devkit runs without it

    core: Any = client.CoreV1Api(api)
    # Kubernetes 1.21 and later label every namespace with its name; on older ones the operator's namespace
    # needs it by hand (docs/operating.md), or the workers' NetworkPolicy admits no operator Pod.
    labels = {NAMESPACE_NAME_LABEL: OPERATOR_NAMESPACE}
    with contextlib.suppress(client.ApiException):
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=OPERATOR_NAMESPACE, labels=labels)))
    helm.disable_logging()
    with (
        helm.Chart.load(CHART) as chart,
        helm.Config(kubeconfig_path=kubeconfig, namespace=OPERATOR_NAMESPACE) as config,
    ):
        done = config.install(chart, RELEASE, values_for(image, env), timeout=120)
        if done.get("status") != "deployed":
            raise WorkerStartError(f"helm install {RELEASE} ended {done.get('status')!r}")
        try:
            pod = _wait_ready(core, timeout)
            yield Release(OPERATOR_NAMESPACE, RELEASE, pod, image)
        finally:
            config.uninstall(RELEASE, timeout=60)


def _wait_ready(core: Any, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = core.list_namespaced_pod(OPERATOR_NAMESPACE, label_selector="app.kubernetes.io/component=operator")
        for pod in pods.items:
            if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
                return str(pod.metadata.name)
        time.sleep(0.5)
    raise WorkerStartError(f"the operator Pod in {OPERATOR_NAMESPACE} was not Ready within {timeout:.0f} s")
