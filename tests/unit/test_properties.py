"""Worker properties: owned keys are refused, and what is rendered reads back the same."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_worker import properties
from connect_worker.errors import PropertiesError
from connect_worker.properties import IDENTITY_KEYS, InternalTopics, WorkerSpec

pytestmark = pytest.mark.unit


def _spec(**extra: str) -> WorkerSpec:
    return WorkerSpec(
        bootstrap_servers="b:9092",
        group_id="grp",
        topics=InternalTopics.for_group("grp", 3),
        rest_host="127.0.0.2",
        rest_port=8083,
        plugin_path="/plugins",
        extra=extra,
    )


def test_identity_comes_from_the_spec() -> None:
    props = properties.worker_properties(_spec())
    assert props["group.id"] == "grp"
    assert props["config.storage.topic"] == "grp-configs"
    assert props["offset.storage.replication.factor"] == "3"
    assert props["listeners"] == "http://127.0.0.2:8083"
    assert props["plugin.discovery"] == "service_load"


def test_extra_properties_override_defaults() -> None:
    props = properties.worker_properties(_spec(**{"key.converter": "StringConverter"}))
    assert props["key.converter"] == "StringConverter"


@given(st.sampled_from(sorted(IDENTITY_KEYS)))
def test_every_owned_key_is_refused_by_name(key: str) -> None:
    with pytest.raises(PropertiesError, match=key.replace(".", r"\.")):
        properties.worker_properties(_spec(**{key: "x"}))


keys = st.text(st.characters(codec="utf-8"), min_size=1).filter(lambda k: not k.isspace())


@given(st.dictionaries(keys, st.text(st.characters(codec="utf-8"))))
def test_render_then_parse_is_identity(entries: dict[str, str]) -> None:
    assert properties.parse(properties.render(entries)) == entries


def test_render_escapes_separators() -> None:
    assert properties.render({"a=b": "c:d"}) == "a\\=b=c\\:d\n"
