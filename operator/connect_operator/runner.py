"""Run the operator: `python -m connect_operator`, or embedded (tests, `kco dev`) with stop and ready flags."""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Iterator

import kopf

from connect_operator import allocator, metrics
from connect_operator.handlers.registry import build_registry
from connect_operator.settings import OperatorSettings


class OperatorStartError(RuntimeError):
    """The embedded operator stopped or timed out while starting."""


@contextlib.contextmanager
def in_thread(settings: OperatorSettings, start_timeout: float = 60.0) -> Iterator[None]:
    """The operator embedded in a thread (tests, `kco dev`): started and ready on entry, stopped and joined
    on exit, including when starting fails."""
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop, ready), daemon=True, name="operator")
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not ready.wait(0.5):
            if not thread.is_alive():
                raise OperatorStartError("the operator stopped while starting; see its log")
            if time.monotonic() > deadline:
                raise OperatorStartError(f"the operator did not start within {start_timeout:.0f} s")
        yield
    finally:
        stop.set()
        thread.join(30)


def run(
    settings: OperatorSettings,
    stop_flag: threading.Event | None = None,
    ready_flag: threading.Event | None = None,
) -> None:
    if settings.log_format == "json":
        kopf.configure(log_format=kopf.LogFormat.JSON)
    registry = build_registry(settings)
    if settings.memory_release_seconds > 0:
        allocator.map_large_buffers_apart()
    server = metrics.serve(settings.metrics_port)[0] if settings.metrics_port else None
    try:
        asyncio.run(_operate(settings, registry, stop_flag, ready_flag))
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()


async def _operate(
    settings: OperatorSettings,
    registry: kopf.OperatorRegistry,
    stop_flag: threading.Event | None,
    ready_flag: threading.Event | None,
) -> None:
    releases = (
        asyncio.create_task(allocator.release_every(settings.memory_release_seconds))
        if settings.memory_release_seconds > 0
        else None
    )
    try:
        await kopf.operator(
            registry=registry,
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=settings.peering_name is None,
            peering_name=settings.peering_name,
            # kopf pauses every replica that shares the highest priority; one random value each.
            priority=random.randint(1, 2**31 - 1) if settings.peering_name else None,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
            liveness_endpoint=settings.liveness_endpoint,
        )
    finally:
        if releases is not None:
            releases.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await releases
