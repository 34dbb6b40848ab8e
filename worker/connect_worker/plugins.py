"""Fetch connector plugins over http(s), verify each artifact's SHA-512, unpack them under plugin.path."""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from connect_worker.errors import PluginError

_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Artifact:
    url: str
    sha512: str
    type: str

    @property
    def filename(self) -> str:
        return PurePosixPath(self.url.split("?", 1)[0]).name or "artifact"

    @property
    def shown(self) -> str:
        """The URL as messages show it: without user info, query or fragment, where download tokens live."""
        return shown_url(self.url)


def shown_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return urllib.parse.urlunsplit((parts.scheme, host + port, parts.path, "", ""))


@dataclass(frozen=True)
class Plugin:
    name: str
    artifacts: tuple[Artifact, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plugin:
        return cls(data["name"], tuple(Artifact(a["url"], a["sha512"], a["type"]) for a in data["artifacts"]))


def install(plugins: Sequence[Plugin], plugin_dir: Path, cache_dir: Path) -> list[Path]:
    """Install every plugin into plugin_dir/<name>; an artifact already cached with the right digest is reused.

    `cache_dir` must lie outside plugin_dir: Connect loads every folder of plugin.path as a plugin, so a
    cache there would be one more plugin holding every cached jar.
    """
    if cache_dir.resolve().is_relative_to(plugin_dir.resolve()):
        raise PluginError(f"the download cache {cache_dir} is inside plugin.path {plugin_dir}: Connect would load it")
    installed = []
    for plugin in plugins:
        target = plugin_dir / plugin.name
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for artifact in plugin.artifacts:
            downloaded = _fetch(plugin.name, artifact, cache_dir)
            _unpack(plugin.name, artifact, downloaded, target)
        installed.append(target)
    return installed


def _fetch(plugin: str, artifact: Artifact, cache_dir: Path) -> Path:
    cached = cache_dir / f"{artifact.sha512[:32]}-{artifact.filename}"
    if cached.is_file() and _sha512(cached) == artifact.sha512:
        return cached
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = cached.with_suffix(cached.suffix + ".partial")
    try:
        with urllib.request.urlopen(artifact.url, timeout=_TIMEOUT_SECONDS) as answer, partial.open("wb") as sink:
            shutil.copyfileobj(answer, sink)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        detail = str(exc).replace(artifact.url, artifact.shown)
        raise PluginError(f"plugin {plugin}: cannot download {artifact.shown}: {detail}") from exc
    actual = _sha512(partial)
    if actual != artifact.sha512:
        partial.unlink(missing_ok=True)
        raise PluginError(
            f"plugin {plugin}: artifact {artifact.shown} has sha512 {actual}, but the spec says {artifact.sha512}; "
            "fix the checksum or the URL"
        )
    partial.replace(cached)
    return cached


def _unpack(plugin: str, artifact: Artifact, archive: Path, target: Path) -> None:
    try:
        if artifact.type == "jar":
            shutil.copy2(archive, target / artifact.filename)
        elif artifact.type == "tgz":
            with tarfile.open(archive) as tgz:
                tgz.extractall(target, filter="data")  # refuses absolute paths, .. and devices
        elif artifact.type == "zip":
            with zipfile.ZipFile(archive) as bundle:
                for member in bundle.namelist():
                    if member.startswith("/") or ".." in PurePosixPath(member).parts:
                        raise PluginError(f"plugin {plugin}: {artifact.shown} holds an unsafe path {member!r}")
                bundle.extractall(target)
        else:
            raise PluginError(f"plugin {plugin}: unknown artifact type {artifact.type!r} (jar, tgz or zip)")
    except (tarfile.TarError, zipfile.BadZipFile) as exc:
        raise PluginError(f"plugin {plugin}: {artifact.shown} is not a valid {artifact.type}: {exc}") from exc


def _sha512(path: Path) -> str:
    digest = hashlib.sha512()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
