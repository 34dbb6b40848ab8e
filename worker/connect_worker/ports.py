"""Loopback ports: pick a free one, or say clearly that a wanted one is taken."""

from __future__ import annotations

import socket

from connect_worker.errors import PortInUseError


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def ensure_free(host: str, port: int, purpose: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the listeners bind (Jetty, Tansu): connections of a stopped listener left in TIME_WAIT (a
        # minute after each HTTP answer it closed) do not hold the port, a socket listening on it does.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUseError(
                f"Cannot use {host}:{port} for {purpose}: the port is already in use ({exc.strerror}). "
                "Stop whatever listens there or choose another port."
            ) from exc


def accepts_connections(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
