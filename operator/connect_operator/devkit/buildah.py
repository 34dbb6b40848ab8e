"""buildah, confined to the cache: its own storage, its own containers.conf, a log of every call.

The host's /var/lib/containers and /etc/containers stay untouched. This machine has no systemd, a
cgroups v1 hierarchy (which crun refuses: runc) and a nofile limit of 20000 that a container may not
raise (buildah's default asks for more), hence the containers.conf below.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

_CONTAINERS_CONF = """\
# Written by connect_operator.devkit.buildah: see its docstring for why each setting.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


class ImageBuildError(Exception):
    """An image could not be built; the message names the step and ends with the log's last lines."""


class Buildah:
    def __init__(self, home: Path, log: IO[str]) -> None:
        """`home`: where the storage and the configuration live; `log`: every command's output."""
        self.home = home
        self._log = log
        binary = shutil.which("buildah")
        if binary is None:
            raise ImageBuildError("No `buildah` on PATH: apt-get install buildah runc (scripts/setup.sh does).")
        self.binary = binary
        home.mkdir(parents=True, exist_ok=True)
        conf = home / "containers.conf"
        if not conf.is_file() or conf.read_text() != _CONTAINERS_CONF:
            conf.write_text(_CONTAINERS_CONF)
        storage = home / "storage.conf"
        storage_text = f'[storage]\ndriver = "overlay"\ngraphroot = "{home / "storage"}"\nrunroot = "{home / "run"}"\n'
        if not storage.is_file() or storage.read_text() != storage_text:
            storage.write_text(storage_text)
        self.env: Mapping[str, str] = {
            **os.environ,
            "CONTAINERS_CONF": str(conf),
            "CONTAINERS_STORAGE_CONF": str(storage),
            "BUILDAH_ISOLATION": "oci",
        }

    def run(self, args: Sequence[str], step: str, cwd: Path | None = None, timeout: float = 1800) -> str:
        """Run `buildah args...`; its stdout (stderr goes to the log) or ImageBuildError naming `step`."""
        return run([self.binary, *args], step, self._log, env=self.env, cwd=cwd, timeout=timeout)

    def exists(self, reference: str) -> bool:
        done = subprocess.run(
            [self.binary, "inspect", "--type", "image", "--format", "{{.FromImageID}}", reference],
            env=dict(self.env),
            capture_output=True,
            check=False,
            timeout=120,
        )
        return done.returncode == 0


def run(
    argv: Sequence[str],
    step: str,
    log: IO[str],
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800,
) -> str:
    log.write(f"\n$ {' '.join(argv)}\n")
    log.flush()
    done = subprocess.run(
        list(argv),
        cwd=cwd,
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        check=False,
        timeout=timeout,
    )
    log.write(done.stdout)
    log.flush()
    if done.returncode != 0:
        tail = "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-25:])
        raise ImageBuildError(f"{step} failed (exit {done.returncode}). Last log lines:\n{tail}")
    return done.stdout
