"""The JSON merge patch (RFC 7386) that turns a stored status into a new one, or nothing when equal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge_patch(before: Mapping[str, Any], after: Mapping[str, Any], *, keep_absent: bool = True) -> dict[str, Any]:
    """What to send so that `before` becomes `after`: changed keys, None for keys to remove, {} if equal.

    A merge patch merges objects key by key, so a key left out of a nested object would survive: keys
    gone from a nested object are sent as None. `keep_absent` keeps top-level keys `after` does not
    mention (a status written in part keeps what was known)."""
    patch: dict[str, Any] = {}
    if not keep_absent:
        patch.update(dict.fromkeys(before.keys() - after.keys()))
    for key, value in after.items():
        old = before.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            nested = merge_patch(old, value, keep_absent=False)
            if nested:
                patch[key] = nested
        elif value is None:
            if old is not None:
                patch[key] = None
        elif _without_nulls(value) != _without_nulls(old):
            patch[key] = _without_nulls(value)
    return patch


def _without_nulls(value: Any) -> Any:
    # A merge patch drops null members of a new object, and the API server may drop them in lists'
    # objects: compare and send without them.
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value
