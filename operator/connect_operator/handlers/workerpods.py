"""Rack awareness, the acting half: give each scheduled worker Pod its rack from its Node's label.

Workers get no Kubernetes API access; the operator reads the Node and annotates the Pod, which the
init container sees through a downward-API volume. Watching (not changing) Pods, kopf stores nothing
on them: no finalizer, no progress annotations. A Pod whose Node lacks the label waits; its init
container fails after a deadline, and the Pod's next event (the restart) brings it back here.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator.api.v1alpha1 import API_VERSION
from connect_operator.handlers import events
from connect_operator.kube import resources
from connect_operator.render import names, rack
from connect_operator.settings import OperatorSettings

Logger = logging.Logger | logging.LoggerAdapter[Any]


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings, api: client.ApiClient) -> None:
    del settings  # nothing to configure yet; the same signature as the other handler modules

    @kopf.on.event(
        "",
        "v1",
        "pods",
        registry=registry,
        labels=dict(names.WORKER_LABELS),
        annotations={names.RACK_KEY_ANNOTATION: kopf.PRESENT},
    )
    def give_worker_pod_its_rack(
        body: kopf.Body, event: kopf.RawEvent, memo: kopf.Memo, logger: Logger, **_: Any
    ) -> None:
        if event.get("type") == "DELETED" or body.meta.get("deletionTimestamp"):
            return
        step = rack.next_step(dict(body.meta.annotations), body.spec.get("nodeName"))
        if step is None:
            return
        core = client.CoreV1Api(api)
        pod, namespace = str(body.meta["name"]), str(body.meta["namespace"])
        outcome = rack.resolve(step, _node_labels(core, step.node), pod)
        if isinstance(outcome, rack.Annotate):
            try:
                core.patch_namespaced_pod(pod, namespace, outcome.patch(), field_manager=names.FIELD_MANAGER)
            except ApiException as exc:
                if exc.status == 404:
                    return  # deleted meanwhile
                raise
            logger.info("Rack %s from Node %s (label %s)", outcome.value, step.node, step.topology_key)
            return
        # The Pod sends many events while it waits (status, restarts): one Event per Pod and cause.
        if memo.get("rack_warned") == (outcome.node, outcome.topology_key):
            return
        memo["rack_warned"] = (outcome.node, outcome.topology_key)
        logger.warning(outcome.message)
        cluster = body.meta.labels.get(names.CLUSTER_LABEL)
        if cluster:
            _warn_cluster(api, namespace, cluster, outcome.message)


def _node_labels(core: client.CoreV1Api, name: str) -> dict[str, str] | None:
    try:
        node = core.read_node(name)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(node.metadata.labels or {}) if node.metadata else {}


def _warn_cluster(api: client.ApiClient, namespace: str, name: str, message: str) -> None:
    """A Warning Event on the KafkaConnect, where users look (its uid makes `kubectl describe` show it)."""
    owner = resources.kafkaconnect(api, namespace, name)
    if owner is None:
        return
    reference = {
        "apiVersion": API_VERSION,
        "kind": "KafkaConnect",
        "metadata": {"name": name, "namespace": namespace, "uid": owner["metadata"]["uid"]},
    }
    events.warning(reference, "RackLabelMissing", message)
