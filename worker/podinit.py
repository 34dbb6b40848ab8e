"""The worker Pod's init step: plugins into plugin.path, PEM stores for Kafka, and the final worker.properties."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connect_worker import plugins, properties
from connect_worker.errors import InitError


@dataclass(frozen=True)
class InitRequest:
    template: Path
    output: Path
    plugin_dir: Path
    plugins_json: str = "[]"
    trust: Sequence[Path] = ()
    truststore: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    keystore: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)


def run(request: InitRequest) -> dict[str, str]:
    """Do the whole init step; returns the final properties."""
    pod_ip = request.env.get("POD_IP")
    if not pod_ip:
        raise InitError("POD_IP is not set: the init container needs it (env from fieldRef status.podIP)")
    try:
        wanted = [plugins.Plugin.from_json(item) for item in json.loads(request.plugins_json)]
    except (ValueError, KeyError, TypeError) as exc:
        raise InitError(f"--plugins is not a list of {{name, artifacts: [{{url, sha512, type}}]}}: {exc}") from exc
    plugins.install(wanted, request.plugin_dir, request.plugin_dir / ".cache")
    if request.trust and request.truststore:
        _concatenate(request.trust, request.truststore)
    if request.client_cert and request.client_key and request.keystore:
        _concatenate((request.client_key, request.client_cert), request.keystore)
    try:
        template = properties.parse(request.template.read_text())
    except OSError as exc:
        raise InitError(f"cannot read the worker properties template {request.template}: {exc}") from exc
    final = {**template, "rest.advertised.host.name": pod_ip}
    request.output.parent.mkdir(parents=True, exist_ok=True)
    request.output.write_text(properties.render(final))
    return final


def _concatenate(sources: Sequence[Path], target: Path) -> None:
    try:
        text = "".join(source.read_text().rstrip("\n") + "\n" for source in sources)
    except OSError as exc:
        raise InitError(f"cannot read a certificate or key for {target.name}: {exc}") from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(0o600)
