"""KafkaConnect: parse → Kafka credentials → internal topics → render → apply → status. Decides nothing itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.api.v1alpha1.kafkaconnect import REST_PORT, KafkaConnectSpec
from connect_operator.connect.client import ConnectClient, RetryPolicy, Timeouts, TlsSettings
from connect_operator.connect.errors import ConnectError
from connect_operator.connect.models import ServerInfo
from connect_operator.handlers import events, precheck, resttls
from connect_operator.kafka import topics
from connect_operator.kube import client as kube
from connect_operator.kube import secrets
from connect_operator.policy import groups
from connect_operator.policy import kafkaconnect as policy
from connect_operator.policy.messages import validation_message
from connect_operator.render import cluster, kafkaclient, workerconfig
from connect_operator.render.names import ClusterRef
from connect_operator.settings import OperatorSettings
from connect_operator.status import initfailures
from connect_operator.status import kafkaconnect as kc_status
from connect_operator.status.conditions import rfc3339
from connect_operator.status.patch import merge_patch

PLURAL = "kafkaconnects"
log = logging.getLogger(__name__)
Logger = logging.Logger | logging.LoggerAdapter[Any]


def register(registry: kopf.OperatorRegistry, settings: OperatorSettings, api: client.ApiClient) -> None:
    @kopf.index(GROUP, VERSION, PLURAL, registry=registry, id="kafkaconnect_claims")
    def kafkaconnect_claims(body: kopf.Body, **_: Any) -> dict[str, groups.GroupClaim]:
        if body.spec.get("mode") == "standalone":
            return {}  # holds no group
        claim = groups.claim_of(body)
        return {claim.group_id: claim}

    @kopf.on.resume(GROUP, VERSION, PLURAL, registry=registry)
    @kopf.on.create(GROUP, VERSION, PLURAL, registry=registry)
    @kopf.on.update(GROUP, VERSION, PLURAL, registry=registry, field="spec")
    def reconcile_kafkaconnect(body: kopf.Body, patch: kopf.Patch, logger: Logger, **kwargs: Any) -> None:
        reconcile_or_hold(body, patch, settings, api, logger, precheck.claims_of(kwargs["kafkaconnect_claims"]))

    @kopf.timer(
        GROUP,
        VERSION,
        PLURAL,
        registry=registry,
        interval=settings.status_interval_seconds,
        initial_delay=settings.status_interval_seconds,
    )
    def refresh_kafkaconnect(body: kopf.Body, patch: kopf.Patch, logger: Logger, **kwargs: Any) -> None:
        claims = precheck.claims_of(kwargs["kafkaconnect_claims"])  # kopf passes each index by its function's name
        if body.status.get("observedGeneration") != body.meta.get("generation"):
            reconcile_or_hold(body, patch, settings, api, logger, claims)  # a missed or failed change
            return
        if _rest_certificate_stale(body, api):
            # A certificate due for renewal, or one renewed in its Secret that the workers do not serve yet:
            # the reconcile renews it (when the operator issues it) and rolls the workers onto it.
            reconcile_or_hold(body, patch, settings, api, logger, claims)
            return
        problem = policy.standing_problem(body.status)
        standalone = body.spec.get("mode") == "standalone"
        if not standalone and (problem is None or problem[0] == "GroupIdConflict"):
            # Found here too: clusters merged before this check existed, or a holder deleted since.
            problem = precheck.group_conflict(groups.claim_of(body), claims)
            if problem is not None and policy.is_new(body.status, problem):
                events.warning(body, *problem)
        # The reconcile's warnings again, or a refresh would clear Degraded until the next reconcile.
        warnings = (
            _exposed_secret_warnings(body, api) + policy.pdb_api(kube.served(api, policy.PDB_V1))[1]
            if problem is None
            else ()
        )
        observed = observe(body, settings, api, dict(body.status), problem=problem, warnings=warnings)
        # Only what changed: kopf sends any non-empty patch, and a settled cluster's status rarely changes.
        patch.status.update(merge_patch(dict(body.status), observed))


def reconcile_or_hold(
    body: kopf.Body,
    patch: kopf.Patch,
    settings: OperatorSettings,
    api: client.ApiClient,
    logger: Logger,
    claims: list[groups.GroupClaim],
) -> None:
    previous = dict(body.status)
    if kc_status.is_unannounced(previous, body.meta.get("generation")):
        previous = _announce(api, body, previous)
    try:
        patch.status.update(reconcile(body, settings, api, logger, previous, claims))
    except precheck.Unfinished as unfinished:
        in_flight = (unfinished.reason, unfinished.message)
        patch.status.update(observe(body, settings, api, previous, problem=None, warnings=(), in_flight=in_flight))
        raise kopf.TemporaryError(unfinished.message, delay=unfinished.delay) from None
    except precheck.HeldBack as held:
        if policy.is_new(body.status, (held.reason, held.message)):
            events.warning(body, held.reason, held.message)
        patch.status.update(observe(body, settings, api, previous, problem=(held.reason, held.message), warnings=()))
        # kopf keeps the status patch and retries the handler: the Secret may appear later.
        raise kopf.TemporaryError(held.message, delay=held.delay) from None


def _announce(api: client.ApiClient, body: kopf.Body, previous: dict[str, Any]) -> dict[str, Any]:
    """Reconciling=True at once for a new generation: topics and Kafka may take a while, kopf writes only at the end."""
    started = kc_status.reconcile_started(previous, body.meta.get("generation"), rfc3339(time.time()))
    try:
        client.CustomObjectsApi(api).patch_namespaced_custom_object_status(
            GROUP, VERSION, body.meta["namespace"], PLURAL, body.meta["name"], {"status": started}
        )
    except ApiException as exc:  # only a courtesy: the status at the end of the reconcile says it all
        log.warning("Could not mark %s Reconciling: %s", body.meta["name"], exc.reason)
        return previous
    return started


def reconcile(
    body: kopf.Body,
    settings: OperatorSettings,
    api: client.ApiClient,
    logger: Logger,
    previous: dict[str, Any],
    claims: list[groups.GroupClaim],
) -> dict[str, Any]:
    try:
        spec = KafkaConnectSpec.model_validate(dict(body.spec))
    except ValidationError as exc:
        message = validation_message(exc, prefix="spec.")
        events.warning(body, "InvalidSpec", message)
        logger.warning("Refused the spec: %s", message)
        return observe(body, settings, api, previous, problem=("InvalidSpec", message), warnings=())
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    client_config = precheck.kafka_client_config(api, ref.namespace, spec)
    group: str | None = None
    recorded: dict[str, Any] = {}
    if not spec.standalone:  # a standalone worker joins no group and keeps no internal topics
        group = groups.effective_group_id(
            spec.group_id, previous.get("groupId"), precheck.running_group(api, ref), ref.namespace, ref.name
        )
        kafka_cluster_id = precheck.claim_group(api, ref, body, spec, group, settings, client_config, claims)
        recorded = {"groupId": group, "kafkaClusterId": kafka_cluster_id}
    certificate = resttls.ensure(api, ref, spec, body)
    pdb_api, pdb_warnings = policy.pdb_api(kube.served(api, policy.PDB_V1))
    rendered = cluster.render(
        ref,
        spec,
        settings.operator_image,
        pdb_api,
        operator_namespace=settings.operator_namespace,
        group_id=group,
        rest_certificate=certificate,
    )
    # Before anything is created, in Kubernetes or in Kafka: all of it applies, or none.
    if refused := precheck.dry_run(api, rendered.objects):
        events.warning(body, *refused)
        logger.warning("Applied nothing: %s", refused[1])
        return {**observe(body, settings, api, previous, problem=refused, warnings=()), **recorded}
    created, problems = _ensure_topics(spec, group, settings, client_config) if group is not None else ([], [])
    if created:
        events.normal(body, "TopicsCreated", f"Created internal topics {', '.join(sorted(created))}")
    objects = policy.to_apply(rendered.objects, problems)
    warnings = _exposed_secret_warnings(body, api) + pdb_warnings
    for obj in objects:
        kube.apply(api, obj)
    kinds = ", ".join(o["kind"] for o in objects)
    events.normal(body, "Applied", f"Applied {kinds} (config hash {rendered.config_hash})")
    logger.info("Applied %s with config hash %s", kinds, rendered.config_hash)
    if problems:
        message = "; ".join(problems)
        events.warning(body, "InternalTopicsInvalid", message)
        problem = ("InternalTopicsInvalid", message)
        return {**observe(body, settings, api, previous, problem=problem, warnings=()), **recorded}
    return {**observe(body, settings, api, previous, problem=None, warnings=warnings), **recorded}


def observe(
    body: kopf.Body,
    settings: OperatorSettings,
    api: client.ApiClient,
    previous: dict[str, Any],
    problem: tuple[str, str] | None,
    warnings: tuple[tuple[str, str], ...],
    in_flight: tuple[str, str] | None = None,
) -> dict[str, Any]:
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    desired = int(body.spec.get("replicas", 1))
    deployment = kube.get_deployment(api, ref.namespace, ref.workers)
    state = deployment.status if deployment is not None and deployment.status else None
    tls = resttls.client_tls(api, ref, body.spec)
    url = rest_url(ref, settings, api, https=tls is not None)
    ready = (state.ready_replicas or 0) if state else 0
    # The Deployment's status speaks of its current spec once its controller has observed that generation.
    generation = deployment.metadata.generation if deployment is not None and deployment.metadata else None
    current = state is not None and generation is not None and (state.observed_generation or 0) >= generation
    workers = _read_workers(url, tls) if ready and problem is None else WorkersRead()
    failures = _init_failures(api, ref) if problem is None and ready < desired else ()
    seen = kc_status.Observation(
        generation=body.meta.get("generation"),
        now=rfc3339(time.time()),
        desired_replicas=desired,
        replicas=(state.replicas or 0) if state else 0,
        ready_replicas=ready,
        updated_replicas=(state.updated_replicas or 0) if state else 0,
        deployment_current=current,
        url=url,
        label_selector=ref.label_selector(),
        plugins=workers.plugins,
        connect_version=workers.server.version if workers.server else None,
        connect_commit=workers.server.commit if workers.server else None,
        problem=problem,
        in_flight=in_flight,
        warnings=warnings,
        init_failures=failures,
    )
    for reason, message in policy.new_init_failures(previous, failures):
        events.warning(body, reason, message)
    return kc_status.status(previous, seen)


def _init_failures(api: client.ApiClient, ref: ClusterRef) -> tuple[tuple[str, str], ...]:
    """Why worker Pods do not start, from their init containers' states (the kubelet's termination messages)."""
    return initfailures.init_failures(kube.init_container_statuses(api, ref.namespace, ref.label_selector()))


def rest_url(ref: ClusterRef, settings: OperatorSettings, api: client.ApiClient, https: bool = False) -> str:
    """Where the operator reaches a cluster's REST API: the Service, unless a setting says otherwise."""
    if override := settings.rest_url_overrides.get(f"{ref.namespace}/{ref.name}"):
        return override
    scheme = "https" if https else "http"
    if settings.rest_via_pod_ips:
        ips = kube.ready_pod_ips(api, ref.namespace, ref.label_selector())
        if ips:
            return f"{scheme}://{ips[0]}:{REST_PORT}"
    return ref.rest_url(REST_PORT, scheme)


@dataclass(frozen=True)
class RestEndpoint:
    """A cluster's REST API as the operator calls it: the URL and, with spec.rest.tls, its TLS settings."""

    url: str
    tls: TlsSettings | None = None


def rest_endpoint(ref: ClusterRef, settings: OperatorSettings, api: client.ApiClient, spec: Any) -> RestEndpoint:
    tls = resttls.client_tls(api, ref, spec)
    return RestEndpoint(rest_url(ref, settings, api, https=tls is not None), tls)


def _rest_certificate_stale(body: kopf.Body, api: client.ApiClient) -> bool:
    if (body.spec.get("rest") or {}).get("tls") is None:  # `tls: {}` asks for it too
        return False
    ref = ClusterRef(body.meta["name"], body.meta["namespace"], body.meta["uid"])
    try:
        spec = KafkaConnectSpec.model_validate(dict(body.spec))
    except ValidationError:
        return False  # the reconcile has reported it; nothing to roll
    return resttls.renewal_due(api, ref, body.spec) or not resttls.rolled_out(api, ref, spec)


def _exposed_secret_warnings(body: kopf.Body, api: client.ApiClient) -> tuple[tuple[str, str], ...]:
    """A warning per exposed Secret that is gone, and a Warning Event for each the status does not show yet."""
    exposed = [str(name) for name in body.spec.get("exposedSecrets") or []]
    reads = secrets.read_all(api, body.meta["namespace"], set(exposed))
    warnings = policy.exposed_secret_warnings(exposed, reads)
    for reason, message in policy.new_warnings(body.status, warnings):
        events.warning(body, reason, message)
    return warnings


def _ensure_topics(
    spec: KafkaConnectSpec, group: str, settings: OperatorSettings, client_config: dict[str, str]
) -> tuple[list[str], list[str]]:
    config_name, offset_name, status_name = workerconfig.internal_topic_names(spec, group)
    t = spec.internal_topics
    wanted = [
        topics.TopicWanted(config_name, 1, t.config.replication_factor, "config"),
        topics.TopicWanted(offset_name, t.offset.partitions or 25, t.offset.replication_factor, "offset"),
        topics.TopicWanted(status_name, t.status.partitions or 5, t.status.replication_factor, "status"),
    ]
    created, found = topics.ensure(spec.bootstrap_servers, wanted, settings.kafka_admin_timeout_seconds, client_config)
    problems = [kafkaclient.redact(p, client_config) for p in found]
    if any(p.startswith("cannot configure a Kafka client") for p in problems):
        raise precheck.HeldBack("KafkaClientInvalid", "; ".join(problems))
    if any(p.startswith("cannot reach Kafka") for p in problems):
        raise precheck.Unfinished("KafkaUnreachable", "; ".join(problems))
    return created, problems


@dataclass(frozen=True)
class WorkersRead:
    """What a ready worker told about itself; None where it did not answer."""

    server: ServerInfo | None = None
    plugins: list[dict[str, str]] | None = None


def _read_workers(url: str, tls: TlsSettings | None) -> WorkersRead:
    """GET / (version, commit) and GET /connector-plugins of a ready worker; neither waits on the herder."""

    async def read() -> WorkersRead:
        timeouts, retry = Timeouts(connect=2, read=5), RetryPolicy(attempts=2)
        async with ConnectClient(url, timeouts=timeouts, retry=retry, tls=tls) as rest:
            server: ServerInfo | None = None
            with contextlib.suppress(ConnectError, ValidationError):
                server = await rest.server_info()
            try:
                listed = await rest.plugins()
            except ConnectError:
                return WorkersRead(server)
            return WorkersRead(server, [{"class": p.class_name, "type": p.type, "version": p.version} for p in listed])

    return asyncio.run(read())
