"""Which Kubernetes runs, and the flags each version accepts.

The devkit builds 1.20.2 by default; `KUBEBUILDER_ASSETS` (controller-runtime envtest's convention)
names a folder of other binaries: kube-apiserver and etcd as envtest ships them, plus
kube-controller-manager (and kubelet, kube-scheduler, kube-proxy for a real node). Flags that later
releases removed are passed only to the releases that still take them.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ASSETS_ENV = "KUBEBUILDER_ASSETS"
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @staticmethod
    def parse(text: str) -> Version:
        """From `kube-apiserver --version` ("Kubernetes v1.20.2") or a gitVersion ("v1.31.0+k3s1")."""
        found = _VERSION.search(text)
        if not found:
            raise ValueError(f"no Kubernetes version in {text!r}")
        return Version(*(int(part) for part in found.groups()))


def version_of(binary: Path) -> Version:
    done = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False, timeout=30)
    return Version.parse(done.stdout + done.stderr)


def assets_dir(environ: dict[str, str] | None = None) -> Path | None:
    value = (environ if environ is not None else os.environ).get(ASSETS_ENV, "").strip()
    return Path(value) if value else None


def apiserver_version_flags(version: Version) -> list[str]:
    # The insecure port was removed in 1.24 ("unknown flag: --insecure-port"); before, 0 turns it off.
    return ["--insecure-port=0"] if version < Version(1, 24, 0) else []


def controller_manager_version_flags(version: Version) -> list[str]:
    # kube-controller-manager's insecure serving (--port) went in 1.24 as well.
    return ["--port=0"] if version < Version(1, 24, 0) else []


def scheduler_version_flags(version: Version) -> list[str]:
    # kube-scheduler's insecure serving (--port) was removed in 1.23.
    return ["--port=0"] if version < Version(1, 23, 0) else []


def kubelet_version_flags(version: Version, runtime_endpoint: str) -> list[str]:
    """Before 1.24 the kubelet defaulted to dockershim and had to be told the runtime is remote;
    1.27 removed --container-runtime, and 1.24+ read the endpoint from the flag or the config."""
    flags = [f"--container-runtime-endpoint={runtime_endpoint}"]
    if version < Version(1, 24, 0):
        flags.insert(0, "--container-runtime=remote")
    return flags
