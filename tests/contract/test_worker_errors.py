"""A missing runtime, a taken port and an absent broker each fail fast with a message that says what to fix."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connect_worker import broker, ports, runtime, settings
from connect_worker.errors import BrokerUnavailableError, PortInUseError, RuntimeMissingError
from connect_worker.process import WorkerProcess
from connect_worker.properties import InternalTopics, WorkerSpec
from connect_worker.testbed import Testbed

pytestmark = pytest.mark.contract


def test_missing_runtime_names_the_fetch_command(tmp_path: Path) -> None:
    with pytest.raises(RuntimeMissingError, match=r"runtime fetch"):
        runtime.locate(tmp_path, kafka_home=None)


def test_missing_runtime_through_the_cli_exits_2_with_the_message(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "connect_worker", "--cache-dir", str(tmp_path), "runtime", "show"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "No Kafka Connect runtime" in done.stderr and "runtime fetch" in done.stderr


def test_kafka_home_without_connect_script_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeMissingError, match=r"bin/connect-distributed\.sh"):
        runtime.locate(tmp_path, kafka_home=tmp_path)


def test_runtime_with_a_lost_jar_is_reported_by_name(tmp_path: Path) -> None:
    home = tmp_path / runtime.RUNTIME_DIR_NAME
    (home / "libs").mkdir(parents=True)
    provisioned = runtime.locate(settings.cache_dir(), None).home
    (home / "runtime.json").write_text((provisioned / "runtime.json").read_text())
    jars = json.loads((home / "runtime.json").read_text())["jars"]
    for name in sorted(jars)[1:]:
        (home / "libs" / name).write_bytes(b"jar")
    with pytest.raises(RuntimeMissingError, match=sorted(jars)[0]):
        runtime.locate(tmp_path, kafka_home=None)


def test_taken_rest_port_is_refused_before_a_jvm_starts(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        spec = WorkerSpec(
            bootstrap_servers="127.0.0.1:9",
            group_id="g",
            topics=InternalTopics.for_group("g"),
            rest_host="127.0.0.1",
            rest_port=port,
            plugin_path=str(tmp_path / "plugins"),
        )
        worker = WorkerProcess(runtime.locate(settings.cache_dir(), None), spec, tmp_path)
        with pytest.raises(PortInUseError, match=f"127.0.0.1:{port}"):
            worker.start()
        assert worker.pid is None


def test_a_port_whose_listener_stopped_is_free_despite_its_connections_in_time_wait() -> None:
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Jetty's connector does
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as caller:
            answered, _ = listener.accept()
            answered.close()  # the server side closes first, as Jetty after an answer: its end waits in TIME_WAIT
            caller.recv(1)
    ports.ensure_free("127.0.0.1", port, "a restarted worker")  # what a worker restarted at once needs
    with socket.socket() as again:
        again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        again.bind(("127.0.0.1", port))
        again.listen()
        with pytest.raises(PortInUseError):
            ports.ensure_free("127.0.0.1", port, "a second listener")


def test_taken_broker_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        local = broker.LocalBroker(broker.binary_path(settings.cache_dir()), tmp_path, port=port)
        with pytest.raises(PortInUseError, match=r"local broker.*in use"):
            local.start()


def test_absent_broker_fails_within_the_timeout() -> None:
    nowhere = f"127.0.0.1:{ports.free_port()}"
    started = time.monotonic()
    with pytest.raises(BrokerUnavailableError, match=nowhere):
        broker.check_reachable(nowhere, timeout=2)
    assert time.monotonic() - started < 10


def test_testbed_against_absent_broker_starts_no_worker(tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{ports.free_port()}"
    bed = Testbed(tmp_path, settings.cache_dir(), bootstrap_servers=nowhere, broker_timeout=2)
    with pytest.raises(BrokerUnavailableError):
        bed.start()
    assert bed.cluster is None
