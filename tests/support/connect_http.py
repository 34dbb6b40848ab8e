"""A bare synchronous HTTP helper for the foundation tests, which exercise Connect's REST API directly."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def call(
    method: str, url: str, payload: object | None = None, timeout: float = 30.0, rebalance_deadline: float = 60.0
) -> Answer:
    """One REST call; while Connect says a rebalance is under way (409, or 500 naming it), try again."""
    deadline = time.monotonic() + rebalance_deadline
    while True:
        answer = _call_once(method, url, payload, timeout)
        if not _is_rebalancing(answer) or time.monotonic() >= deadline:
            return answer
        time.sleep(0.5)


def _is_rebalancing(answer: Answer) -> bool:
    message = str(answer.body.get("message", "")) if isinstance(answer.body, dict) else ""
    return answer.status == 409 or (answer.status == 500 and "rebalance" in message)


def _call_once(method: str, url: str, payload: object | None, timeout: float) -> Answer:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
            return Answer(response.status, json.loads(raw) if raw else None)
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        return Answer(exc.code, body)
