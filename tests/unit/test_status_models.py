"""The statuses the operator writes are what the types (and so the CRDs' structural schemas) describe.

A field the status builders write but the types lack would be pruned by the apiserver without a word.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from connect_operator.api.v1alpha1.connector import ConnectorStatus
from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectStatus
from connect_operator.engine.memory import ConnectorMemory
from connect_operator.engine.results import TaskResult
from connect_operator.status import connector, kafkaconnect
from tests.support.results import connector_result

pytestmark = pytest.mark.unit

NOW = "2026-12-01T00:00:00Z"
RESULTS = {
    "running": connector_result("a", tasks=(TaskResult(0, "RUNNING", "w:8083", None),), actions=("Create",)),
    "failed": connector_result("a", state="FAILED", trace="java.lang.Boom\n\tat x", auto_restart_exhausted=True),
    "invalid": connector_result("a", state=None, config_valid=False, field_errors={"topics": ("required",)}),
    "restarted": connector_result("a", restart_count=2, last_restart_at=1_700_000_000.0, handled_restart_id="r1"),
    "offsets": connector_result("a", offsets=[{"partition": {"f": "x"}, "offset": {"position": 3}}]),
    "drifted": connector_result("a", drift=("tasks.max",), errors=("PUT failed",)),
}


@pytest.mark.parametrize("case", sorted(RESULTS))
def test_a_connector_status_from_any_result_is_what_the_type_describes(case: str) -> None:
    memory = ConnectorMemory(applied_hash="h", restart_count=1, handled_task_restart_ids=("t1",))
    status = connector.from_result({}, RESULTS[case], memory, 3, NOW, cluster="c", connector_name="a")
    assert ConnectorStatus.model_validate(status).model_dump(by_alias=True, exclude_unset=True).keys() == status.keys()


def test_a_connector_status_that_could_not_sync_is_what_the_type_describes() -> None:
    ConnectorStatus.model_validate(
        connector.not_synced({}, "ClusterNotReady", "KafkaConnect c is not Ready", 1, NOW, stalled=False)
    )
    ConnectorStatus.model_validate(connector.not_synced({}, "InvalidSpec", "spec.class: missing", 1, NOW, stalled=True))


def test_a_field_the_type_lacks_is_refused() -> None:
    status = connector.from_result({}, RESULTS["running"], ConnectorMemory(), 1, NOW)
    with pytest.raises(ValueError, match="topics"):
        ConnectorStatus.model_validate({**status, "topics": ["t"]})


@pytest.mark.parametrize(
    "seen",
    [
        kafkaconnect.Observation(generation=1, now=NOW, desired_replicas=2),
        kafkaconnect.Observation(
            generation=2,
            now=NOW,
            desired_replicas=1,
            replicas=1,
            ready_replicas=1,
            updated_replicas=1,
            url="http://c-connect-api.ns.svc:8083",
            label_selector="a=b",
            plugins=({"class": "x.Y", "type": "source", "version": "1"},),
            warnings=(("PodDisruptionBudgetV1beta1", "policy/v1 is not served"),),
        ),
        kafkaconnect.Observation(generation=3, now=NOW, desired_replicas=1, problem=("InvalidSpec", "bad")),
        kafkaconnect.Observation(
            generation=4,
            now=NOW,
            desired_replicas=2,
            replicas=2,
            ready_replicas=1,
            updated_replicas=2,
            deployment_current=True,
            connect_version="3.9.0",
            connect_commit="a1b2c3",
            in_flight=("KafkaUnreachable", "cannot reach Kafka"),
        ),
    ],
)
def test_a_kafkaconnect_status_is_what_the_type_describes(seen: kafkaconnect.Observation) -> None:
    status = kafkaconnect.status({}, seen)
    KafkaConnectStatus.model_validate(status)
    KafkaConnectStatus.model_validate(kafkaconnect.status(status, replace(seen, generation=9)))
    KafkaConnectStatus.model_validate(kafkaconnect.reconcile_started(status, 10, NOW))
