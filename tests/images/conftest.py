"""The images tier: the three images built once per session (minutes the first time, then cached), and
each unpacked from its OCI archive to be run with runc, as a kubelet would, without Kubernetes."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from connect_operator.devkit import images
from connect_worker import settings
from tests.support import oci

NEEDED = ("buildah", "runc", "debootstrap", "gcc")


@pytest.fixture(scope="session")
def built() -> images.BuiltImages:
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: bash scripts/setup.sh installs them")
    return images.ensure(settings.cache_dir())


@pytest.fixture(scope="session")
def operator_image(built: images.BuiltImages, tmp_path_factory: pytest.TempPathFactory) -> oci.Unpacked:
    return oci.unpack(built.operator.archive, tmp_path_factory.mktemp("operator-image"))


@pytest.fixture(scope="session")
def connect_image(built: images.BuiltImages, tmp_path_factory: pytest.TempPathFactory) -> oci.Unpacked:
    return oci.unpack(built.connect.archive, tmp_path_factory.mktemp("connect-image"))


@pytest.fixture(scope="session")
def pause_image(built: images.BuiltImages, tmp_path_factory: pytest.TempPathFactory) -> oci.Unpacked:
    return oci.unpack(built.pause.archive, tmp_path_factory.mktemp("pause-image"))


def emptydir(path: Path) -> Path:
    """A host folder standing in for an emptyDir: writable by the Pod's user, as the kubelet makes it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o1777)
    return path


def pod_binds(container: dict[str, Any], volumes: dict[str, Path]) -> list[oci.Bind]:
    """A rendered container's volumeMounts, each onto the host folder standing in for its volume."""
    return [
        oci.Bind(volumes[mount["name"]], mount["mountPath"], read_only=bool(mount.get("readOnly", False)))
        for mount in container["volumeMounts"]
    ]


def pod_env(container: dict[str, Any], pod_ip: str) -> dict[str, str]:
    """A rendered container's env, the downward-API POD_IP filled in as the kubelet would."""
    env: dict[str, str] = {}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"]
        elif item.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "status.podIP":
            env[item["name"]] = pod_ip
        else:
            raise AssertionError(f"no stand-in for {item}")
    return env
