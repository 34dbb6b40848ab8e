"""Real plugins through the init step into a real Connect 3.9 worker: it lists exactly what was declared.

Three connectors compiled for the test, served from 127.0.0.1 as a jar, a tgz and a zip, installed by
`python -m connect_worker init` as the init container runs it, then loaded by a worker of their own.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connect_worker import properties, settings
from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.connect_http import call
from tests.support.plugin_artifacts import PACKERS, BuiltPlugin, compile_connectors, sha512
from tests.support.served import ServedFolder, serve_folder

pytestmark = pytest.mark.contract

TYPES = {"Alpha": "jar", "Beta": "tgz", "Gamma": "zip"}
# Connect's own account of each plugin location it loads (PluginScanner), one line per location.
_LOADER = re.compile(r"Registered loader: PluginClassLoader\{pluginLocation=file:(?P<path>[^}]+)\}")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[BuiltPlugin]:
    libs = settings.cache_dir() / "connect-3.9.0" / "libs"
    return compile_connectors(list(TYPES), libs, tmp_path_factory.mktemp("javac"))


@pytest.fixture
def www(tmp_path: Path) -> Iterator[ServedFolder]:
    with serve_folder(tmp_path / "www") as served:
        yield served


@pytest.fixture
def cluster(testbed: Testbed, unique: Any) -> Iterator[ConnectCluster]:
    group = testbed.new_cluster(unique("plugins"))
    try:
        yield group
    finally:
        group.stop()


def _init(plugin_dir: Path, out: Path, declared: list[dict[str, Any]]) -> subprocess.CompletedProcess[str]:
    template = out / "template.properties"
    template.write_text(properties.render({"group.id": "unused"}))
    command = [sys.executable, "-m", "connect_worker", "init", "--template", str(template)]
    command += ["--output", str(out / "worker.properties"), "--plugin-dir", str(plugin_dir)]
    command += ["--plugins", json.dumps(declared)]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, check=True, env={**os.environ, "POD_IP": "127.0.0.1"}
    )


def _listing(url: str) -> Counter[tuple[str, str, str]]:
    answer = call("GET", f"{url}/connector-plugins?connectorsOnly=false")
    assert answer.status == 200, answer.body
    return Counter((p["class"], p["type"], p.get("version", "")) for p in answer.body)


def test_connect_lists_exactly_the_declared_jar_tgz_and_zip_plugins_and_loads_no_cache(
    built: list[BuiltPlugin], www: ServedFolder, cluster: ConnectCluster, connect_url: str, tmp_path: Path
) -> None:
    declared = []
    for plugin in built:
        kind = TYPES[plugin.name]
        data = PACKERS[kind](plugin)
        (www.root / f"{plugin.name.lower()}.{kind}").write_bytes(data)
        artifact = {"url": f"{www.url}/{plugin.name.lower()}.{kind}", "sha512": sha512(data), "type": kind}
        declared.append({"name": plugin.name.lower(), "artifacts": [artifact]})
    _init(cluster.plugin_path, tmp_path, declared)
    # A restart of the init container (same emptyDirs) downloads nothing again: the cache is kept.
    _init(cluster.plugin_path, tmp_path, declared)
    assert sorted(www.requested) == ["/alpha.jar", "/beta.tgz", "/gamma.zip"]

    cluster.start(1)
    without_plugins = _listing(connect_url)  # the test bed's workers: the same runtime, an empty plugin.path
    listed = _listing(cluster.rest_urls[0])
    assert listed - without_plugins == Counter({(p.class_name, "source", p.version): 1 for p in built})
    assert without_plugins - listed == Counter()

    # Connect dedups the listing by class and version, so a second copy would not show there; its
    # loaders say which folders it took as plugins: only the declared ones, not the download cache.
    loaders = {Path(m["path"]).name for m in _LOADER.finditer(cluster.workers[0].log_path.read_text())}
    assert loaders == {"alpha", "beta", "gamma"}
    assert sorted(p.name for p in cluster.plugin_path.iterdir()) == ["alpha", "beta", "gamma"]
