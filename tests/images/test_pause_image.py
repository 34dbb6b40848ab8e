"""The pause image: Kubernetes' pause.c, static, alone in the image; it waits until told to stop."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support import oci
from tests.support.polling import poll_until

# The first test of a session waits for the images: minutes on a fresh machine (pytest-timeout counts setup).
pytestmark = [pytest.mark.images, pytest.mark.timeout(1200)]


_PT_INTERP = 3


def _segment_types(elf: bytes) -> list[int]:
    """The program header types of a 64-bit little-endian ELF file."""
    offset = int.from_bytes(elf[0x20:0x28], "little")
    size, count = int.from_bytes(elf[0x36:0x38], "little"), int.from_bytes(elf[0x38:0x3A], "little")
    return [int.from_bytes(elf[offset + i * size : offset + i * size + 4], "little") for i in range(count)]


def test_the_image_is_one_static_binary(pause_image: oci.Unpacked) -> None:
    files = [p.relative_to(pause_image.rootfs).as_posix() for p in pause_image.rootfs.rglob("*") if p.is_file()]
    assert files == ["pause"]
    binary = (pause_image.rootfs / "pause").read_bytes()
    assert binary[:4] == b"\x7fELF"
    assert _PT_INTERP not in _segment_types(binary), "static: no dynamic loader (there is no libc in the image)"
    assert pause_image.config["Entrypoint"] == ["/pause"]
    assert pause_image.config["User"] == "65535:65535"


def test_it_runs_until_sigterm_then_exits_cleanly(pause_image: oci.Unpacked, tmp_path: Path) -> None:
    log = tmp_path / "pause.log"
    with oci.started(pause_image, tmp_path / "bundle", ["/pause"], log=log) as process:

        def running() -> str | None:
            listed = subprocess.run(["runc", "list", "--format", "json"], capture_output=True, text=True, check=True)
            for container in json.loads(listed.stdout) or []:
                if container["bundle"] == str(tmp_path / "bundle") and container["status"] == "running":
                    return str(container["id"])
            return None

        name = poll_until(running, 30, "the pause container running")
        assert process.poll() is None, log.read_text()
        subprocess.run(["runc", "kill", name, "TERM"], check=True, capture_output=True)
        assert process.wait(timeout=30) == 0, log.read_text()
    assert "Shutting down, got signal" in log.read_text()
