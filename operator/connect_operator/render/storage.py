"""mode standalone: the PersistentVolumeClaim that keeps the worker's offsets file across Pods."""

from __future__ import annotations

from typing import Any

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec, OffsetStorage
from connect_operator.render.names import ClusterRef

OFFSETS_VOLUME = "offsets"


def build_offsets_claim(ref: ClusterRef, spec: KafkaConnectSpec) -> dict[str, Any]:
    """ReadWriteOnce: one worker writes the file, and the Deployment's Recreate strategy never runs two."""
    storage = spec.offset_storage or OffsetStorage()
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class_name:
        claim_spec["storageClassName"] = storage.storage_class_name
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": ref.metadata(ref.offsets_claim),
        "spec": claim_spec,
    }


def offsets_volume(ref: ClusterRef) -> dict[str, Any]:
    return {"name": OFFSETS_VOLUME, "persistentVolumeClaim": {"claimName": ref.offsets_claim}}
