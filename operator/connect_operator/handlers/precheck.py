"""What a KafkaConnect reconcile checks before it creates anything, and how it stops short.

The Connect group (is it this cluster's to run?) and a server-side dry run of every rendered object:
either refusal leaves nothing created, in Kubernetes or in Kafka.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.kafka import groups as kafka_groups
from connect_operator.kube import client as kube
from connect_operator.kube import secrets
from connect_operator.policy import groups
from connect_operator.policy import kafkaconnect as policy
from connect_operator.render import kafkaclient, names
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_worker import properties as worker_properties


class HeldBack(Exception):
    """Nothing is applied until something outside the spec is fixed (a Secret): reported, then retried."""

    def __init__(self, reason: str, message: str, delay: float = 30.0) -> None:
        super().__init__(message)
        self.reason, self.message, self.delay = reason, message, delay


class Unfinished(Exception):
    """The reconcile could not finish for a reason that passes (Kafka unreachable): still under way, retried."""

    def __init__(self, reason: str, message: str, delay: float = 30.0) -> None:
        super().__init__(message)
        self.reason, self.message, self.delay = reason, message, delay


def claims_of(index: kopf.Index[str, Any]) -> list[groups.GroupClaim]:
    return [claim for key in index for claim in index[key]]


def group_conflict(me: groups.GroupClaim, claims: list[groups.GroupClaim]) -> policy.Problem | None:
    held_by = groups.holder(me, claims)
    return None if held_by is None else groups.conflict_problem(me, held_by)


def running_group(api: client.ApiClient, ref: ClusterRef) -> str | None:
    """The group.id the workers' ConfigMap carries: what a cluster created before status.groupId runs as."""
    config_map = kube.get_config_map(api, ref.namespace, ref.config_map)
    if config_map is None or not config_map.data or names.WORKER_PROPERTIES not in config_map.data:
        return None
    return worker_properties.parse(config_map.data[names.WORKER_PROPERTIES]).get("group.id")


def claim_group(
    api: client.ApiClient,
    ref: ClusterRef,
    body: kopf.Body,
    spec: KafkaConnectSpec,
    group: str,
    settings: OperatorSettings,
    client_config: dict[str, str],
    claims: list[groups.GroupClaim],
) -> str | None:
    """HeldBack unless the group is this cluster's to run; the Kafka cluster's id, for the others' checks."""
    me = groups.GroupClaim(
        ref.namespace, ref.name, ref.uid, str(body.meta.get("creationTimestamp", "")), group, spec.bootstrap_servers
    )
    try:
        probed = kafka_groups.probe(spec.bootstrap_servers, group, settings.kafka_admin_timeout_seconds, client_config)
    except kafka_groups.KafkaClientInvalid as exc:
        raise HeldBack("KafkaClientInvalid", kafkaclient.redact(str(exc), client_config)) from None
    except kafka_groups.KafkaUnreachable as exc:
        raise Unfinished("KafkaUnreachable", kafkaclient.redact(str(exc), client_config)) from None
    me = dataclasses.replace(me, kafka_cluster_id=probed.kafka_cluster_id)
    if conflict := group_conflict(me, claims):
        raise HeldBack(*conflict)
    has_workers = kube.get_deployment(api, ref.namespace, ref.workers) is not None
    if in_use := groups.live_group_problem(group, probed.state, has_workers):
        raise HeldBack(*in_use, delay=10.0)  # e.g. the workers of a deleted cluster still leaving
    return probed.kafka_cluster_id


def dry_run(api: client.ApiClient, objects: Sequence[dict[str, Any]]) -> policy.Problem | None:
    """The whole set through the API server's validation and admission first: all of it applies, or none."""
    for obj in objects:
        try:
            kube.apply(api, obj, dry_run=True)
        except ApiException as exc:
            refused = policy.refusal(obj["kind"], obj["metadata"]["name"], exc.status, kube.refusal_message(exc))
            if refused is None:
                raise
            return refused
    return None


def kafka_client_config(api: client.ApiClient, namespace: str, spec: KafkaConnectSpec) -> dict[str, str]:
    """The admin client's TLS/SASL settings from the referenced Secrets; HeldBack naming what is missing."""
    uses = kafkaclient.secret_uses(spec)
    found = policy.kafka_secret_values(uses, secrets.read_all(api, namespace, {use.secret for use in uses}))
    if isinstance(found, tuple):
        raise HeldBack(*found)
    return kafkaclient.admin_config(spec, found)
