"""Strimzi KafkaConnector, CFK Connector and Connect REST bodies → kco.dev Connector manifests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from connect_operator.api.v1alpha1 import API_VERSION
from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.importing.meta import carried as meta_carried
from connect_operator.importing.report import Converted, NotUnderstood
from connect_operator.importing.values import (
    NotAScalar,
    connect_string,
    dns_name,
    is_dns_label,
    refused_placeholder,
    strimzi_secret_ref,
)


@dataclass(frozen=True)
class Declared:
    """What the resource itself says, outside its config map; None: the resource does not say."""

    source: str  # names the input in findings
    name: str  # the connector's name in Connect
    # The input's own metadata (meta.carried), kept when Kubernetes accepted the object already; None for
    # REST bodies, whose name may be one Kubernetes refuses.
    metadata: Mapping[str, Any] | None
    cluster: str | None
    class_name: str | None
    tasks_max: int | None
    # Strimzi resolves ${secrets:ns/name:key} with its KubernetesSecretConfigProvider: such values become
    # valueFrom.secretKeyRef. Elsewhere a provider named "secrets" may be anything, so they stay verbatim.
    strimzi_secrets: bool = False
    # CFK mounts a Connect's mountedSecrets under /mnt/secrets, which ${file:...} values then read.
    cfk_mounts: bool = False


_CFK_MOUNTS = "/mnt/secrets/"


def build(declared: Declared, config: Mapping[str, Any], spec_extra: Mapping[str, Any], out: Converted) -> None:
    """One Connector from the resource's fields and its config map, with `tasks.max`, `connector.class`
    and `name` moved out of the map (the CRD refuses them there) when they agree with the fields."""
    src = declared.source
    config = dict(config)
    class_name = _moved(declared.class_name, config.pop("connector.class", None), "connector.class", src, out)
    if class_name is None:
        raise NotUnderstood(f"{src}: no connector class (spec.class or config connector.class)")
    tasks_text = _moved(
        None if declared.tasks_max is None else str(declared.tasks_max),
        config.pop("tasks.max", None),
        "tasks.max",
        src,
        out,
    )
    tasks_max = 1 if tasks_text is None else _tasks(tasks_text, src)
    _moved(declared.name, config.pop("name", None), "name", src, out)
    if declared.cluster is None:
        raise NotUnderstood(f"{src}: no Connect cluster named (strimzi.io/cluster, connectClusterRef): give --cluster")

    if declared.metadata is not None:
        metadata = dict(declared.metadata)
    else:
        metadata = {"name": declared.name if is_dns_label(declared.name) else dns_name(declared.name)}
    spec: dict[str, Any] = {"cluster": declared.cluster}
    if metadata["name"] != declared.name:
        spec["connectorName"] = declared.name
        why = "is not a Kubernetes name" if declared.metadata is None else "is not the resource's name"
        out.note(
            src,
            "name",
            f"{declared.name!r} {why}: metadata.name {metadata['name']}, spec.connectorName keeps the name in Connect",
        )
    spec |= {"class": class_name, "tasksMax": tasks_max, "config": _config(config, declared, out)}
    spec |= spec_extra
    manifest = {"apiVersion": API_VERSION, "kind": "Connector", "metadata": metadata, "spec": spec}
    try:
        Connector.model_validate(manifest)
    except ValidationError as exc:
        raise NotUnderstood(f"{src}: the result is not a valid Connector: {exc}") from exc
    out.manifests.append(manifest)


def _moved(field_value: str | None, in_config: Any, key: str, src: str, out: Converted) -> str | None:
    """The resource's field, else the config map's value; the map's value reported when it disagrees."""
    if in_config is None:
        return field_value
    try:
        text = connect_string(in_config)
    except NotAScalar as exc:
        out.drop(src, f"config.{key}", f"{exc} is no value for {key}")
        return field_value
    if field_value is None:
        return text
    if text != field_value:
        out.drop(
            src,
            f"config.{key}",
            f"{text!r} disagrees with the resource's own {field_value!r}, which is kept (Connect uses the resource's)",
        )
    return field_value


def _tasks(text: str, src: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise NotUnderstood(f"{src}: tasks.max {text!r} is not a whole number") from exc


def _config(config: Mapping[str, Any], declared: Declared, out: Converted) -> dict[str, Any]:
    carried: dict[str, Any] = {}
    for key, value in config.items():
        field = f"config.{key}"
        try:
            text = connect_string(value)
        except NotAScalar as exc:
            out.drop(declared.source, field, f"{exc}: Connect keeps one string per key")
            continue
        secret = strimzi_secret_ref(text) if declared.strimzi_secrets else None
        if secret is not None:
            namespace, name, secret_key = secret
            carried[key] = {"valueFrom": {"secretKeyRef": {"name": name, "key": secret_key}}}
            out.note(
                declared.source,
                field,
                f"Strimzi's ${{secrets:...}} became valueFrom.secretKeyRef {name}/"
                f"{secret_key}: list {name} in the KafkaConnect's spec.exposedSecrets (the Secret must be in "
                f"the Connector's namespace; it was in {namespace})",
            )
            continue
        provider = refused_placeholder(text)
        if provider is not None:
            out.drop(
                declared.source,
                field,
                f"this operator refuses ${{{provider}:...}} placeholders in plain "
                "values: use valueFrom.secretKeyRef and list the Secret in the KafkaConnect's "
                "spec.exposedSecrets",
            )
            continue
        if declared.cfk_mounts and _CFK_MOUNTS in text:
            out.note(
                declared.source,
                field,
                f"kept verbatim, but {_CFK_MOUNTS} is where CFK mounts Secrets; "
                "this operator does not: use valueFrom.secretKeyRef and spec.exposedSecrets",
            )
        carried[key] = text
    return carried


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _tasks_field(value: Any, src: str, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise NotUnderstood(f"{src}: {field} {value!r} is not a whole number")
    return value


def _extra(spec: Mapping[str, Any], known: set[str], src: str, out: Converted, reasons: Mapping[str, str]) -> None:
    for key in spec:
        if key not in known:
            out.drop(src, f"spec.{key}", reasons.get(key, "no equivalent in kco.dev Connector"))


def from_strimzi(obj: Mapping[str, Any], cluster_flag: str | None, out: Converted) -> None:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    name = str(meta.get("name", ""))
    src = f"KafkaConnector {name}"
    labels = meta.get("labels") or {}
    extra: dict[str, Any] = {}
    state = spec.get("state")
    if state is None and spec.get("pause") is True:
        state = "paused"
    if state is not None:
        extra["state"] = str(state)
    # Strimzi restarts nothing unless autoRestart says so; this operator's clusters do by default.
    auto = spec.get("autoRestart") or {}
    if not auto.get("enabled", False):
        extra["autoRestart"] = {"enabled": False}
    else:
        # Strimzi's maxRestarts unset means without end; ours defaults to 10.
        extra["autoRestart"] = {"enabled": True, "maxRestarts": auto.get("maxRestarts")}
        out.note(
            src,
            "spec.autoRestart",
            "restarts back off from 30 s doubling to 30 min (Strimzi: its own "
            "schedule); tune spec.autoRestart.backoffSeconds and maxBackoffSeconds",
        )
    _extra(
        spec,
        {"class", "tasksMax", "config", "autoRestart", "state", "pause"},
        src,
        out,
        {
            "listOffsets": "one-shot: use spec.offsets {id, action: list}",
            "alterOffsets": "one-shot: use spec.offsets {id, action: alter, offsets}",
            "version": "plugin versions are chosen by the plugins installed in the KafkaConnect",
        },
    )
    declared = Declared(
        source=src,
        name=name,
        metadata=meta_carried(meta, src, out, consumed={"strimzi.io/cluster"}),
        cluster=labels.get("strimzi.io/cluster") or cluster_flag,
        class_name=_str(spec.get("class")),
        tasks_max=_tasks_field(spec.get("tasksMax"), src, "spec.tasksMax"),
        strimzi_secrets=True,
    )
    build(declared, spec.get("config") or {}, extra, out)


def from_cfk(obj: Mapping[str, Any], cluster_flag: str | None, out: Converted) -> None:
    meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
    metadata_name = str(meta.get("name", ""))
    src = f"Connector {metadata_name}"
    ref = spec.get("connectClusterRef") or {}
    extra: dict[str, Any] = {}
    if spec.get("state") is not None:
        extra["state"] = str(spec["state"])
    policy = spec.get("restartPolicy") or {}
    if policy.get("type") == "Never":
        extra["autoRestart"] = {"enabled": False}
    elif policy:
        extra["autoRestart"] = {"enabled": True, "maxRestarts": policy.get("maxRetry", 10)}
    if ref.get("namespace") and ref.get("namespace") != meta.get("namespace"):
        out.drop(src, "spec.connectClusterRef.namespace", "a Connector runs in a KafkaConnect of its own namespace")
    _extra(
        spec,
        {"class", "taskMax", "configs", "connectClusterRef", "name", "state", "restartPolicy"},
        src,
        out,
        {
            "connectRest": "the operator reaches its own KafkaConnect's REST API; spec.cluster names it",
            "connectorConfigOverrides": "no equivalent",
        },
    )
    declared = Declared(
        source=src,
        name=str(spec.get("name") or metadata_name),
        metadata=meta_carried(meta, src, out),
        cluster=ref.get("name") or cluster_flag,
        class_name=_str(spec.get("class")),
        tasks_max=_tasks_field(spec.get("taskMax"), src, "spec.taskMax"),
        cfk_mounts=True,
    )
    build(declared, spec.get("configs") or {}, extra, out)


def from_rest(body: Mapping[str, Any], stem: str, cluster_flag: str | None, out: Converted) -> None:
    """`{name, config}` as POST /connectors takes it, or a bare config map as PUT /connectors/<name>/config."""
    if isinstance(body.get("config"), Mapping):
        unknown = sorted(set(body) - {"name", "config"})
        name = body.get("name")
        config = body["config"]
        src = f"connector {name or stem}"
        for key in unknown:
            out.drop(src, key, "not part of a connector's definition")
    else:
        config, name = body, body.get("name")
        src = f"connector {name or stem}"
    if name is None:
        name = config.get("name")
    if name is None:
        # PUT /connectors/<name>/config carries the name in the URL only: the file's name stands in.
        name = stem
        out.note(src, "name", f"none given: named after the file, {stem!r}")
    declared = Declared(
        source=src,
        name=connect_string(name),
        metadata=None,
        cluster=cluster_flag,
        class_name=None,
        tasks_max=None,
    )
    build(declared, config, {}, out)
