"""Content keys of the local images: a digest of everything an image is built from, and nothing else.

An image is rebuilt exactly when its key changes, so a key must cover every input (a file's path and
bytes, a package list, the key of the image it is built FROM) and must not cover what does not change
the result (a file's mtime, a __pycache__, the order a directory lists in).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

KEY_LENGTH = 12
# The same files the build context leaves out (.dockerignore): bytecode (all a __pycache__ holds) and
# build metadata.
_SKIPPED_SUFFIXES = (".pyc", ".pyo")
_SKIPPED_PART_SUFFIXES = (".egg-info",)


@dataclass(frozen=True)
class Key:
    """A full sha256 hex digest; `short` names the image's tag and its archive."""

    digest: str

    @property
    def short(self) -> str:
        return self.digest[:KEY_LENGTH]


def key_of(parts: Mapping[str, str | bytes]) -> Key:
    """The digest of named parts, independent of their order; each part length-prefixed so that
    moving bytes from one part into the next changes the key."""
    hasher = hashlib.sha256()
    for name in sorted(parts):
        value = parts[name]
        data = value.encode() if isinstance(value, str) else value
        label = name.encode()
        hasher.update(len(label).to_bytes(8, "big") + label + len(data).to_bytes(8, "big") + data)
    return Key(hasher.hexdigest())


def skipped(relative: PurePosixPath) -> bool:
    """Whether a file under a source tree is left out of its key (as it is out of the build context)."""
    return any(part.endswith(_SKIPPED_PART_SUFFIXES) for part in relative.parts) or relative.suffix in _SKIPPED_SUFFIXES


def file_digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()


def tree_parts(root: Path, prefix: str) -> dict[str, str]:
    """`prefix/relative path` → sha256 of every file under `root` that a build would copy.

    The executable bit is part of a file's identity (a start script that lost it would not run)."""
    parts: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        if path.is_dir() or skipped(relative):
            continue
        mode = "x" if path.stat().st_mode & 0o111 else "-"
        parts[f"{prefix}/{relative}"] = f"{mode}{file_digest(path)}"
    return parts


def base_parts(suite: str, variant: str, packages: Iterable[str], mirror: str) -> dict[str, str]:
    """A debootstrap root: one suite and variant from one mirror, with these extra packages (any order)."""
    return {"suite": suite, "variant": variant, "packages": ",".join(sorted(set(packages))), "mirror": mirror}


def reference(name: str, key: Key) -> str:
    """The image's name in containerd: local, never pulled, tagged by its content."""
    return f"localhost/kco/{name}:{key.short}"
