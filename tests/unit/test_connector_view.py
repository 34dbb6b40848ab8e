"""What a sync reads of its Connectors: the watch's copy unless the operator's own write is newer, nothing the
operator finished deleting, and no memory kept of what the index no longer holds."""

from __future__ import annotations

from typing import Any

from connect_operator.handlers.connectorview import (
    DIFF_BASE_ANNOTATION,
    ConnectorView,
    index_keys,
    newer,
    stripped,
)

KEY = ("team", "main")


def _connector(uid: str, version: int, reason: str = "", **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "kco.dev/v1alpha1",
        "kind": "Connector",
        "metadata": {
            "name": f"c-{uid}",
            "namespace": "team",
            "uid": uid,
            "resourceVersion": str(version),
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {DIFF_BASE_ANNOTATION: '{"spec": {}}', "kco.dev/handled": "{}"},
        },
        "spec": {"cluster": "main"},
        "status": {"reason": reason, **status},
    }


def test_a_copy_keeps_all_a_sync_reads_and_drops_managed_fields_and_the_diff_base() -> None:
    original = _connector("a", 5)
    copy = stripped(original)
    assert "managedFields" not in copy["metadata"]
    assert copy["metadata"]["annotations"] == {"kco.dev/handled": "{}"}
    assert copy["spec"] == original["spec"] and copy["metadata"]["uid"] == "a"
    assert "managedFields" in original["metadata"], "the watch's body is not changed"
    copy["status"]["reason"] = "changed"
    assert original["status"]["reason"] == "", "a deep copy"


def test_a_connector_is_read_by_the_cluster_its_spec_names_and_the_one_it_is_still_placed_in() -> None:
    moving = _connector("a", 1, cluster="old")
    assert index_keys(moving) == [("team", "main"), ("team", "old")]
    assert index_keys(_connector("b", 1, cluster="main")) == [("team", "main")]


def test_resource_versions_compare_as_numbers_and_an_opaque_one_is_never_newer() -> None:
    assert newer(_connector("a", 10), _connector("a", 9))
    assert not newer(_connector("a", 9), _connector("a", 10))
    assert not newer(_connector("a", 9), _connector("a", 9))
    opaque = _connector("a", 1)
    opaque["metadata"]["resourceVersion"] = "opaque-token"
    assert not newer(opaque, _connector("a", 1))


def test_the_operators_newer_write_is_read_until_the_watch_catches_up() -> None:
    view = ConnectorView()
    watched = _connector("a", 10)
    view.record(KEY, _connector("a", 11, "Ready"))
    assert [o["status"]["reason"] for o in view.read(KEY, [watched])] == ["Ready"]
    caught_up = _connector("a", 11, "Ready")
    assert view.read(KEY, [caught_up])[0] is caught_up
    # Once caught up, the written copy is gone: an older index copy would not bring it back.
    assert view.read(KEY, [watched])[0] is watched


def test_a_change_by_someone_else_after_the_operators_write_wins() -> None:
    view = ConnectorView()
    view.record(KEY, _connector("a", 11, "Ready"))
    edited = _connector("a", 12, "")
    assert view.read(KEY, [edited])[0] is edited


def test_of_two_writes_the_later_is_kept_whatever_order_they_are_recorded_in() -> None:
    view = ConnectorView()
    view.record(KEY, _connector("a", 13, "second"))
    view.record(KEY, _connector("a", 12, "first"))
    view.record(KEY, None)  # nothing written
    assert view.read(KEY, [_connector("a", 10)])[0]["status"]["reason"] == "second"


def test_a_write_is_read_only_by_the_cluster_whose_sync_made_it() -> None:
    view = ConnectorView()
    view.record(KEY, _connector("a", 11, "Ready"))
    other = _connector("a", 10)
    assert view.read(("team", "old"), [other])[0] is other


def test_a_connector_whose_deletion_the_operator_finished_is_not_read_though_the_index_still_holds_it() -> None:
    view = ConnectorView()
    ghost, live = _connector("a", 10), _connector("b", 10)
    ghost["metadata"]["deletionTimestamp"] = "2026-12-05T00:00:00Z"
    view.forget(ghost)
    assert [o["metadata"]["uid"] for o in view.read(KEY, [ghost, live])] == ["b"]


def test_nothing_is_remembered_of_connectors_the_index_no_longer_holds() -> None:
    view = ConnectorView()
    view.record(KEY, _connector("a", 11, "Ready"))
    gone = _connector("b", 10)
    view.forget(gone)
    assert view.read(KEY, []) == []
    # Were either remembered, this read would give the written "Ready" copy, or leave "b" out.
    assert view.read(KEY, [_connector("a", 3), gone]) == [_connector("a", 3), gone]
