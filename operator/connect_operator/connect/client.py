"""The async Kafka Connect REST client: one base URL, timeouts on every call, bounded retries, counted calls.

Retries: a request Connect refused because of a rebalance (409, or 5xx naming it) was not applied,
and neither was one whose connection was refused, so both are retried for any method. A request
whose outcome is unknown (timeout, dropped connection, other 5xx) is retried only when repeating
it cannot do harm (reads, PUT of a config or state, DELETE).
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import aiohttp
from pydantic import BaseModel, TypeAdapter

from connect_operator.connect import errors, models

ModelT = TypeVar("ModelT", bound=BaseModel)
TargetState = Literal["RUNNING", "PAUSED", "STOPPED"]


@dataclass(frozen=True)
class Timeouts:
    connect: float = 3.0
    read: float = 30.0
    # A plugin's validate may probe outside systems (a JDBC connector its database); Connect itself
    # gives it 90 s before answering 500, so anything shorter here would cut a validation that succeeds.
    validate: float = 95.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff before retry number `attempt` (1-based)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class TlsSettings:
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True
    # PEM text held in memory (the operator's, read from a Secret), instead of files.
    ca_pem: str | None = field(default=None, repr=False)
    cert_pem: str | None = field(default=None, repr=False)
    key_pem: str | None = field(default=None, repr=False)
    # The name the server's certificate must carry, whatever address is dialled (a Pod IP, say).
    server_hostname: str | None = None

    def context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.ca_file, cadata=self.ca_pem)
        if self.cert_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        if self.cert_pem and self.key_pem:
            _load_chain_from_memory(context, self.cert_pem, self.key_pem)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def _load_chain_from_memory(context: ssl.SSLContext, cert_pem: str, key_pem: str) -> None:
    """`load_cert_chain` reads only paths: hand it an anonymous in-memory file, so the key never touches a disk."""
    fd = os.memfd_create("kco-rest-client", os.MFD_CLOEXEC)
    try:
        os.write(fd, (cert_pem.rstrip("\n") + "\n" + key_pem).encode())
        context.load_cert_chain(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


@dataclass
class RouteStats:
    calls: int = 0
    retries: int = 0
    failures: int = 0
    seconds: float = 0.0


@dataclass
class CallStats:
    """Every call by route ("PUT /connectors/{name}/config"), for metrics and benchmarks."""

    routes: dict[str, RouteStats] = field(default_factory=dict)
    # Told of every attempt (route, seconds, failed): the operator's metrics listen here.
    listener: Callable[[str, float, bool], None] | None = None

    def record(self, route: str, seconds: float, *, retried: bool, failed: bool) -> None:
        if self.listener is not None:
            self.listener(route, seconds, retried or failed)
        entry = self.routes.setdefault(route, RouteStats())
        entry.calls += 1
        entry.seconds += seconds
        entry.retries += retried
        entry.failures += failed

    @property
    def total_calls(self) -> int:
        return sum(r.calls for r in self.routes.values())

    def snapshot(self) -> dict[str, RouteStats]:
        return {route: RouteStats(**vars(stats)) for route, stats in self.routes.items()}


_EXPANDED = TypeAdapter(dict[str, models.ExpandedConnector])
_PLUGINS = TypeAdapter(list[models.PluginInfo])
_NAMES = TypeAdapter(list[str])


class ConnectClient:
    """A client bound to one Connect cluster's REST URL. Use as `async with ConnectClient(url) as client`."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession | None = None,
        timeouts: Timeouts = Timeouts(),
        retry: RetryPolicy = RetryPolicy(),
        username: str | None = None,
        password: str | None = None,
        tls: TlsSettings | None = None,
        stats: CallStats | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.stats = stats or CallStats()
        self._timeouts = timeouts
        self._retry = retry
        self._auth = aiohttp.BasicAuth(username, password or "") if username else None
        self._ssl: ssl.SSLContext | bool = tls.context() if tls else True
        self._server_hostname = tls.server_hostname if tls else None
        # Jetty answers 400 ("Host does not match SNI") when the Host header is a name the certificate does
        # not carry: a Pod IP dialled, the Service's name verified. So the header names what is verified.
        self._host_header = {"Host": self._server_hostname} if self._server_hostname else {}
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> ConnectClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # --- cluster -------------------------------------------------------------------------------

    async def server_info(self) -> models.ServerInfo:
        return models.ServerInfo.model_validate(await self._call("GET", "/", "/"))

    async def plugins(self, connectors_only: bool = True) -> list[models.PluginInfo]:
        query = "" if connectors_only else "?connectorsOnly=false"
        return _PLUGINS.validate_python(await self._call("GET", f"/connector-plugins{query}", "/connector-plugins"))

    async def validate(self, connector_class: str, config: Mapping[str, str]) -> models.ValidationResult:
        # A validation changes nothing, so it is safe to repeat.
        path = f"/connector-plugins/{_seg(connector_class)}/config/validate"
        body = await self._call(
            "PUT",
            path,
            "/connector-plugins/{class}/config/validate",
            dict(config),
            safe=True,
            read=self._timeouts.validate,
        )
        return models.ValidationResult.model_validate(body)

    async def list_expanded(self) -> dict[str, models.ExpandedConnector]:
        """Every connector with its config and status: the one read per sync."""
        body = await self._call("GET", "/connectors?expand=status&expand=info", "/connectors?expand")
        return _EXPANDED.validate_python(body)

    async def list_names(self) -> list[str]:
        return _NAMES.validate_python(await self._call("GET", "/connectors", "/connectors"))

    # --- one connector -----------------------------------------------------------------------

    async def create(
        self, name: str, config: Mapping[str, str], initial_state: TargetState | None = None
    ) -> models.ConnectorInfo:
        """POST /connectors; `initial_state` needs Connect 3.7+. Not repeated when its outcome is unknown."""
        payload: dict[str, Any] = {"name": name, "config": dict(config)}
        if initial_state:
            payload["initial_state"] = initial_state
        body = await self._call("POST", "/connectors", "/connectors (create)", payload, safe=False)
        return models.ConnectorInfo.model_validate(body)

    async def put_config(self, name: str, config: Mapping[str, str]) -> models.ConnectorInfo:
        path = f"/connectors/{_seg(name)}/config"
        body = await self._call("PUT", path, "/connectors/{name}/config (put)", dict(config), safe=True)
        return models.ConnectorInfo.model_validate(body)

    async def get_config(self, name: str) -> dict[str, str]:
        body = await self._call("GET", f"/connectors/{_seg(name)}/config", "/connectors/{name}/config")
        return {str(k): str(v) for k, v in body.items()}

    async def get(self, name: str) -> models.ConnectorInfo:
        body = await self._call("GET", f"/connectors/{_seg(name)}", "/connectors/{name}")
        return models.ConnectorInfo.model_validate(body)

    async def status(self, name: str) -> models.ConnectorStateInfo:
        body = await self._call("GET", f"/connectors/{_seg(name)}/status", "/connectors/{name}/status")
        return models.ConnectorStateInfo.model_validate(body)

    async def pause(self, name: str) -> None:
        await self._call("PUT", f"/connectors/{_seg(name)}/pause", "/connectors/{name}/pause", safe=True)

    async def resume(self, name: str) -> None:
        await self._call("PUT", f"/connectors/{_seg(name)}/resume", "/connectors/{name}/resume", safe=True)

    async def stop(self, name: str) -> None:
        await self._call("PUT", f"/connectors/{_seg(name)}/stop", "/connectors/{name}/stop", safe=True)

    async def restart(
        self, name: str, *, include_tasks: bool = False, only_failed: bool = False
    ) -> models.ConnectorStateInfo | None:
        """POST restart; returns the planned states (202) or None (204, connector only)."""
        query = f"?includeTasks={_flag(include_tasks)}&onlyFailed={_flag(only_failed)}"
        body = await self._call("POST", f"/connectors/{_seg(name)}/restart{query}", "/connectors/{name}/restart")
        return models.ConnectorStateInfo.model_validate(body) if body else None

    async def restart_task(self, name: str, task: int) -> None:
        path = f"/connectors/{_seg(name)}/tasks/{task}/restart"
        await self._call("POST", path, "/connectors/{name}/tasks/{id}/restart")

    async def delete(self, name: str) -> None:
        await self._call("DELETE", f"/connectors/{_seg(name)}", "/connectors/{name} (delete)", safe=True)

    async def offsets(self, name: str) -> models.ConnectorOffsets:
        body = await self._call("GET", f"/connectors/{_seg(name)}/offsets", "/connectors/{name}/offsets")
        return models.ConnectorOffsets.model_validate(body)

    async def alter_offsets(self, name: str, offsets: list[dict[str, Any]]) -> str:
        # Altering to the same offsets twice ends in the same place.
        path = f"/connectors/{_seg(name)}/offsets"
        body = await self._call("PATCH", path, "/connectors/{name}/offsets (alter)", {"offsets": offsets}, safe=True)
        return str(body.get("message", "")) if isinstance(body, dict) else ""

    async def reset_offsets(self, name: str) -> str:
        path = f"/connectors/{_seg(name)}/offsets"
        body = await self._call("DELETE", path, "/connectors/{name}/offsets (reset)", safe=True)
        return str(body.get("message", "")) if isinstance(body, dict) else ""

    # --- transport ---------------------------------------------------------------------------

    def _session_or_new(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _call(
        self,
        method: str,
        path: str,
        route: str,
        payload: object | None = None,
        *,
        safe: bool | None = None,
        read: float | None = None,
    ) -> Any:
        """One logical call with bounded retries. `safe`: may repeat when the outcome is unknown. `read`: the
        read timeout, if not the usual one."""
        repeatable = method in {"GET", "PUT", "DELETE"} if safe is None else safe
        route_name = f"{method} {route}"
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                result = await self._send(method, path, payload, self._timeouts.read if read is None else read)
            except errors.ConnectError as exc:
                retry = attempt < self._retry.attempts and may_retry(exc, repeatable)
                self.stats.record(route_name, time.monotonic() - started, retried=retry, failed=not retry)
                if not retry:
                    raise
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            self.stats.record(route_name, time.monotonic() - started, retried=False, failed=False)
            return result

    async def _send(self, method: str, path: str, payload: object | None, read: float) -> Any:
        timeout = aiohttp.ClientTimeout(
            total=self._timeouts.connect + read,
            connect=self._timeouts.connect,
            sock_connect=self._timeouts.connect,
            sock_read=read,
        )
        session = self._session_or_new()
        try:
            async with session.request(
                method,
                self.base_url + path,
                json=payload,
                timeout=timeout,
                auth=self._auth,
                ssl=self._ssl,
                server_hostname=self._server_hostname,
                # Connect answers 415 to a PUT without a JSON content type, even an empty one.
                headers={"Accept": "application/json", "Content-Type": "application/json", **self._host_header},
            ) as response:
                raw = await response.read()
                body: Any = None
                if raw:
                    try:
                        body = await response.json(content_type=None)
                    except ValueError:
                        body = raw.decode(errors="replace")
                if response.status >= 400:
                    message = body.get("message", "") if isinstance(body, dict) else str(body or response.reason)
                    code = body.get("error_code") if isinstance(body, dict) else None
                    raise errors.for_status(method, path, response.status, str(message), code)
                return body
        except aiohttp.ClientConnectorError as exc:
            raise errors.ConnectUnavailable(
                method, path, f"cannot connect to {self.base_url}: {exc}", sent=False
            ) from exc
        except TimeoutError as exc:
            raise errors.ConnectUnavailable(method, path, "timed out", sent=True) from exc
        except aiohttp.ClientError as exc:
            raise errors.ConnectUnavailable(method, path, f"{type(exc).__name__}: {exc}", sent=True) from exc


def may_retry(exc: errors.ConnectError, repeatable: bool) -> bool:
    """Whether a failed attempt may be sent again; `repeatable`: repeating it cannot do harm."""
    if isinstance(exc, errors.ConnectUnavailable):
        return repeatable or not exc.sent
    if exc.is_rebalance:
        # "already exists" is a 409 too, but it is final.
        return "already exists" not in exc.message
    return repeatable and exc.status >= 500


def _seg(value: str) -> str:
    return quote(value, safe="")


def _flag(value: bool) -> str:
    return "true" if value else "false"
