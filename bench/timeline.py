"""The operator (`python -m connect_operator`) with timing hooks: where an edit's time goes.

Run by `bench/edit_latency.py` through `benchstack.OperatorProcess(timeline=...)`, never by hand. Each
hook appends one JSON line `{"at": <epoch s>, "what": ..., ...}` to $KCO_BENCH_TIMELINE:

- `watch`: a Connector event from the API server's watch stream, as kopf receives it (name, resourceVersion);
- `wake`: the Connector handler woke its cluster's sync loop (after kopf's batching and the handler's read);
- `sync`/`synced`: a sync pass started and ended;
- `rest`/`rested`: a Connect REST attempt was sent and answered (method, path, status or error).

The hooks only wrap; the operator's behaviour is unchanged (they run in its event loop, and cost a write
of one line each).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from kopf._cogs.clients import watching

from connect_operator import runner
from connect_operator.connect.client import ConnectClient
from connect_operator.handlers import connector_sync, connectors, loops
from connect_operator.settings import OperatorSettings

_OUT = Path(os.environ["KCO_BENCH_TIMELINE"]).open("a", buffering=1)  # noqa: SIM115 - lives as long as the process


def note(what: str, **fields: Any) -> None:
    _OUT.write(json.dumps({"at": time.time(), "what": what, **fields}) + "\n")


_watch_objs = watching.watch_objs


async def _watched(**kwargs: Any) -> AsyncIterator[Any]:
    plural = kwargs["resource"].plural
    async for raw in _watch_objs(**kwargs):
        if plural == "connectors" and isinstance(raw, dict) and isinstance(raw.get("object"), dict):
            meta = raw["object"].get("metadata") or {}
            note("watch", name=meta.get("name"), rv=meta.get("resourceVersion"), type=raw.get("type"))
        yield raw


_wake = loops.Loops.wake


def _woken(self: loops.Loops, namespace: str, cluster: str) -> None:
    note("wake", cluster=cluster)
    _wake(self, namespace, cluster)


_sync_once = connector_sync.sync_once


async def _synced(body: Any, *args: Any, **kwargs: Any) -> int:
    note("sync", cluster=body.meta["name"])
    try:
        return await _sync_once(body, *args, **kwargs)
    finally:
        note("synced", cluster=body.meta["name"])


_send = ConnectClient._send


async def _sent(self: ConnectClient, method: str, path: str, payload: object | None, read: float) -> Any:
    note("rest", method=method, path=path)
    try:
        result = await _send(self, method, path, payload, read)
    except Exception as exc:
        note("rested", method=method, path=path, error=type(exc).__name__)
        raise
    note("rested", method=method, path=path)
    return result


watching.watch_objs = _watched
loops.Loops.wake = _woken  # type: ignore[method-assign]
vars(connectors)["sync_once"] = _synced  # looked up in the module at each call
ConnectClient._send = _sent  # type: ignore[method-assign]

if __name__ == "__main__":
    runner.run(OperatorSettings.from_env())
