"""The images are cached by content: the same inputs give the same keys, and a second ensure() builds
nothing, in well under the few seconds a person would notice."""

from __future__ import annotations

import time

import pytest

from connect_operator.devkit import images
from connect_worker import settings

# The first test of a session waits for the images: minutes on a fresh machine (pytest-timeout counts setup).
pytestmark = [pytest.mark.images, pytest.mark.timeout(1200)]


def test_a_second_ensure_finds_every_archive_and_builds_nothing(built: images.BuiltImages) -> None:
    archives = [built.operator.archive, built.connect.archive, built.pause.archive]
    before = [(a.stat().st_mtime_ns, a.stat().st_ino) for a in archives]
    started = time.monotonic()
    again = images.ensure(settings.cache_dir())
    elapsed = time.monotonic() - started
    assert again == built, "same references and archives: the same keys"
    assert all(image.cached for image in (again.operator, again.connect, again.pause))
    assert [(a.stat().st_mtime_ns, a.stat().st_ino) for a in archives] == before, "no archive rewritten"
    assert elapsed < 3, f"a cached ensure() took {elapsed:.1f} s"
    for name in ("operator", "connect", "pause"):
        image: images.Image = getattr(again, name)
        assert image.archive.parent == images.home(settings.cache_dir())
        assert image.archive.name == f"{name}-{image.reference.rsplit(':', 1)[1]}.oci.tar"
