"""End to end on a real cluster (kind): the image, the chart, a KafkaConnect on a real Kafka, data flowing.

`pytest -m kind tests/kind` needs `docker` and `kind` on PATH (nothing else: Helm is helm-python-sdk, the
API calls go through the Kubernetes client). It creates a kind cluster, builds this repository's image and
loads it into the cluster, installs the chart, starts a single-node Kafka (kafka.yaml), applies the quick
start (examples/more/quickstart.yaml: a KafkaConnect and a FileStream pipeline), checks that the cluster
and the connectors become Ready and that the lines reach the sink's file, then uninstalls and deletes the
cluster. About 5 minutes with the images pulled once. `make test` collects it; without Docker, kind and
kind's node image (none of which any registry reachable here carries) it skips, saying which is missing.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config, stream, utils

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.kafkaconnect import DEFAULT_KAFKA_VERSION
from tests.support.polling import poll_until

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "kafka-connect-operator"
QUICKSTART = ROOT / "examples" / "more" / "quickstart.yaml"
KAFKA = Path(__file__).with_name("kafka.yaml")
IMAGE_REPOSITORY, IMAGE_TAG = "kco-operator", "e2e"
OPERATOR_NAMESPACE, NAMESPACE, RELEASE = "kco-system", "kco-e2e", "kco"
MISSING = [tool for tool in ("docker", "kind") if shutil.which(tool) is None]


def _run(*command: str) -> None:
    subprocess.run(command, check=True, timeout=900)


@pytest.fixture(scope="module")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh kind cluster with this repository's image loaded; deleted afterwards."""
    if subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=60).returncode != 0:
        pytest.skip("the kind suite needs a running Docker daemon (`docker info` failed)")
    name = f"kco-e2e-{os.getpid()}"
    path = tmp_path_factory.mktemp("kind") / "kubeconfig"
    _run("kind", "create", "cluster", "--name", name, "--kubeconfig", str(path), "--wait", "180s")
    try:
        _run("docker", "build", "--tag", f"{IMAGE_REPOSITORY}:{IMAGE_TAG}", str(ROOT))
        _run("kind", "load", "docker-image", f"{IMAGE_REPOSITORY}:{IMAGE_TAG}", "--name", name)
        yield path
    finally:
        subprocess.run(["kind", "delete", "cluster", "--name", name], check=False, timeout=300)


def _ready(obj: dict[str, Any] | None) -> bool:
    conditions = ((obj or {}).get("status") or {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def _exec(api: client.ApiClient, pod: str, *command: str) -> str:
    output: str = stream.stream(
        client.CoreV1Api(api).connect_get_namespaced_pod_exec,
        pod,
        NAMESPACE,
        container="connect",
        command=list(command),
        stderr=True,
        stdin=False,
        stdout=True,
        tty=False,
    )
    return output


@pytest.mark.kind
@pytest.mark.timeout(1800)
@pytest.mark.skipif(bool(MISSING), reason=f"the kind suite needs {' and '.join(MISSING)} on PATH")
def test_helm_install_runs_a_filestream_pipeline_on_kind(kubeconfig: Path) -> None:
    import helm_python as helm  # only here: the rest of the module imports without the native library

    api = config.new_client_from_config(str(kubeconfig))  # type: ignore[no-untyped-call]
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    utils.create_from_yaml(api, str(KAFKA))  # type: ignore[no-untyped-call]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE)))

    image = {"repository": IMAGE_REPOSITORY, "tag": IMAGE_TAG, "pullPolicy": "Never"}
    with helm.Config(kubeconfig_path=kubeconfig, namespace=OPERATOR_NAMESPACE) as release:
        installed = release.install(
            CHART, RELEASE, {"image": image}, create_namespace=True, wait="watcher", timeout=300
        )
        assert installed["status"] == "deployed"

        documents = list(yaml.safe_load_all(QUICKSTART.read_text()))
        for document in documents:
            plural = "kafkaconnects" if document["kind"] == "KafkaConnect" else "connectors"
            custom.create_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, document)

        def ready(plural: str, name: str) -> bool:
            found: Any = custom.get_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, name)
            return _ready(found)

        poll_until(lambda: ready("kafkaconnects", "quickstart"), 600, "the KafkaConnect Ready")
        for document in documents[1:]:
            name = str(document["metadata"]["name"])
            poll_until(functools.partial(ready, "connectors", name), 300, f"Connector {name} Ready")

        workers: Any = core.list_namespaced_pod(NAMESPACE, label_selector="kco.dev/cluster=quickstart")
        pod = str(workers.items[0].metadata.name)
        license_lines = {line for line in _exec(api, pod, "cat", "/opt/kafka/LICENSE").splitlines() if line.strip()}

        def copied() -> list[str] | None:
            lines = [line for line in _exec(api, pod, "cat", "/tmp/quickstart-out.txt").splitlines() if line.strip()]
            return lines if len(lines) >= 50 else None

        lines = poll_until(copied, 180, "the LICENSE's lines in the sink's file")
        assert set(lines) <= license_lines, "the sink wrote what the source read"

        for document in reversed(documents):
            plural = "kafkaconnects" if document["kind"] == "KafkaConnect" else "connectors"
            custom.delete_namespaced_custom_object(GROUP, VERSION, NAMESPACE, plural, document["metadata"]["name"])

        def released() -> bool:
            listed: Any = custom.list_namespaced_custom_object(GROUP, VERSION, NAMESPACE, "connectors")
            return not listed["items"]

        poll_until(released, 120, "the Connectors released by the operator")
        release.uninstall(RELEASE, wait="watcher", timeout=180)
    deployments = client.AppsV1Api(api).list_namespaced_deployment(OPERATOR_NAMESPACE).items
    assert not deployments, "helm uninstall removed the operator"


@pytest.mark.unit
def test_the_quickstart_classpath_names_the_default_kafka_images_jar() -> None:
    """The FileStream jar path in the quick start must follow the default Kafka version."""
    (cluster, *_) = yaml.safe_load_all(QUICKSTART.read_text())
    env = {e["name"]: e["value"] for e in cluster["spec"]["template"]["pod"]["env"]}
    assert "image" not in cluster["spec"], "the quick start runs the default image"
    assert env["CLASSPATH"] == f"/opt/kafka/libs/connect-file-{DEFAULT_KAFKA_VERSION}.jar"
    kafka_image = next(d for d in yaml.safe_load_all(KAFKA.read_text()) if d["kind"] == "Deployment")
    assert kafka_image["spec"]["template"]["spec"]["containers"][0]["image"] == f"apache/kafka:{DEFAULT_KAFKA_VERSION}"
