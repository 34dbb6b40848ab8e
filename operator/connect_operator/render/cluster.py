"""Everything a KafkaConnect becomes, in apply order: the one entry point the handlers call."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.render import companions, configmap, deployment, storage, workerconfig
from connect_operator.render.names import ClusterRef


@dataclass(frozen=True)
class Rendered:
    objects: tuple[dict[str, Any], ...]
    config_hash: str
    worker_properties: dict[str, str]


def render(
    ref: ClusterRef,
    spec: KafkaConnectSpec,
    operator_image: str,
    pdb_api_version: str = "policy/v1",
    operator_namespace: str | None = None,
    group_id: str | None = None,
    rest_certificate: str | None = None,
) -> Rendered:
    """`group_id`: the Connect group the cluster runs as (policy.groups decides it); default for a new cluster.
    A standalone cluster has none, and its offsets claim comes before the Deployment that mounts it.
    `rest_certificate`: the REST listener's certificate fingerprint, with spec.rest.tls: a renewed one rolls
    the workers (a Pod annotation), whose init step builds the stores Jetty reads only at start."""
    group = (
        None if spec.standalone else group_id or spec.group_id or workerconfig.default_group_id(ref.namespace, ref.name)
    )
    properties = workerconfig.worker_properties(spec, group)
    data = configmap.data(properties, workerconfig.log4j_properties(spec))
    digest = configmap.config_hash(data)
    objects = (
        companions.build_service_account(ref),
        configmap.build_configmap(ref, data),
        companions.build_service(ref),
        companions.build_network_policy(ref, operator_namespace),
        companions.build_pod_disruption_budget(ref, spec, pdb_api_version),
        *([storage.build_offsets_claim(ref, spec)] if spec.standalone else []),
        deployment.build_deployment(ref, spec, digest, operator_image, rest_certificate),
    )
    return Rendered(objects, digest, properties)
