"""A reverse proxy in front of a real Connect worker that makes one connector's validation slow, or the
whole API unreachable.

Every request is forwarded unchanged; a `PUT /connector-plugins/<class>/config/validate` whose config
names the chosen connector is held first, as Connect holds one while a plugin probes a dead database;
while `unreachable` is set, every request gets the 503 of a Service with no endpoint.
It runs its own event loop in a thread, so synchronous fixtures can start and stop it.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp import web

_VALIDATE = re.compile(r"^/connector-plugins/[^/]+/config/validate/?$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host", "content-encoding"}


class SlowProxy:
    def __init__(self, target: str | Callable[[], str]) -> None:
        """`target`: the worker's URL, or a function giving it per request (a Pod that is replaced)."""
        self._target = target
        self.url = ""
        # While True, every request gets 503 at once, as from a Service with no ready endpoint behind it.
        self.unreachable = False
        self._delays: dict[str, float] = {}
        self._validations: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="slow-proxy", daemon=True)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    def delay_validation(self, connector: str, seconds: float) -> None:
        with self._lock:
            self._delays[connector] = seconds

    def validations(self, connector: str) -> int:
        """How many validations of `connector`'s config have arrived (counted before any delay)."""
        with self._lock:
            return self._validations[connector]

    def start(self) -> None:
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(timeout=10)

    def stop(self) -> None:
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    async def _serve(self) -> str:
        self._session = aiohttp.ClientSession()
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # Held requests are cut at shutdown rather than waited for.
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    @property
    def target(self) -> str:
        return (self._target() if callable(self._target) else self._target).rstrip("/")

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        if self.unreachable:
            return web.Response(status=503, text="no endpoints available for service")
        body = await request.read()
        if request.method == "PUT" and _VALIDATE.match(request.path):
            await self._hold_validation(body)
        assert self._session is not None
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            data=body or None,
            headers=_forwardable(request.headers),
            timeout=aiohttp.ClientTimeout(total=120),
        ) as answer:
            return web.Response(status=answer.status, body=await answer.read(), headers=_forwardable(answer.headers))

    async def _hold_validation(self, body: bytes) -> None:
        name = _config_name(body)
        with self._lock:
            self._validations[name] += 1
            delay = self._delays.get(name, 0.0)
        if delay:
            await asyncio.sleep(delay)


def _config_name(body: bytes) -> str:
    try:
        config = json.loads(body or b"{}")
    except ValueError:
        return ""
    return str(config.get("name", "")) if isinstance(config, dict) else ""


def _forwardable(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
