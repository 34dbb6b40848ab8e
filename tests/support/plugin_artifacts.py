"""Real Connect plugins for tests: tiny source connectors compiled with javac against the runtime's Connect API.

Each connector class is unique to the test (`kco.test.<Name>Connector`), so a listing of
`/connector-plugins` shows exactly where it came from, and each jar carries the ServiceLoader manifest
that `plugin.discovery=service_load` needs. Packed as a bare jar, a tgz (a folder with the jar) or a
zip (the jar under lib/), the three artifact types the init step unpacks.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

CONNECTOR_SERVICE = "META-INF/services/org.apache.kafka.connect.source.SourceConnector"

_SOURCE = """package kco.test;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

public class {name}Connector extends SourceConnector {{
    public String version() {{ return "{version}"; }}
    public void start(Map<String, String> props) {{ }}
    public Class<? extends Task> taskClass() {{ return {name}Task.class; }}
    public List<Map<String, String>> taskConfigs(int maxTasks) {{ return Collections.emptyList(); }}
    public void stop() {{ }}
    public ConfigDef config() {{ return new ConfigDef(); }}

    public static class {name}Task extends SourceTask {{
        public String version() {{ return "{version}"; }}
        public void start(Map<String, String> props) {{ }}
        public List<SourceRecord> poll() {{ return null; }}
        public void stop() {{ }}
    }}
}}
"""


@dataclass(frozen=True)
class BuiltPlugin:
    name: str  # the connector's simple name, e.g. "Alpha"
    class_name: str  # kco.test.AlphaConnector
    version: str
    jar: bytes


def compile_connectors(
    names: Sequence[str], connect_libs: Path, work: Path, version: str = "0.1.0"
) -> list[BuiltPlugin]:
    """One javac run for all of them (a JVM start is the slow part), then one jar each."""
    sources = work / "src" / "kco" / "test"
    classes = work / "classes"
    sources.mkdir(parents=True, exist_ok=True)
    classes.mkdir(parents=True, exist_ok=True)
    files = []
    for name in names:
        path = sources / f"{name}Connector.java"
        path.write_text(_SOURCE.format(name=name, version=version))
        files.append(str(path))
    classpath = ":".join(str(connect_libs / jar) for jar in ("connect-api-3.9.0.jar", "kafka-clients-3.9.0.jar"))
    subprocess.run(
        ["javac", "--release", "17", "-nowarn", "-cp", classpath, "-d", str(classes), *files],
        check=True,
        capture_output=True,
        timeout=120,
    )
    built = []
    for name in names:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as jar:
            jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
            jar.writestr(CONNECTOR_SERVICE, f"kco.test.{name}Connector\n")
            for compiled in sorted((classes / "kco" / "test").glob(f"{name}Connector*.class")):
                jar.write(compiled, f"kco/test/{compiled.name}")
        built.append(BuiltPlugin(name, f"kco.test.{name}Connector", version, buffer.getvalue()))
    return built


def as_jar(plugin: BuiltPlugin) -> bytes:
    return plugin.jar


def as_tgz(plugin: BuiltPlugin) -> bytes:
    """A folder holding the jar, as most vendors ship a connector."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        entry = tarfile.TarInfo(f"{plugin.name.lower()}/{plugin.name.lower()}.jar")
        entry.size = len(plugin.jar)
        archive.addfile(entry, io.BytesIO(plugin.jar))
    return buffer.getvalue()


def as_zip(plugin: BuiltPlugin) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(f"lib/{plugin.name.lower()}.jar", plugin.jar)
    return buffer.getvalue()


PACKERS = {"jar": as_jar, "tgz": as_tgz, "zip": as_zip}


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()
