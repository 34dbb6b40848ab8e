"""The worker Pod's init step: plugins into plugin.path, PEM stores for Kafka, and the final worker.properties."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connect_worker import pemkeys, plugins, properties, reststores
from connect_worker.errors import InitError, WorkerError

log = logging.getLogger(__name__)
# The operator annotates a Pod seconds after it is scheduled; past this, the init container fails and
# its restart (with the kubelet's backoff) is the retry.
DEFAULT_RACK_TIMEOUT = 120.0
# The kubelet keeps at most 4096 bytes of a termination message; a condition message should be far shorter.
TERMINATION_MESSAGE_LIMIT = 1024


@dataclass(frozen=True)
class RestTls:
    cert: Path
    key: Path
    ca: Path
    keystore: Path
    truststore: Path


@dataclass(frozen=True)
class InitRequest:
    template: Path
    output: Path
    plugin_dir: Path
    plugins_json: str = "[]"
    # Downloads kept across restarts of the init container; outside plugin_dir, which Connect scans.
    plugin_cache_dir: Path | None = None
    trust: Sequence[Path] = ()
    truststore: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    keystore: Path | None = None
    # The REST listener's HTTPS material (a kubernetes.io/tls Secret's files) and where its stores go.
    rest_tls: RestTls | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    # A downward-API file showing the Pod's rack annotation: empty until the operator sets it.
    rack_file: Path | None = None
    rack_timeout: float = DEFAULT_RACK_TIMEOUT
    rack_poll_interval: float = 0.5


def run(request: InitRequest) -> dict[str, str]:
    """Do the whole init step; returns the final properties."""
    pod_ip = request.env.get("POD_IP")
    if not pod_ip:
        raise InitError("POD_IP is not set: the init container needs it (env from fieldRef status.podIP)")
    try:
        wanted = [plugins.Plugin.from_json(item) for item in json.loads(request.plugins_json)]
    except (ValueError, KeyError, TypeError) as exc:
        raise InitError(f"--plugins is not a list of {{name, artifacts: [{{url, sha512, type}}]}}: {exc}") from exc
    plugins.install(wanted, request.plugin_dir, request.plugin_cache_dir or default_cache_dir(request.plugin_dir))
    if request.trust and request.truststore:
        _concatenate(request.trust, request.truststore)
    if request.client_cert and request.client_key and request.keystore:
        _write_keystore(request.client_key, request.client_cert, request.keystore)
    try:
        template = properties.parse(request.template.read_text())
    except OSError as exc:
        raise InitError(f"cannot read the worker properties template {request.template}: {exc}") from exc
    final = {**template, "rest.advertised.host.name": pod_ip}
    if request.rest_tls is not None:
        final.update(write_rest_stores(request.rest_tls))
    if request.rack_file is not None:
        # Last, after the plugin downloads: the operator has had the most time to set it.
        final["consumer.client.rack"] = wait_for_rack(
            request.rack_file, request.rack_timeout, request.rack_poll_interval
        )
    request.output.parent.mkdir(parents=True, exist_ok=True)
    request.output.write_text(properties.render(final))
    return final


def termination_message(error: WorkerError) -> str:
    """`<Reason>: <message>` on one line: the operator takes the reason for its condition, the rest as the message."""
    text = " ".join(str(error).split())
    line = f"{error.reason}: {text}"
    return line if len(line) <= TERMINATION_MESSAGE_LIMIT else line[: TERMINATION_MESSAGE_LIMIT - 1] + "…"


def write_termination_message(path: Path, error: WorkerError) -> None:
    try:
        path.write_text(termination_message(error) + "\n")
    except OSError as exc:  # the log still has the error; a missing file must not hide it
        log.warning("Could not write the termination message to %s: %s", path, exc)


def default_cache_dir(plugin_dir: Path) -> Path:
    """A sibling of plugin.path: never inside it, where Connect would load it as one more plugin."""
    return plugin_dir.with_name(f"{plugin_dir.name}-cache")


def _concatenate(sources: Sequence[Path], target: Path) -> None:
    try:
        text = "".join(source.read_text().rstrip("\n") + "\n" for source in sources)
    except OSError as exc:
        raise InitError(f"cannot read a certificate or key for {target.name}: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(0o600)


def _write_keystore(key: Path, cert: Path, target: Path) -> None:
    """Key (as PKCS#8, the one form Kafka's PEM keystore reads) then certificate chain, in one PEM file."""
    try:
        key_text, cert_text = key.read_text(), cert.read_text()
    except OSError as exc:
        raise InitError(f"cannot read a certificate or key for {target.name}: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(pemkeys.to_pkcs8(key_text, str(key)) + cert_text.rstrip("\n") + "\n")
    target.chmod(0o600)


def write_rest_stores(tls: RestTls) -> dict[str, str]:
    """The HTTPS listener's PKCS#12 stores; returns the properties naming their password.

    The JDK's PKCS#12 needs a password, and Jetty one to open it: a fresh random one each start, known only
    to this Pod's own files (the stores and the final properties, both in its emptyDir), so nothing about
    it has to be kept in a Secret or the ConfigMap.
    """
    password = secrets.token_urlsafe(24)
    try:
        key, cert, ca = tls.key.read_bytes(), tls.cert.read_bytes(), tls.ca.read_bytes()
    except OSError as exc:
        raise InitError(f"cannot read the REST listener's certificate or key: {exc}") from exc
    _write_private(tls.keystore, reststores.keystore(key, cert, password.encode(), str(tls.key)))
    _write_private(tls.truststore, reststores.truststore(ca, password.encode(), str(tls.ca)))
    return {
        "listeners.https.ssl.keystore.password": password,
        "listeners.https.ssl.truststore.password": password,
    }


def _write_private(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.chmod(0o600)  # a store left by an earlier start keeps its mode otherwise
    target.write_bytes(data)


def read_rack(path: Path) -> str:
    """The rack in a downward-API file; empty while the annotation is absent (the kubelet writes an empty file)."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise InitError(f"cannot read the rack from {path}: {exc}") from exc


def wait_for_rack(path: Path, timeout: float, interval: float = 0.5) -> str:
    """Poll `path` until it carries the rack; the kubelet updates downward-API files in place."""
    deadline = time.monotonic() + timeout
    rack = read_rack(path)
    if not rack:
        log.info("Waiting up to %.0f s for the Pod's rack annotation to show in %s", timeout, path)
    while not rack:
        if time.monotonic() >= deadline:
            raise InitError(
                f"no rack after {timeout:.0f} s: {path} is still empty. The operator sets the Pod's kco.dev/rack "
                "annotation from its Node's label (spec.rack.topologyKey); see the KafkaConnect's Warning "
                "Events (a Node without the label) and check that the operator is running"
            )
        time.sleep(interval)
        rack = read_rack(path)
    log.info("Rack %s", rack)
    return rack
