"""The one way the operator posts Events: kopf's poster, with the operator as reporting component.

kopf's own log-derived Events (a line per handler retry) are turned off in the registry; these are
the Events a person reads in `kubectl describe`: one per thing that happened or per new problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

import kopf


def normal(obj: kopf.Body | Mapping[str, Any], reason: str, message: str) -> None:
    kopf.event(_body(obj), type="Normal", reason=reason, message=message)


def warning(obj: kopf.Body | Mapping[str, Any], reason: str, message: str) -> None:
    kopf.event(_body(obj), type="Warning", reason=reason, message=message)


def _body(obj: kopf.Body | Mapping[str, Any]) -> kopf.Body:
    return obj if isinstance(obj, kopf.Body) else kopf.Body(cast(kopf.RawBody, obj))
