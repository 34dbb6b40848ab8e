"""A Connector's errorHandling as Connect's errors.* keys, and which dead letter queues a sync must create."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import Connector, ConnectorSpec, ErrorHandling
from connect_operator.engine.desired import from_connector
from connect_operator.policy import deadletters


def _connector(**spec: Any) -> Connector:
    return Connector.model_validate(
        {
            "apiVersion": "kco.dev/v1alpha1",
            "kind": "Connector",
            "metadata": {"name": "sink"},
            "spec": {"cluster": "c", "class": "S", **spec},
        }
    )


def test_error_handling_becomes_connects_errors_keys_as_it_stores_them() -> None:
    handling = ErrorHandling.model_validate(
        {
            "tolerance": "all",
            "retryTimeoutMs": -1,
            "log": True,
            "deadLetterQueue": {"topic": "dlq", "replicationFactor": 2, "contextHeaders": False},
        }
    )
    assert handling.connect_config() == {
        "errors.tolerance": "all",
        "errors.retry.timeout": "-1",
        "errors.retry.delay.max.ms": "60000",
        "errors.log.enable": "true",
        "errors.log.include.messages": "false",
        "errors.deadletterqueue.topic.name": "dlq",
        "errors.deadletterqueue.topic.replication.factor": "2",
        "errors.deadletterqueue.context.headers.enable": "false",
    }


def test_the_desired_config_carries_the_errors_keys() -> None:
    desired = from_connector(_connector(errorHandling={"tolerance": "all"}, config={"topics": "t"}))
    assert desired.config["errors.tolerance"] == "all" and desired.config["topics"] == "t"
    assert "errors.deadletterqueue.topic.name" not in desired.config


def test_errors_keys_in_config_are_refused_beside_error_handling() -> None:
    with pytest.raises(ValidationError, match=r"errors\.tolerance when spec\.errorHandling is set"):
        ConnectorSpec.model_validate(
            {"cluster": "c", "class": "S", "config": {"errors.tolerance": "all"}, "errorHandling": {}}
        )
    # Without the field, the keys are the user's to set.
    ConnectorSpec.model_validate({"cluster": "c", "class": "S", "config": {"errors.tolerance": "all"}})


def test_a_topic_name_kafka_would_refuse_is_refused() -> None:
    with pytest.raises(ValidationError):
        ErrorHandling.model_validate({"deadLetterQueue": {"topic": "no spaces"}})


def test_only_queues_not_known_to_exist_are_wanted() -> None:
    objects: dict[str, dict[str, Any]] = {
        "a": {"spec": {"errorHandling": {"deadLetterQueue": {"topic": "dlq-a", "partitions": 3}}}},
        "b": {"spec": {"errorHandling": {"deadLetterQueue": {"topic": "dlq-b"}}}},
        "c": {"spec": {"errorHandling": {"tolerance": "all"}}},
        "d": {"spec": {}},
    }
    wanted = deadletters.wanted(objects, ready={"dlq-b"})
    assert wanted == {"a": deadletters.QueueWanted("dlq-a", 3, 3)}


def test_a_problem_naming_a_topic_is_that_topics_and_any_other_every_topics() -> None:
    found = deadletters.failures(
        ["dlq-a", "dlq-b"],
        ["cannot create topic dlq-a: TOPIC_AUTHORIZATION_FAILED"],
    )
    assert found == {"dlq-a": "cannot create topic dlq-a: TOPIC_AUTHORIZATION_FAILED"}
    unreachable = deadletters.failures(["dlq-a", "dlq-b"], ["cannot reach Kafka at k:9092: timed out"])
    assert set(unreachable) == {"dlq-a", "dlq-b"}
    assert deadletters.failures(["dlq-a"], []) == {}
