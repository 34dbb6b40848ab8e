"""Operator settings, grouped, with documented defaults: the only module that reads the environment."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_OPERATOR_IMAGE = "ghcr.io/kco-dev/kafka-connect-operator:0.1.0"


@dataclass(frozen=True)
class OperatorSettings:
    # The image of this project, run by the workers' init container.
    operator_image: str = DEFAULT_OPERATOR_IMAGE
    # "namespace/name" → REST URL, for an operator running outside the cluster (development, tests).
    rest_url_overrides: Mapping[str, str] = field(default_factory=dict)
    # Reach workers at a ready Pod's IP instead of the Service (local control plane: no Endpoints there).
    rest_via_pod_ips: bool = False
    # How often a KafkaConnect's status is refreshed from its Deployment and REST API.
    status_interval_seconds: float = 15.0
    # Wait this long after a referenced Secret changes before restarting the connectors that use it:
    # kubelets refresh mounted Secret files within about their sync period (1 minute by default).
    secret_propagation_seconds: float = 90.0
    # A Connector or KafkaConnect deletion waits at most this long for Connect to delete the connectors;
    # then the resource is released and what is left is recorded (and deleted once Connect answers).
    delete_grace_seconds: float = 60.0
    # A woken sync loop waits for a burst of changes to pause this long before it syncs (a lone edit waits
    # just this), and at most `sync_burst_seconds` in all: an `apply` of a few hundred Connectors, whose
    # creates arrive some 20 ms apart, lands in one sync instead of the first few holding up the rest.
    sync_quiet_seconds: float = 0.1
    sync_burst_seconds: float = 2.0
    # Connectors one sync writes to Connect at once. Connect's herder takes every request queued when it
    # next runs and answers many creates with one rebalance (about 3 s each on the local broker), so more
    # at once means fewer rebalances; the validations run beside them on Connect's REST threads. But the
    # herder then starts all of them and their tasks in one go, and answers nothing else meanwhile: with 32,
    # an apply of 200 Connectors kept a 1-worker cluster's GET /health failing for a minute, and the
    # liveness probe restarted the worker mid-apply (3 applies of 3); with 16, none was restarted.
    connect_write_concurrency: int = 16
    # How long one sync waits for a connector's steps (a validation probing a dead database can take
    # Connect's full 90 s): past it they finish in the background and the sync goes on without them.
    connector_deadline_seconds: float = 10.0
    # How often freed memory is handed back to the system (see `allocator`); 0 leaves it to the allocator.
    memory_release_seconds: float = 30.0
    # Timeout of the Kafka admin calls that ensure the internal topics.
    kafka_admin_timeout_seconds: float = 15.0
    # Kubeconfig files (a `:`-separated list, merged) to use instead of the in-cluster service account;
    # None: in-cluster if running in a Pod, else ~/.kube/config.
    kubeconfig: str | None = None
    # Namespaces to watch; empty: the whole cluster.
    namespaces: tuple[str, ...] = ()
    # kopf's liveness probe endpoint; None turns it off. (Off when embedded; from_env turns it on.)
    liveness_endpoint: str | None = None
    # Port of the Prometheus /metrics endpoint; 0 turns it off. (Off when embedded; from_env: 9090.)
    metrics_port: int = 0
    # "plain" or "json" (one JSON object per line, for log collectors).
    log_format: str = "plain"
    # The namespace the operator's own Pods run in (the chart sets it from the Pod's metadata.namespace):
    # the workers' NetworkPolicy admits operator Pods from there only. None (an operator outside the
    # cluster, which reaches workers from outside the Pod network): it admits no operator Pod at all.
    operator_namespace: str | None = None
    # kopf peering name for several replicas with one active; None: a single replica, no peering.
    peering_name: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> OperatorSettings:
        env = os.environ if environ is None else environ
        return cls(
            operator_image=env.get("KCO_OPERATOR_IMAGE", DEFAULT_OPERATOR_IMAGE),
            rest_url_overrides=json.loads(env.get("KCO_REST_URL_OVERRIDES", "{}")),
            rest_via_pod_ips=env.get("KCO_REST_VIA_POD_IPS", "") in {"1", "true"},
            status_interval_seconds=float(env.get("KCO_STATUS_INTERVAL_SECONDS", "15")),
            secret_propagation_seconds=float(env.get("KCO_SECRET_PROPAGATION_SECONDS", "90")),
            connector_deadline_seconds=float(env.get("KCO_CONNECTOR_DEADLINE_SECONDS", "10")),
            connect_write_concurrency=int(env.get("KCO_CONNECT_WRITE_CONCURRENCY", "16")),
            kafka_admin_timeout_seconds=float(env.get("KCO_KAFKA_ADMIN_TIMEOUT_SECONDS", "15")),
            delete_grace_seconds=float(env.get("KCO_DELETE_GRACE_SECONDS", "60")),
            memory_release_seconds=float(env.get("KCO_MEMORY_RELEASE_SECONDS", "30")),
            kubeconfig=env.get("KUBECONFIG") or None,
            namespaces=tuple(n for n in env.get("KCO_WATCH_NAMESPACES", "").split(",") if n),
            liveness_endpoint=env.get("KCO_LIVENESS_ENDPOINT", "http://0.0.0.0:8080/healthz") or None,
            metrics_port=int(env.get("KCO_METRICS_PORT", "9090")),
            log_format=env.get("KCO_LOG_FORMAT", "plain"),
            peering_name=env.get("KCO_PEERING_NAME") or None,
            operator_namespace=env.get("KCO_OPERATOR_NAMESPACE") or None,
        )
