"""The pod runner mounts Secret volumes as a kubelet would: a missing Secret blocks the Pod unless optional."""

from __future__ import annotations

import pytest
from kubernetes import client

from connect_operator.devkit.podrunner import unmountable

pytestmark = pytest.mark.unit


def _secret_volume(name: str, secret: str, optional: bool | None = None) -> client.V1Volume:
    return client.V1Volume(name=name, secret=client.V1SecretVolumeSource(secret_name=secret, optional=optional))


def test_a_missing_secret_blocks_the_pod_unless_its_volume_is_optional() -> None:
    volumes = [
        client.V1Volume(name="config", empty_dir=client.V1EmptyDirVolumeSource()),
        _secret_volume("exposed-db", "db", optional=True),
        _secret_volume("auth-user", "user"),
    ]
    assert unmountable(volumes, {"db", "user"}) == ""
    assert unmountable(volumes, {"user"}) == "", "an optional Secret's volume mounts empty"
    assert unmountable(volumes, {"db"}) == 'MountVolume.SetUp failed for volume "auth-user" : secret "user" not found'
    assert unmountable([_secret_volume("x", "x", optional=False)], set()).endswith('secret "x" not found')
