"""The init step's pure parts: its termination message, URLs shown without secrets, the cache outside plugin.path."""

from __future__ import annotations

from pathlib import Path

import pytest

from connect_worker import plugins, podinit
from connect_worker.errors import InitError, PluginError

pytestmark = pytest.mark.unit


def test_the_termination_message_is_reason_then_message_on_one_line() -> None:
    error = PluginError("plugin s3: cannot download https://repo/s3.jar:\n  HTTP Error 404")
    assert (
        podinit.termination_message(error)
        == "PluginInstallFailed: plugin s3: cannot download https://repo/s3.jar: HTTP Error 404"
    )
    assert podinit.termination_message(InitError("POD_IP is not set")) == "WorkerInitFailed: POD_IP is not set"


def test_a_long_termination_message_is_cut_to_the_limit() -> None:
    message = podinit.termination_message(PluginError("x" * 5000))
    assert len(message) == podinit.TERMINATION_MESSAGE_LIMIT and message.endswith("…")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://user:hunter2@repo.example:8443/a/s3.jar?X-Amz-Signature=abc#f", "https://repo.example:8443/a/s3.jar"),
        ("http://127.0.0.1:9/gone.jar?token=t", "http://127.0.0.1:9/gone.jar"),
        ("https://[::1]/p.tgz", "https://[::1]/p.tgz"),
    ],
)
def test_urls_are_shown_without_user_info_query_or_fragment(url: str, shown: str) -> None:
    assert plugins.shown_url(url) == shown


def test_the_default_cache_is_beside_plugin_path_not_in_it(tmp_path: Path) -> None:
    plugin_dir = tmp_path / "plugins"
    cache = podinit.default_cache_dir(plugin_dir)
    assert cache.parent == plugin_dir.parent and cache != plugin_dir


def test_a_cache_inside_plugin_path_is_refused_before_anything_is_installed(tmp_path: Path) -> None:
    wanted = [plugins.Plugin("s3", (plugins.Artifact("http://127.0.0.1:9/s3.jar", "0" * 128, "jar"),))]
    with pytest.raises(PluginError, match=r"inside plugin\.path"):
        plugins.install(wanted, tmp_path / "plugins", tmp_path / "plugins" / ".cache")
    assert not (tmp_path / "plugins" / "s3").exists()
