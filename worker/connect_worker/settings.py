"""Where connect_worker keeps its cache, and which Kafka distribution it uses: the only reader of the environment."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_DIR_ENV = "KCO_CACHE_DIR"
KAFKA_HOME_ENV = "KAFKA_HOME"


def cache_dir() -> Path:
    """The cache for provisioned runtimes: $KCO_CACHE_DIR, else $XDG_CACHE_HOME/kco, else ~/.cache/kco."""
    explicit = os.environ.get(CACHE_DIR_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "kco"


def kafka_home() -> Path | None:
    """An existing Kafka distribution to use instead of the provisioned runtime, if the user set one."""
    value = os.environ.get(KAFKA_HOME_ENV)
    return Path(value) if value else None
