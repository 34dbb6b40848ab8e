"""The explicit kopf registry: settings mapped onto kopf, the login, and every handler."""

from __future__ import annotations

import logging
from typing import Any

import kopf
import yaml

from connect_operator.handlers import connectors, kafkaconnect, workerpods
from connect_operator.kube import client as kube
from connect_operator.settings import OperatorSettings

ANNOTATION_PREFIX = "kco.dev"


def build_registry(settings: OperatorSettings) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()
    api = kube.api_client(settings)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Progress in annotations: the structural status schema would prune kopf's own status fields.
        settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=ANNOTATION_PREFIX)
        settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
            prefix=ANNOTATION_PREFIX, key="last-handled-configuration"
        )
        settings.posting.level = logging.INFO
        settings.watching.server_timeout = 120
        settings.watching.client_timeout = 150
        settings.networking.request_timeout = 30

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        if settings.kubeconfig:
            return _from_kubeconfig(settings.kubeconfig)
        return kopf.login_via_client(**kwargs)

    kafkaconnect.register(registry, settings, api)
    connectors.register(registry, settings, api)
    workerpods.register(registry, settings, api)
    return registry


def _from_kubeconfig(path: str) -> kopf.ConnectionInfo:
    config = yaml.safe_load(open(path))  # noqa: PTH123, SIM115 - read once at login
    context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
    user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
    return kopf.ConnectionInfo(
        server=cluster["server"],
        ca_path=cluster.get("certificate-authority"),
        token=user.get("token"),
        scheme="Bearer" if user.get("token") else None,
        certificate_path=user.get("client-certificate"),
        private_key_path=user.get("client-key"),
    )
