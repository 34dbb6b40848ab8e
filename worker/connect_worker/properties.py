"""Worker properties: which keys identify a worker in its group, and how to write a .properties file.

Pure: no I/O. The same rules serve local workers and, later, the worker pods' init step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from connect_worker.errors import PropertiesError

# Keys that the worker's identity (group, topics, REST listener, plugins) is built from; callers set
# them through WorkerSpec fields, never through extra properties, so no two places disagree. The
# operator owns these and more (connect_operator.api.v1alpha1.kafkaconnect.OWNED_WORKER_KEYS).
IDENTITY_KEYS: frozenset[str] = frozenset(
    {
        "bootstrap.servers",
        "group.id",
        "config.storage.topic",
        "offset.storage.topic",
        "status.storage.topic",
        "listeners",
        "rest.advertised.host.name",
        "rest.advertised.port",
        "plugin.path",
    }
)


@dataclass(frozen=True)
class InternalTopics:
    """The three compacted topics a Connect group keeps its state in."""

    config: str
    offset: str
    status: str
    replication_factor: int = 1

    @classmethod
    def for_group(cls, group_id: str, replication_factor: int = 1) -> InternalTopics:
        return cls(f"{group_id}-configs", f"{group_id}-offsets", f"{group_id}-status", replication_factor)


class _RestListener:
    """How a worker is reached: its REST listener, and a plain probe listener beside an HTTPS one."""

    rest_host: str
    rest_port: int
    rest_scheme: str
    probe_port: int | None

    @property
    def rest_url(self) -> str:
        return f"{self.rest_scheme}://{self.rest_host}:{self.rest_port}"

    @property
    def health_url(self) -> str:
        """Where a probe asks /health without a client certificate."""
        if self.probe_port is None:
            return self.rest_url
        return f"http://{self.rest_host}:{self.probe_port}"

    @property
    def listeners(self) -> str:
        main = f"{self.rest_scheme}://{self.rest_host}:{self.rest_port}"
        return main if self.probe_port is None else f"{main},http://{self.rest_host}:{self.probe_port}"


@dataclass(frozen=True)
class WorkerSpec(_RestListener):
    """Everything that makes one distributed-mode worker: where its group lives and how it is reached."""

    bootstrap_servers: str
    group_id: str
    topics: InternalTopics
    rest_host: str
    rest_port: int
    plugin_path: str
    extra: Mapping[str, str] = field(default_factory=dict)
    # "https": the REST listener serves TLS (its `listeners.https.ssl.*` settings come in `extra`).
    rest_scheme: str = "http"
    # A second, plain listener for health probes only (see PROBE_LISTENER_HOST); None: probe the REST port.
    probe_port: int | None = None


# A standalone worker's identity: no group and no topics, its source offsets in a file of its own.
STANDALONE_IDENTITY_KEYS: frozenset[str] = (
    IDENTITY_KEYS - {"group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"}
) | {"offset.storage.file.filename"}


@dataclass(frozen=True)
class StandaloneWorkerSpec(_RestListener):
    """One standalone worker (ConnectStandalone): connectors only in memory, source offsets in `offsets_file`."""

    bootstrap_servers: str
    offsets_file: str
    rest_host: str
    rest_port: int
    plugin_path: str
    extra: Mapping[str, str] = field(default_factory=dict)
    rest_scheme: str = "http"
    probe_port: int | None = None


AnyWorkerSpec = WorkerSpec | StandaloneWorkerSpec


def standalone_properties(spec: StandaloneWorkerSpec) -> dict[str, str]:
    """The full property set of a standalone worker; raises PropertiesError when `extra` sets an owned key."""
    clashes = sorted(STANDALONE_IDENTITY_KEYS.intersection(spec.extra))
    if clashes:
        raise PropertiesError(
            f"Extra worker properties may not set {', '.join(clashes)}: these come from the worker's "
            "bootstrap servers, offsets file, REST address and plugin path."
        )
    return {
        "bootstrap.servers": spec.bootstrap_servers,
        "offset.storage.file.filename": spec.offsets_file,
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "listeners": spec.listeners,
        "rest.advertised.host.name": spec.rest_host,
        "rest.advertised.port": str(spec.rest_port),
        "plugin.path": spec.plugin_path,
        "plugin.discovery": "service_load",
        **spec.extra,
    }


def worker_properties(spec: AnyWorkerSpec) -> dict[str, str]:
    """The full property set of a worker; raises PropertiesError when `extra` sets an owned key."""
    if isinstance(spec, StandaloneWorkerSpec):
        return standalone_properties(spec)
    clashes = sorted(IDENTITY_KEYS.intersection(spec.extra))
    if clashes:
        raise PropertiesError(
            f"Extra worker properties may not set {', '.join(clashes)}: these come from the worker's "
            "bootstrap servers, group, topics, REST address and plugin path."
        )
    rf = str(spec.topics.replication_factor)
    properties = {
        "bootstrap.servers": spec.bootstrap_servers,
        "group.id": spec.group_id,
        "config.storage.topic": spec.topics.config,
        "offset.storage.topic": spec.topics.offset,
        "status.storage.topic": spec.topics.status,
        "config.storage.replication.factor": rf,
        "offset.storage.replication.factor": rf,
        "status.storage.replication.factor": rf,
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "listeners": spec.listeners,
        "rest.advertised.host.name": spec.rest_host,
        "rest.advertised.port": str(spec.rest_port),
        "plugin.path": spec.plugin_path,
        # The provisioned runtime's reflections jar is too old for a classpath scan.
        "plugin.discovery": "service_load",
    }
    properties.update(spec.extra)
    return properties


def render(properties: Mapping[str, str]) -> str:
    """Java .properties text, keys sorted, with the escapes java.util.Properties reads back verbatim."""
    return "".join(
        f"{_escape(key, is_key=True)}={_escape(value, is_key=False)}\n" for key, value in sorted(properties.items())
    )


def _escape(text: str, *, is_key: bool) -> str:
    out: list[str] = []
    for index, char in enumerate(text):
        if char == "\\":
            out.append("\\\\")
        elif char in "\n\r\t\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f"}[char])
        elif char in "=:#!" or (char == " " and (is_key or index == 0)):
            out.append("\\" + char)
        elif ord(char) > 0x7E or ord(char) < 0x20:
            # java.util.Properties reads Latin-1 and \\u escapes of UTF-16 code units.
            units = char.encode("utf-16-be", "surrogatepass")
            out.extend(f"\\u{int.from_bytes(units[i : i + 2]):04x}" for i in range(0, len(units), 2))
        else:
            out.append(char)
    return "".join(out)


def parse(text: str) -> dict[str, str]:
    """Read back what `render` writes (a subset of the .properties grammar: one entry per line)."""
    result: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line[0] in "#!":
            continue
        key, value = _split_entry(line)
        result[_unescape(key)] = _unescape(value)
    return result


def _split_entry(line: str) -> tuple[str, str]:
    index = 0
    while index < len(line):
        char = line[index]
        if char == "\\":
            index += 2
            continue
        if char in "=:":
            return line[:index], line[index + 1 :]
        index += 1
    return line, ""


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char != "\\" or index + 1 == len(text):
            out.append(char)
            index += 1
            continue
        nxt = text[index + 1]
        if nxt == "u":
            units = bytearray()
            while text.startswith("\\u", index):
                units += int(text[index + 2 : index + 6], 16).to_bytes(2)
                index += 6
            out.append(units.decode("utf-16-be", "surrogatepass"))
            continue
        out.append({"n": "\n", "r": "\r", "t": "\t", "f": "\f"}.get(nxt, nxt))
        index += 2
    return "".join(out)


def spec_from_properties(props: Mapping[str, str], rest_host: str, rest_port: int, plugin_path: str) -> WorkerSpec:
    """A WorkerSpec reproducing a full property set (as the operator rendered it) at another address."""
    rf = int(props.get("config.storage.replication.factor", "1"))
    scheme, probe_port = listener_layout(props.get("listeners", ""))
    return WorkerSpec(
        bootstrap_servers=props["bootstrap.servers"],
        group_id=props["group.id"],
        topics=InternalTopics(
            props["config.storage.topic"], props["offset.storage.topic"], props["status.storage.topic"], rf
        ),
        rest_host=rest_host,
        rest_port=rest_port,
        plugin_path=plugin_path,
        extra={k: v for k, v in props.items() if k not in IDENTITY_KEYS},
        rest_scheme=scheme,
        probe_port=probe_port,
    )


def standalone_spec_from_properties(
    props: Mapping[str, str], rest_host: str, rest_port: int, plugin_path: str, offsets_file: str
) -> StandaloneWorkerSpec:
    """A StandaloneWorkerSpec reproducing a rendered property set at another address and offsets file."""
    scheme, probe_port = listener_layout(props.get("listeners", ""))
    return StandaloneWorkerSpec(
        bootstrap_servers=props["bootstrap.servers"],
        offsets_file=offsets_file,
        rest_host=rest_host,
        rest_port=rest_port,
        plugin_path=plugin_path,
        extra={k: v for k, v in props.items() if k not in STANDALONE_IDENTITY_KEYS},
        rest_scheme=scheme,
        probe_port=probe_port,
    )


def listener_layout(listeners: str) -> tuple[str, int | None]:
    """The REST listener's scheme, and the port of a plain probe listener beside an HTTPS one (or None)."""
    entries = [entry.strip() for entry in listeners.split(",") if entry.strip()]
    schemes = [entry.split("://", 1)[0].lower() for entry in entries]
    if "https" not in schemes:
        return "http", None
    plain = [entry for entry, scheme in zip(entries, schemes, strict=True) if scheme == "http"]
    return "https", (int(plain[0].rsplit(":", 1)[1]) if plain else None)
