"""Which kubeconfig and namespace `kubectl kco` uses: kubectl's order, read by the client library."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import config

from connect_operator.kubectl import kubeconfig

pytestmark = pytest.mark.unit


def write(path: Path, current: str, contexts: dict[str, str | None]) -> Path:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": current,
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [
            {"name": n, "context": {"cluster": "c", "user": "u", **({"namespace": ns} if ns else {})}}
            for n, ns in contexts.items()
        ],
    }
    path.write_text(yaml.safe_dump(body))
    return path


def test_the_current_context_namespace_else_default(tmp_path: Path) -> None:
    path = write(tmp_path / "config", "a", {"a": "team-a", "b": None})
    assert kubeconfig.namespace(str(path), None) == "team-a"
    assert kubeconfig.namespace(str(path), "b") == "default"
    with pytest.raises(config.ConfigException):
        kubeconfig.namespace(str(path), "missing")


def test_kubeconfig_env_is_read_at_call_time_and_may_list_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(tmp_path / "one", "a", {"a": "from-one"})
    second = write(tmp_path / "two", "b", {"b": "from-two"})
    monkeypatch.setenv("KUBECONFIG", f"{second}:{first}")
    # Merged as kubectl merges: the first file to set current-context wins, contexts from both.
    assert kubeconfig.namespace(None, None) == "from-two"
    assert kubeconfig.namespace(None, "a") == "from-one"
    assert kubeconfig.namespace(str(first), None) == "from-one"  # --kubeconfig over $KUBECONFIG
