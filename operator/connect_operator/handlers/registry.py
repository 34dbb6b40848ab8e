"""The explicit kopf registry: settings mapped onto kopf, the login, and every handler."""

from __future__ import annotations

import logging
import socket
from typing import Any

import kopf

from connect_operator import metrics
from connect_operator.handlers import children, connectors, kafkaconnect, watches, workerpods
from connect_operator.kube import client as kube
from connect_operator.kube import login as kube_login
from connect_operator.render import names
from connect_operator.settings import OperatorSettings

ANNOTATION_PREFIX = "kco.dev"


def build_registry(settings: OperatorSettings) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    api = kube.api_client(settings, on_request=metrics.kube_request)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Progress in annotations: the structural status schema would prune kopf's own status fields.
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
        )
        # Events come only from handlers.events: kopf's log lines (one per retry) would flood describe.
        settings.posting.level = logging.CRITICAL + 1
        settings.watching.server_timeout = 120
        settings.watching.client_timeout = 150
        settings.networking.request_timeout = 30
        # Server-side filters: without them kopf lists and watches every Pod, ConfigMap, Service, ... of the
        # watched namespaces and drops all but the operator's own in the handlers' filters.
        for resource, selector in watches.label_selectors():
            settings.watching.label_selectors[resource] = selector
        # Every Event the operator posts, on any resource, names it as the reporting controller.
        settings.posting.reporting_component = names.REPORTING_COMPONENT
        settings.posting.reporting_instance = socket.gethostname()

    @kopf.on.login(registry=registry)
    def login(**_: Any) -> kopf.ConnectionInfo:
        return kube_login.connection_info(kube_login.configuration(settings))

    kafkaconnect.register(registry, settings, api)
    children.register(registry, settings, api)
    connectors.register(registry, settings, api)
    workerpods.register(registry, settings, api)
    return registry
