"""What each KafkaConnect owns is watched and kept as rendered: a deleted or hand-edited child is applied again.

Level-based, without a full reconcile: the owner's last applied spec (from an index kopf keeps) is
rendered again and only the child that differs is applied. Watching, kopf stores nothing on these
objects. An owner with a reconcile pending, a standing problem or a deletion under way is left to
its own handlers.
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import Any

import kopf
from kubernetes import client

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.handlers import events, resttls
from connect_operator.kube import client as kube
from connect_operator.kube import resources
from connect_operator.policy import children
from connect_operator.policy import kafkaconnect as policy
from connect_operator.render import cluster, names
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings

Logger = logging.Logger | logging.LoggerAdapter[Any]

# (group, version, plural) of every kind a KafkaConnect renders. No version for the PodDisruptionBudget:
# kopf then watches the one the API server prefers (policy/v1, or policy/v1beta1 before Kubernetes 1.21).
CHILD_RESOURCES: tuple[tuple[str, str | None, str], ...] = (
    ("apps", "v1", "deployments"),
    ("", "v1", "configmaps"),
    ("", "v1", "services"),
    ("", "v1", "serviceaccounts"),
    ("policy", None, "poddisruptionbudgets"),
    ("networking.k8s.io", "v1", "networkpolicies"),
    ("", "v1", "persistentvolumeclaims"),  # mode standalone: the offsets volume
)
CHILD_LABELS: dict[str, Any] = {
    "app.kubernetes.io/managed-by": names.WORKER_LABELS["app.kubernetes.io/managed-by"],
    names.CLUSTER_LABEL: kopf.PRESENT,
}


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings, api: client.ApiClient) -> None:
    @kopf.index(GROUP, VERSION, "kafkaconnects", registry=registry, id="kafkaconnect_owners")
    def kafkaconnect_owners(body: kopf.Body, **_: Any) -> dict[tuple[str, str], dict[str, Any]]:
        return {(str(body.meta["namespace"]), str(body.meta["name"])): copy.deepcopy(dict(body))}

    @functools.cache
    def pdb_api() -> str:
        return policy.pdb_api(kube.served(api, policy.PDB_V1))[0]

    def repair_child(body: kopf.Body, event: kopf.RawEvent, logger: Logger, **kwargs: Any) -> None:
        namespace, owner_name = str(body.meta["namespace"]), str(body.meta.labels[names.CLUSTER_LABEL])
        owners = kwargs["kafkaconnect_owners"].get((namespace, owner_name), [])
        owner = next(iter(owners), None)
        if owner is None or not children.owner_settled(owner):
            return
        uid = str(owner["metadata"]["uid"])
        if children.is_leftover(body, uid):
            return
        deleted = event.get("type") == "DELETED"
        desired = _desired(api, owner, str(body["kind"]), str(body.meta["name"]), settings, pdb_api())
        if desired is None:
            return  # not something this owner renders (now)
        why = children.why_repair(desired, None if deleted else body)
        if why is None or (deleted and not _still_settled(api, namespace, owner_name, uid)):
            return
        kube.apply(api, desired)
        message = f"Applied {body['kind']} {body.meta['name']} again: {why}"
        logger.info(message)
        events.normal(owner, "Repaired", message)

    for group, version, plural in CHILD_RESOURCES:
        kopf.on.event(group, version, plural, registry=registry, labels=CHILD_LABELS, id=f"repair-{plural}")(
            repair_child
        )


def _desired(
    api: client.ApiClient, owner: dict[str, Any], kind: str, name: str, settings: OperatorSettings, pdb_api: str
) -> dict[str, Any] | None:
    spec = KafkaConnectSpec.model_validate(owner.get("spec") or {})
    meta = owner["metadata"]
    ref = ClusterRef(meta["name"], meta["namespace"], meta["uid"])
    group = owner["status"].get("groupId")  # none for a standalone cluster
    # As the reconcile renders it: with the REST certificate the Secret holds, or a repair would undo its roll.
    certificate = resttls.served_fingerprint(api, ref, spec) if kind == "Deployment" else None
    rendered = cluster.render(
        ref, spec, settings.operator_image, pdb_api, group_id=group, rest_certificate=certificate
    ).objects
    return next((o for o in rendered if o["kind"] == kind and o["metadata"]["name"] == name), None)


def _still_settled(api: client.ApiClient, namespace: str, name: str, uid: str) -> bool:
    """After a delete, read the owner itself: its own deletion (garbage collection) also deletes children."""
    owner = resources.kafkaconnect(api, namespace, name)
    return owner is not None and str(owner["metadata"]["uid"]) == uid and children.owner_settled(owner)
