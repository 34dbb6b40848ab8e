"""Run an image from its OCI archive with runc, as a kubelet would and with no Kubernetes: the archive
unpacked layer by layer (whiteouts applied), the image's own config (env, user, working directory), and
the Pod's hardening: a read-only root, no capabilities, no new privileges, only the mounts given.

The archive itself is what is run, not buildah's copy: what containerd would import is what is tested.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import tarfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

_WHITEOUT = ".wh."
_OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Unpacked:
    """An image's root filesystem and its config (the OCI image config's `config` object)."""

    rootfs: Path
    config: Mapping[str, Any]
    reference: str


def unpack(archive: Path, dest: Path) -> Unpacked:
    """The image in `archive` (an oci-archive of one manifest) unpacked into `dest/rootfs`."""
    layout = dest / "layout"
    layout.mkdir(parents=True)
    with tarfile.open(archive) as outer:
        outer.extractall(layout, filter="data")
    (entry,) = json.loads((layout / "index.json").read_text())["manifests"]
    reference = entry.get("annotations", {}).get("org.opencontainers.image.ref.name", "")
    manifest = json.loads(_blob(layout, entry["digest"]).read_text())
    config = json.loads(_blob(layout, manifest["config"]["digest"]).read_text())
    rootfs = dest / "rootfs"
    rootfs.mkdir()
    for layer in manifest["layers"]:
        _apply_layer(_blob(layout, layer["digest"]), rootfs)
    shutil.rmtree(layout)
    return Unpacked(rootfs, config.get("config", {}), reference)


def _blob(layout: Path, digest: str) -> Path:
    algorithm, _, hexdigest = digest.partition(":")
    return layout / "blobs" / algorithm / hexdigest


def _apply_layer(blob: Path, rootfs: Path) -> None:
    with tarfile.open(blob) as layer:
        members = layer.getmembers()
        kept = []
        for member in members:
            path = PurePosixPath(member.name)
            if path.name == _OPAQUE:
                opaque = rootfs / path.parent
                for child in opaque.iterdir() if opaque.is_dir() else ():
                    _remove(child)
            elif path.name.startswith(_WHITEOUT):
                _remove(rootfs / path.parent / path.name.removeprefix(_WHITEOUT))
            else:
                kept.append(member)
        # Root owns the unpacked files as in the image (owners, modes and links kept: "fully_trusted").
        layer.extractall(rootfs, members=kept, filter="fully_trusted", numeric_owner=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Bind:
    source: Path
    target: str
    read_only: bool = True


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


_HOSTNAME = "kco-image-test"


def _spec(
    image: Unpacked,
    bundle: Path,
    args: Sequence[str],
    user: tuple[int, int] | None,
    env: Mapping[str, str],
    binds: Sequence[Bind],
) -> dict[str, Any]:
    config = image.config
    # As the kubelet does: an /etc/hosts naming the container's own hostname (Jetty resolves it to
    # make Connect's advertised URL).
    hosts = bundle / "hosts"
    hosts.write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{_HOSTNAME}\n")
    binds = [*binds, Bind(hosts, "/etc/hosts")]
    if user is None:
        uid, _, gid = str(config.get("User", "0:0")).partition(":")
        user = (int(uid), int(gid or uid))
    environment = {line.partition("=")[0]: line.partition("=")[2] for line in config.get("Env", [])}
    environment.update(env)
    mounts: list[dict[str, Any]] = [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755"]},
        {
            "destination": "/dev/pts",
            "type": "devpts",
            "source": "devpts",
            "options": ["nosuid", "noexec", "newinstance"],
        },
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    ]
    for bind in binds:
        options = ["rbind", "ro" if bind.read_only else "rw"]
        mounts.append({"destination": bind.target, "type": "bind", "source": str(bind.source), "options": options})
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": user[0], "gid": user[1]},
            "args": list(args),
            "env": [f"{key}={value}" for key, value in environment.items()],
            "cwd": config.get("WorkingDir") or "/",
            # The Pod's hardening: every capability dropped, no privilege escalation.
            "capabilities": {"bounding": [], "effective": [], "permitted": [], "inheritable": [], "ambient": []},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 20000, "soft": 20000}],
            "noNewPrivileges": True,
        },
        "root": {"path": str(image.rootfs), "readonly": True},
        "hostname": _HOSTNAME,
        "mounts": mounts,
        # No network namespace: the container shares the host's, so it reaches a broker on loopback.
        "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}]},
    }


@contextlib.contextmanager
def started(
    image: Unpacked,
    bundle: Path,
    args: Sequence[str],
    *,
    user: tuple[int, int] | None = None,
    env: Mapping[str, str] | None = None,
    binds: Sequence[Bind] = (),
    log: Path,
) -> Iterator[subprocess.Popen[str]]:
    """The container running under runc, its output in `log` (a pipe would fill and stall it); killed
    and deleted on the way out."""
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text(json.dumps(_spec(image, bundle, args, user, env or {}, binds)))
    name = f"kco-test-{uuid.uuid4().hex[:10]}"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["runc", "run", "--bundle", str(bundle), name],
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    try:
        yield process
    finally:
        subprocess.run(["runc", "kill", name, "KILL"], capture_output=True, check=False, timeout=30)
        try:
            process.wait(timeout=30)
        finally:
            subprocess.run(["runc", "delete", "--force", name], capture_output=True, check=False, timeout=30)


def run(
    image: Unpacked,
    bundle: Path,
    args: Sequence[str],
    *,
    user: tuple[int, int] | None = None,
    env: Mapping[str, str] | None = None,
    binds: Sequence[Bind] = (),
    timeout: float = 120,
) -> Run:
    """Run to completion: its exit code and output."""
    bundle.mkdir(parents=True, exist_ok=True)
    (bundle / "config.json").write_text(json.dumps(_spec(image, bundle, args, user, env or {}, binds)))
    name = f"kco-test-{uuid.uuid4().hex[:10]}"
    try:
        done = subprocess.run(
            ["runc", "run", "--bundle", str(bundle), name],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            text=True,
            check=False,
            timeout=timeout,
        )
    finally:
        subprocess.run(["runc", "delete", "--force", name], capture_output=True, check=False, timeout=30)
    return Run(done.returncode, done.stdout, done.stderr)
