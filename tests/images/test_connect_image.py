"""The Connect worker image, run from its archive with runc: apache/kafka's layout, Java 17, and a worker
started exactly as the operator's Deployment starts one (init container, then Connect) against a real
broker, as uid 1000 on a read-only root where only /tmp is writable."""

from __future__ import annotations

import json
import re
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connect_operator.api.v1alpha1.kafkaconnect import REST_PORT, KafkaConnectSpec
from connect_operator.render import cluster, names
from connect_operator.render.names import ClusterRef
from connect_worker import broker, manifest, ports, properties, runtime, settings
from tests.images.conftest import emptydir, pod_binds, pod_env
from tests.support import oci
from tests.support.polling import poll_until

# The first test of a session waits for the images: minutes on a fresh machine (pytest-timeout counts setup).
pytestmark = [pytest.mark.images, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def local_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[broker.LocalBroker]:
    started = broker.LocalBroker(broker.binary_path(settings.cache_dir()), tmp_path_factory.mktemp("broker"))
    started.start()
    try:
        started.wait_ready()
        yield started
    finally:
        started.stop()


def test_the_layout_is_apache_kafkas_with_the_runtimes_jars(connect_image: oci.Unpacked) -> None:
    root = connect_image.rootfs
    for script in ("connect-distributed.sh", "connect-standalone.sh", "kafka-run-class.sh"):
        assert (root / "opt/kafka/bin" / script).stat().st_mode & 0o111, f"{script} is executable"
    # The very jars the local WorkerProcess puts on its classpath, byte for byte, but one: reflections
    # 0.10.2 (Kafka 3.9's) for the runtime's 0.9.12, which only service_load plugin discovery survives.
    provisioned = runtime.locate(settings.cache_dir(), None).home / "libs"
    in_image = {p.name: p.read_bytes() for p in (root / "opt/kafka/libs").iterdir()}
    expected = {p.name: p.read_bytes() for p in provisioned.glob("*.jar") if p.name != "reflections-0.9.12.jar"}
    assert {k: v for k, v in in_image.items() if k != "reflections-0.10.2.jar"} == expected
    assert "reflections-0.10.2.jar" in in_image
    assert f"connect-runtime-{manifest.CONNECT_VERSION}.jar" in in_image
    assert (root / "opt/kafka/config/connect-log4j.properties").is_file()
    assert connect_image.config["User"] == "1000:1000"
    passwd = (root / "etc/passwd").read_text().splitlines()
    assert any(line.startswith("appuser:x:1000:1000:") for line in passwd), "uid 1000 is apache/kafka's appuser"


def test_java_17_runs_as_uid_1000_on_a_read_only_root(connect_image: oci.Unpacked, tmp_path: Path) -> None:
    done = oci.run(
        connect_image,
        tmp_path / "bundle",
        ["sh", "-c", "id -u; java -version 2>&1; touch /opt/kafka/x 2>&1 || true"],
        binds=[oci.Bind(emptydir(tmp_path / "tmp"), "/tmp", False)],
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "1000"
    assert any('version "17.' in line for line in lines), done.stdout
    assert "Read-only file system" in done.stdout


CONNECT_LOGGER = "org.apache.kafka.connect.runtime.Connect"  # logs "Kafka Connect started", "... stopped"


def _rest(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return json.loads(answer.read())


def test_a_worker_starts_as_the_deployment_runs_it_and_stops_on_sigterm(
    operator_image: oci.Unpacked, connect_image: oci.Unpacked, local_broker: broker.LocalBroker, tmp_path: Path
) -> None:
    # Root at WARN, one logger at INFO: the operator's log4j 1 file must reach the image's Log4j 2.
    spec = KafkaConnectSpec.model_validate(
        {
            "bootstrapServers": local_broker.bootstrap_servers,
            "jvmOptions": {"xms": "64m", "xmx": "384m"},
            "logging": {"rootLevel": "WARN", "loggers": {CONNECT_LOGGER: "INFO"}},
        }
    )
    rendered = cluster.render(ClusterRef("images", "test", "uid"), spec, "localhost/kco/operator:any")
    (configmap,) = [o for o in rendered.objects if o["kind"] == "ConfigMap"]
    (deployment,) = [o for o in rendered.objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (init,), (connect,) = pod["initContainers"], pod["containers"]
    user = (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"])
    # The one change to what the operator renders: these containers share the host's network (no Pod
    # IP of their own), so the worker listens on a free port instead of 8083, which another may hold.
    port = ports.free_port()
    template = tmp_path / "template"
    template.mkdir()
    for name, text in configmap["data"].items():
        moved = text.replace(f":{REST_PORT}", f":{port}") if name == names.WORKER_PROPERTIES else text
        (template / name).write_text(moved)
    volumes = {"template": template}
    volumes |= {v: emptydir(tmp_path / v) for v in ("config", "plugins", "plugin-cache", "tmp")}

    init_done = oci.run(
        operator_image,
        tmp_path / "init",
        [*init["command"], *init["args"]],
        user=user,
        env=pod_env(init, "127.0.0.1"),
        binds=pod_binds(init, volumes),
    )
    assert init_done.returncode == 0, init_done.stderr[-3000:]
    assert properties.parse((volumes["config"] / names.WORKER_PROPERTIES).read_text())["listeners"] == f"http://:{port}"

    log = tmp_path / "connect.log"
    with oci.started(
        connect_image,
        tmp_path / "connect",
        connect["command"],
        user=user,
        env=pod_env(connect, "127.0.0.1"),
        binds=pod_binds(connect, volumes),
        log=log,
    ) as process:

        def serving() -> dict[str, Any] | None:
            if process.poll() is not None:
                return {"exited": process.returncode}
            return _rest(port, "/") if ports.accepts_connections("127.0.0.1", port) else None

        root = poll_until(serving, 180, "the worker's REST API")
        assert "exited" not in root, f"Connect exited {root}:\n{log.read_text()[-4000:]}"
        assert root["version"] == manifest.CONNECT_VERSION
        poll_until(lambda: _rest(port, "/health").get("status") == "healthy", 120, "GET /health healthy")
        # exec java: the JVM is the container's process 1, so the runtime's SIGTERM reaches it directly.
        stopped = subprocess.run(["runc", "list", "--format", "json"], capture_output=True, text=True, check=True)
        (ours,) = [c for c in json.loads(stopped.stdout) if c["bundle"] == str(tmp_path / "connect")]
        subprocess.run(["runc", "kill", ours["id"], "TERM"], check=True, capture_output=True)
        code = process.wait(timeout=60)
    text = log.read_text()
    # 143: the JVM's own exit on SIGTERM, after its shutdown hook stopped the worker cleanly.
    assert code == 143, text[-3000:]
    assert "Kafka Connect stopped" in text, text[-3000:]
    assert "Read-only file system" not in text
    info = [line for line in text.splitlines() if re.match(r"\[[^]]+\] INFO ", line)]
    assert info, text[-3000:]
    assert all(f"({CONNECT_LOGGER}:" in line for line in info), "the rendered levels apply: root WARN"
    # What the worker wrote went to /tmp, the one writable place: the JVM's perf data and LOG_DIR.
    written = {p.name for p in volumes["tmp"].iterdir()}
    assert {"hsperfdata_appuser", "kafka-logs"} <= written, written
