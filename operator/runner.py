"""Run the operator: `python -m connect_operator`, or embedded (tests, `kco dev`) with stop and ready flags."""

from __future__ import annotations

import asyncio
import threading

import kopf

from connect_operator.handlers.registry import build_registry
from connect_operator.settings import OperatorSettings


def run(
    settings: OperatorSettings,
    stop_flag: threading.Event | None = None,
    ready_flag: threading.Event | None = None,
    liveness_endpoint: str | None = None,
) -> None:
    registry = build_registry(settings)
    asyncio.run(
        kopf.operator(
            registry=registry,
            clusterwide=not settings.namespaces,
            namespaces=settings.namespaces,
            standalone=True,
            stop_flag=stop_flag,
            ready_flag=ready_flag,
            liveness_endpoint=liveness_endpoint,
        )
    )
