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


def _standalone(**extra: str) -> properties.StandaloneWorkerSpec:
    return properties.StandaloneWorkerSpec(
        bootstrap_servers="b:9092",
        offsets_file="/data/connect.offsets",
        rest_host="127.0.0.2",
        rest_port=8083,
        plugin_path="/plugins",
        extra=extra,
    )


def test_a_standalone_worker_has_an_offsets_file_and_no_group_or_topics() -> None:
    props = properties.worker_properties(_standalone(**{"offset.flush.interval.ms": "500"}))
    assert props["offset.storage.file.filename"] == "/data/connect.offsets"
    assert props["offset.flush.interval.ms"] == "500"
    assert props["listeners"] == "http://127.0.0.2:8083"
    assert not {"group.id", "config.storage.topic", "offset.storage.topic", "status.storage.topic"} & set(props)


@pytest.mark.parametrize("key", sorted(properties.STANDALONE_IDENTITY_KEYS))
def test_a_standalone_workers_owned_keys_are_refused(key: str) -> None:
    with pytest.raises(PropertiesError, match=key):
        properties.worker_properties(_standalone(**{key: "x"}))


def test_a_rendered_standalone_set_reads_back_at_another_address_and_file() -> None:
    rendered = {
        "bootstrap.servers": "kafka:9092",
        "offset.storage.file.filename": "/var/lib/kco/offsets/connect.offsets",
        "listeners": "http://:8083",
        "rest.advertised.port": "8083",
        "plugin.path": "/opt/kco/plugins",
        "offset.flush.interval.ms": "10000",
    }
    spec = properties.standalone_spec_from_properties(rendered, "127.9.9.2", 8083, "/local/plugins", "/claims/o")
    props = properties.worker_properties(spec)
    assert props["offset.storage.file.filename"] == "/claims/o"
    assert props["listeners"] == "http://127.9.9.2:8083" and props["plugin.path"] == "/local/plugins"
    assert props["offset.flush.interval.ms"] == "10000"
