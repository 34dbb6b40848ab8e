"""Connector specs → the normalised desired state the planner compares with what Connect reports."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from connect_operator.api.v1alpha1.connector import (
    AutoRestartPolicy,
    ConfigValue,
    ConfigValueFrom,
    Connector,
    OffsetsRequest,
    RestartRequest,
    SecretKeyRef,
    TaskRestartRequest,
)

TargetState = Literal["RUNNING", "PAUSED", "STOPPED"]
SecretPlaceholder = Callable[[SecretKeyRef], str]


def directory_placeholder(mount_root: str, provider: str = "dir") -> SecretPlaceholder:
    """Secrets mounted as files under `mount_root/<secret>/<key>`, read by Kafka's DirectoryConfigProvider."""
    root = mount_root.rstrip("/")
    return lambda ref: f"${{{provider}:{root}/{ref.name}:{ref.key}}}"


@dataclass(frozen=True)
class DesiredConnector:
    name: str
    class_name: str
    tasks_max: int
    config: Mapping[str, str]
    state: TargetState = "RUNNING"
    restart: RestartRequest | None = None
    task_restarts: tuple[TaskRestartRequest, ...] = ()
    offsets: OffsetsRequest | None = None
    auto_restart: AutoRestartPolicy = field(default_factory=AutoRestartPolicy)
    secret_refs: frozenset[tuple[str, str]] = frozenset()
    # False: a connector of this name found in Connect that this declaration did not create is left
    # alone (another team's, or one made by hand), unless the cluster's policy is to adopt it.
    adoptable: bool = True
    # A digest of the referenced Secrets' values ("" without references, None when unknown): a change
    # restarts the connector, since Connect resolves config-provider placeholders only when it starts.
    secrets_version: str | None = ""

    @property
    def full_config(self) -> dict[str, str]:
        """The config exactly as Connect stores and returns it."""
        return {**self.config, "connector.class": self.class_name, "tasks.max": str(self.tasks_max), "name": self.name}

    @property
    def config_hash(self) -> str:
        return config_hash(self.full_config)


def config_hash(config: Mapping[str, str]) -> str:
    canonical = json.dumps(dict(sorted(config.items())), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def normalise_value(value: ConfigValue, placeholder: SecretPlaceholder) -> str:
    """Connect keeps every value as a string; render ours the way a user would have typed them."""
    if isinstance(value, ConfigValueFrom):
        return placeholder(value.value_from.secret_key_ref)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(normalise_value(item, placeholder) for item in value)
    return str(value)


# Where worker pods mount the Secrets a cluster exposes (one directory per Secret, a file per key).
DEFAULT_SECRETS_ROOT = "/mnt/kco/secrets"
DEFAULT_PLACEHOLDER = directory_placeholder(DEFAULT_SECRETS_ROOT)


def keyed_digest(key: str, value: bytes) -> bytes:
    """A Secret value as an HMAC keyed by something status readers cannot see (the Secret's uid): a digest
    in a Connector's status must not let anyone test password guesses against it."""
    return hmac.new(key.encode(), value, hashlib.sha256).digest()


def secrets_version(values: Mapping[tuple[str, str], bytes]) -> str:
    """One digest of the referenced Secret values (or their keyed digests), by (Secret, key)."""
    if not values:
        return ""
    digest = hashlib.sha256()
    for (secret, key), value in sorted(values.items()):
        digest.update(f"{secret}\0{key}\0".encode() + hashlib.sha256(value).digest())
    return digest.hexdigest()[:16]


def secret_refs(connector: Connector) -> frozenset[tuple[str, str]]:
    """(Secret, key) of every `valueFrom.secretKeyRef` in the config."""
    return frozenset(
        (v.value_from.secret_key_ref.name, v.value_from.secret_key_ref.key)
        for v in connector.spec.config.values()
        if isinstance(v, ConfigValueFrom)
    )


def provider_placeholders(connector: Connector, providers: Iterable[str]) -> list[str]:
    """The fields (`spec.class`, `spec.connectorName`, `spec.config.<key>`) whose plain value holds a
    placeholder one of `providers` would resolve: a way around secretKeyRef and exposedSecrets.

    Any `${<provider>:` counts, a superset of what Connect's own pattern resolves; placeholders of
    providers not in the list (`${env:X}`) are left to Connect, which passes them on unresolved.
    """
    markers = [f"${{{provider}:" for provider in providers]
    plain = {"spec.class": connector.spec.class_name, "spec.connectorName": connector.spec.connector_name or ""}
    plain |= {
        f"spec.config.{key}": normalise_value(value, lambda _: "")
        for key, value in connector.spec.config.items()
        if not isinstance(value, ConfigValueFrom)
    }
    return sorted(field for field, text in plain.items() if any(marker in text for marker in markers))


def from_connector(
    connector: Connector,
    placeholder: SecretPlaceholder = DEFAULT_PLACEHOLDER,
    default_auto_restart: AutoRestartPolicy | None = None,
    secret_values: Mapping[tuple[str, str], bytes] | None = None,
) -> DesiredConnector:
    """`secret_values`: each referenced (Secret, key)'s value or a keyed digest of it; None when not read."""
    spec = connector.spec
    refs = secret_refs(connector)
    return DesiredConnector(
        name=spec.connector_name or connector.metadata.name,
        class_name=spec.class_name,
        tasks_max=spec.tasks_max,
        config={key: normalise_value(value, placeholder) for key, value in spec.config.items()}
        | (spec.error_handling.connect_config() if spec.error_handling else {}),
        state=spec.state.upper(),  # type: ignore[arg-type]  # the Literal values map one to one
        restart=spec.restart,
        task_restarts=tuple(spec.task_restarts),
        offsets=spec.offsets,
        auto_restart=spec.auto_restart or default_auto_restart or AutoRestartPolicy(),
        secret_refs=refs,
        secrets_version=None
        if secret_values is None
        else secrets_version({ref: secret_values[ref] for ref in refs if ref in secret_values}),
    )
