"""Connector manifests → desired connectors: values normalised as Connect stores them, secrets as placeholders."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from connect_operator.api.v1alpha1.connector import Connector
from connect_operator.engine.desired import directory_placeholder, from_connector, secrets_version

pytestmark = pytest.mark.unit


def manifest(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {"name": "orders"},
        "spec": {"cluster": "c", "class": "Src", **spec},
    }


def test_values_are_normalised_to_connect_strings() -> None:
    desired = from_connector(
        Connector.model_validate(
            manifest(tasksMax=3, state="paused", config={"batch": 10, "flag": True, "ratio": 0.5, "topics": ["a", "b"]})
        )
    )
    assert desired.full_config == {
        "batch": "10",
        "flag": "true",
        "ratio": "0.5",
        "topics": "a,b",
        "connector.class": "Src",
        "tasks.max": "3",
        "name": "orders",
    }
    assert desired.state == "PAUSED"


def test_secret_reference_becomes_a_placeholder_never_a_value() -> None:
    desired = from_connector(
        Connector.model_validate(
            manifest(config={"password": {"valueFrom": {"secretKeyRef": {"name": "db", "key": "pw"}}}})
        ),
        placeholder=directory_placeholder("/mnt/secrets"),
    )
    assert desired.config["password"] == "${dir:/mnt/secrets/db:pw}"
    assert desired.secret_refs == frozenset({("db", "pw")})


@pytest.mark.parametrize("key", ["name", "connector.class", "tasks.max"])
def test_reserved_keys_in_config_are_refused_with_the_field_to_use(key: str) -> None:
    with pytest.raises(ValidationError, match=r"spec\.class and spec\.tasksMax"):
        Connector.model_validate(manifest(config={key: "x"}))


def test_unknown_spec_fields_are_refused() -> None:
    with pytest.raises(ValidationError, match="tasksMaximum"):
        Connector.model_validate(manifest(tasksMaximum=2))


def test_config_hash_changes_exactly_when_the_config_does() -> None:
    one = from_connector(Connector.model_validate(manifest(config={"a": "1"})))
    same = from_connector(Connector.model_validate(manifest(config={"a": 1})))
    other = from_connector(Connector.model_validate(manifest(config={"a": "2"})))
    assert one.config_hash == same.config_hash != other.config_hash


def test_secrets_version_changes_with_any_value_and_never_contains_it() -> None:
    base = {("s", "password"): b"hunter2", ("s", "user"): b"app"}
    assert secrets_version({}) == ""
    assert secrets_version(base) == secrets_version(dict(reversed(base.items())))
    assert secrets_version(base) != secrets_version({**base, ("s", "password"): b"hunter3"})
    assert "hunter2" not in secrets_version(base)
