"""What a KafkaConnect owns is kept as rendered: each kind deleted, then edited by hand, is repaired in seconds."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client, dynamic
from kubernetes.client.exceptions import ApiException

from tests.kube.conftest import RunningOperator, kafkaconnect_manifest
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, events

pytestmark = pytest.mark.kube

NAME = "kept"


class Child:
    """One owned object: how to read it, what a hand-edit does to it, and how to tell it was put back."""

    def __init__(
        self,
        resource: Any,
        name: str,
        edit: dict[str, Any],
        as_rendered: Callable[[Any], bool],
    ) -> None:
        self.resource, self.name, self.edit, self.as_rendered = resource, name, edit, as_rendered

    @property
    def kind(self) -> str:
        return str(self.resource.kind)

    def read(self, namespace: str) -> Any | None:
        try:
            return self.resource.get(namespace=namespace, name=self.name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise


def _children(crds: dynamic.DynamicClient) -> list[Child]:
    def kind(api_version: str, kind_: str) -> Any:
        return crds.resources.get(api_version=api_version, kind=kind_)

    worker_selector = {"app.kubernetes.io/instance": NAME}
    return [
        Child(
            kind("v1", "ConfigMap"),
            f"{NAME}-connect-config",
            {"data": {"worker.properties": "group.id=someone-else\n"}},
            lambda o: "group.id=" in o.data["worker.properties"] and "someone-else" not in o.data["worker.properties"],
        ),
        Child(
            kind("v1", "Service"),
            f"{NAME}-connect-api",
            {"spec": {"selector": {"app.kubernetes.io/instance": "elsewhere"}}},
            lambda o: o.spec.selector["app.kubernetes.io/instance"] == NAME,
        ),
        Child(
            kind("v1", "ServiceAccount"),
            f"{NAME}-connect",
            {"automountServiceAccountToken": True},
            lambda o: o.automountServiceAccountToken is False,
        ),
        Child(
            kind("networking.k8s.io/v1", "NetworkPolicy"),
            f"{NAME}-connect",
            {"spec": {"podSelector": {"matchLabels": {"app.kubernetes.io/instance": "elsewhere"}}}},
            lambda o: dict(o.spec.podSelector.matchLabels).items() >= worker_selector.items(),
        ),
        Child(
            kind("policy/v1beta1", "PodDisruptionBudget"),
            f"{NAME}-connect",
            {"spec": {"maxUnavailable": 3}},
            lambda o: o.spec.maxUnavailable == 1,
        ),
        Child(
            kind("apps/v1", "Deployment"),
            f"{NAME}-connect",
            {"spec": {"replicas": 4}},
            lambda o: o.spec.replicas == 1,
        ),
    ]


def _repaired(child: Child, namespace: str, before_uid: str | None, what: str) -> float:
    started = time.monotonic()

    def back() -> bool:
        current = child.read(namespace)
        if current is None or not child.as_rendered(current):
            return False
        return before_uid is None or current.metadata.uid != before_uid

    poll_until(back, 30, what)
    return time.monotonic() - started


def test_each_owned_kind_deleted_or_edited_by_hand_is_applied_again(
    operator: RunningOperator, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, testbed: Any
) -> None:
    kafkaconnects = crds.resources.get(api_version=API_VERSION, kind="KafkaConnect")
    manifest = kafkaconnect_manifest(namespace, testbed, replicas=1)
    manifest["metadata"]["name"] = NAME
    kafkaconnects.create(namespace=namespace, body=manifest)
    poll_until(
        lambda: condition(kafkaconnects.get(namespace=namespace, name=NAME), "Stalled").get("status") == "False",
        60,
        "the KafkaConnect applied",
    )
    took: dict[str, float] = {}
    for child in _children(crds):
        present = poll_until(functools.partial(child.read, namespace), 30, f"{child.kind} applied")
        assert child.as_rendered(present), f"{child.kind} as rendered before the test touches it"

        child.resource.delete(namespace=namespace, name=child.name)
        took[f"{child.kind} deleted"] = _repaired(child, namespace, present.metadata.uid, f"{child.kind} recreated")

        child.resource.patch(
            namespace=namespace, name=child.name, body=child.edit, content_type="application/merge-patch+json"
        )
        took[f"{child.kind} edited"] = _repaired(child, namespace, None, f"{child.kind} edit reverted")

    print("repair latency (s):", {k: round(v, 2) for k, v in took.items()})

    def every_repair_told() -> bool:
        # kopf posts Events from a queue of its own: the last repair's may land a moment after the object.
        repaired = [e.message for e in events(api, namespace, NAME, "Normal") if e.reason == "Repaired"]
        for child in _children(crds):
            said = [m for m in repaired if f"{child.kind} {child.name} " in m]
            if not (any(m.endswith("deleted") for m in said) and any(m.endswith("changed") for m in said)):
                return False
        return True

    poll_until(every_repair_told, 30, "a Repaired Event for each kind, deleted and changed")
    ready = condition(kafkaconnects.get(namespace=namespace, name=NAME), "Stalled")
    assert ready["status"] == "False"
