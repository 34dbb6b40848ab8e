"""Whether an object the operator owns must be applied again: deleted, or a field it sets changed by hand.

The API server adds defaults (a Service's clusterIP, a container's terminationMessagePath) and
rewrites quantities ("0.5" is stored as "500m"): only what the operator renders is compared, and
quantities by value, so a healthy object never looks drifted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from connect_operator.policy.kafkaconnect import standing_problem

_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([A-Za-z]*)$")
_SUFFIXES = {
    "": Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}


def why_repair(desired: Mapping[str, Any], observed: Mapping[str, Any] | None) -> str | None:
    """'deleted', or the first field whose value is not the rendered one; None when the object is as rendered."""
    if observed is None:
        return "deleted"
    path = _first_difference(desired, observed, "")
    return None if path is None else f"{path.lstrip('.')} changed"


def _first_difference(desired: Any, observed: Any, path: str) -> str | None:
    if isinstance(desired, Mapping):
        if not isinstance(observed, Mapping):
            return path
        for key, value in desired.items():
            if key not in observed:
                if _is_empty(value):
                    continue  # the API server drops empty maps and lists
                return f"{path}.{key}"
            found = _first_difference(value, observed[key], f"{path}.{key}")
            if found is not None:
                return found
        return None
    if isinstance(desired, list):
        return _list_difference(desired, observed, path)
    if desired == observed or _same_quantity(desired, observed):
        return None
    return path


def _list_difference(desired: list[Any], observed: Any, path: str) -> str | None:
    if not isinstance(observed, list):
        return None if _is_empty(desired) and observed is None else path
    if all(isinstance(d, Mapping) and "name" in d for d in desired):
        # Named entries (containers, env, volumes, ports) merge by name: others may add their own.
        by_name = {o.get("name"): o for o in observed if isinstance(o, Mapping)}
        for entry in desired:
            if entry["name"] not in by_name:
                return f"{path}[{entry['name']}]"
            found = _first_difference(entry, by_name[entry["name"]], f"{path}[{entry['name']}]")
            if found is not None:
                return found
        return None
    if len(desired) != len(observed):
        return path
    for index, (d, o) in enumerate(zip(desired, observed, strict=True)):
        found = _first_difference(d, o, f"{path}[{index}]")
        if found is not None:
            return found
    return None


def _is_empty(value: Any) -> bool:
    return value is None or value in ({}, [])


def _same_quantity(a: Any, b: Any) -> bool:
    if not (isinstance(a, str) and isinstance(b, str)):
        return False
    first, second = _quantity(a), _quantity(b)
    return first is not None and first == second


def _quantity(text: str) -> Decimal | None:
    match = _QUANTITY.match(text)
    if match is None or match.group(2) not in _SUFFIXES:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIXES[match.group(2)]
    except InvalidOperation:
        return None


def owner_settled(owner: Mapping[str, Any]) -> bool:
    """Repair only what the last reconcile applied: none pending, none refused, the owner not being deleted."""
    meta, status = owner.get("metadata") or {}, owner.get("status") or {}
    # A distributed cluster renders with the group its status records; a standalone one has none.
    standalone = (owner.get("spec") or {}).get("mode") == "standalone"
    if meta.get("deletionTimestamp") or not (standalone or status.get("groupId")):
        return False
    return status.get("observedGeneration") == meta.get("generation") and standing_problem(status) is None


def is_leftover(obj: Mapping[str, Any], uid: str) -> bool:
    """Whether `obj` belongs to an earlier KafkaConnect of that name (garbage collection will take it), not `uid`."""
    references = [
        r for r in (obj.get("metadata") or {}).get("ownerReferences") or [] if r.get("kind") == "KafkaConnect"
    ]
    return bool(references) and all(r.get("uid") != uid for r in references)
