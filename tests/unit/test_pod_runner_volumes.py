"""The pod runner mounts Secret volumes as a kubelet would: a missing Secret blocks the Pod unless optional."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from connect_operator.devkit.podrunner import claim_dir, is_standalone, unmountable, volume_claims

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


def test_a_claims_volume_is_a_folder_of_the_claim_and_a_missing_claim_blocks_the_pod(tmp_path: Path) -> None:
    claim = client.V1Volume(
        name="offsets", persistent_volume_claim=client.V1PersistentVolumeClaimVolumeSource(claim_name="c-offsets")
    )
    volumes = [client.V1Volume(name="tmp", empty_dir=client.V1EmptyDirVolumeSource()), claim]
    assert volume_claims(volumes) == {"offsets": "c-offsets"}
    assert claim_dir(tmp_path, "ns", "c-offsets") == tmp_path / "claims" / "ns" / "c-offsets", "not under a Pod"
    assert unmountable(volumes, set(), {"c-offsets"}) == ""
    assert unmountable(volumes, set(), set()) == 'persistentvolumeclaim "c-offsets" not found'


def test_the_start_script_decides_the_mode() -> None:
    def connect(script: str) -> client.V1Container:
        return client.V1Container(name="connect", command=[f"/opt/kafka/bin/{script}", "/opt/kco/config/w.properties"])

    assert is_standalone(connect("connect-standalone.sh"))
    assert not is_standalone(connect("connect-distributed.sh"))
