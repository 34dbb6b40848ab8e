"""The status merge patch: nothing when equal, removed nested keys sent as null, partial writes keep the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connect_operator.status.patch import merge_patch

pytestmark = pytest.mark.unit

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=10,
)
OBJECTS = st.dictionaries(st.text(max_size=3), JSON, max_size=4)


def apply(target: object, patch: object) -> object:
    """RFC 7386, as the API server applies it."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply(result.get(key), value)
    return result


def test_an_unchanged_status_needs_no_patch_even_with_nulls() -> None:
    stored = {"state": "RUNNING", "sync": {"applied_hash": "a"}, "tasks": [{"id": 0}]}
    new = {"state": "RUNNING", "sync": {"applied_hash": "a", "applied_at": None}, "tasks": [{"id": 0, "trace": None}]}
    assert merge_patch(stored, new) == {}


def test_keys_gone_from_a_nested_object_are_removed() -> None:
    stored = {"validationErrors": {"topics": ["required"]}, "state": "RUNNING"}
    assert merge_patch(stored, {"validationErrors": {}}) == {"validationErrors": {"topics": None}}


def test_a_partial_status_keeps_the_other_top_level_keys() -> None:
    assert merge_patch({"state": "RUNNING", "conditions": []}, {"conditions": [{"type": "Ready"}]}) == {
        "conditions": [{"type": "Ready"}]
    }


def normalised(value: object) -> object:
    if isinstance(value, dict):
        return {k: normalised(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [normalised(item) for item in value]
    return value


@given(OBJECTS, OBJECTS)
def test_applying_the_patch_gives_the_new_status(before: dict[str, object], after: dict[str, object]) -> None:
    stored = normalised(before)
    assert isinstance(stored, dict)
    expected = {k: v for k, v in stored.items() if k not in after}
    expected.update({k: normalised(v) for k, v in after.items() if v is not None})
    assert apply(stored, merge_patch(stored, after)) == expected
