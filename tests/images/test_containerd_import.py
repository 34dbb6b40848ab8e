"""The archives are what containerd takes: each imports into a containerd of the test's own (its own
root, state and socket: the machine's, if any, is not touched) under the reference ensure() returned,
with every blob present, ready for a kubelet to run."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest

from connect_operator.devkit import images
from tests.support.polling import poll_until

# The first test of a session waits for the images: minutes on a fresh machine (pytest-timeout counts setup).
pytestmark = [pytest.mark.images, pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def containerd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    if shutil.which("containerd") is None or shutil.which("ctr") is None:
        pytest.fail("no containerd/ctr: bash scripts/setup.sh installs them")
    home = tmp_path_factory.mktemp("containerd")
    socket = home / "containerd.sock"
    config = home / "config.toml"
    # Only what an image import needs: no CRI (it would set up networking), no ttrpc services.
    config.write_text(
        "version = 2\n"
        f'root = "{home / "root"}"\nstate = "{home / "state"}"\n'
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
        f'[grpc]\n  address = "{socket}"\n'
        f'[ttrpc]\n  address = "{home / "ttrpc.sock"}"\n'
    )
    ctr = ["ctr", "--address", str(socket), "--namespace", "k8s.io"]
    with (home / "containerd.log").open("w") as log:
        daemon = subprocess.Popen(["containerd", "--config", str(config)], stdout=log, stderr=subprocess.STDOUT)
    try:
        poll_until(
            lambda: subprocess.run([*ctr, "version"], capture_output=True, check=False).returncode == 0,
            30,
            "containerd answering",
        )
        yield ctr
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)


@pytest.mark.parametrize("name", ["operator", "connect", "pause"])
def test_the_archive_imports_under_its_reference(built: images.BuiltImages, containerd: list[str], name: str) -> None:
    image: images.Image = getattr(built, name)
    imported = subprocess.run(
        [*containerd, "images", "import", str(image.archive)], capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0, imported.stderr
    listed = subprocess.run([*containerd, "images", "ls", "-q"], capture_output=True, text=True, check=True)
    assert image.reference in listed.stdout.split(), listed.stdout
    checked = subprocess.run([*containerd, "images", "check"], capture_output=True, text=True, check=True)
    (line,) = [row for row in checked.stdout.splitlines() if row.startswith(image.reference + " ")]
    assert "complete" in line, line
