"""The images' content keys: what changes a key (and so rebuilds an image) and what must not."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from connect_operator.devkit import imagekeys, images

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_a_key_ignores_the_order_of_its_parts_but_not_where_bytes_fall() -> None:
    assert imagekeys.key_of({"a": "1", "b": "2"}) == imagekeys.key_of({"b": "2", "a": "1"})
    assert imagekeys.key_of({"a": "12", "b": ""}) != imagekeys.key_of({"a": "1", "b": "2"})
    assert imagekeys.key_of({"ab": ""}) != imagekeys.key_of({"a": "b"})
    assert imagekeys.key_of({"a": b"x"}) == imagekeys.key_of({"a": "x"})
    assert len(imagekeys.key_of({}).short) == 12


def test_the_reference_is_local_and_tagged_by_the_key() -> None:
    key = imagekeys.key_of({"a": "1"})
    assert imagekeys.reference("operator", key) == f"localhost/kco/operator:{key.digest[:12]}"


def test_the_base_key_is_its_suite_variant_packages_and_mirror_in_any_order() -> None:
    parts = imagekeys.base_parts("bookworm", "minbase", ["b", "a", "a"], "http://m")
    assert parts == imagekeys.base_parts("bookworm", "minbase", ["a", "b"], "http://m")
    assert parts != imagekeys.base_parts("trixie", "minbase", ["a", "b"], "http://m")
    assert parts != imagekeys.base_parts("bookworm", "minbase", ["a"], "http://m")


@pytest.mark.parametrize(
    ("path", "skipped"),
    [
        ("pkg/__pycache__/m.cpython-311.pyc", True),
        ("pkg/m.pyc", True),
        ("kafka_connect_operator.egg-info/PKG-INFO", True),
        ("pkg/m.py", False),
        ("pkg/imagefiles/connect/bin/connect-distributed.sh", False),
    ],
)
def test_bytecode_and_build_metadata_are_left_out_as_the_build_context_leaves_them(path: str, skipped: bool) -> None:
    assert imagekeys.skipped(PurePosixPath(path)) is skipped


def _tree(root: Path) -> Path:
    (root / "pkg" / "__pycache__").mkdir(parents=True)
    (root / "pkg" / "m.py").write_text("x = 1\n")
    (root / "pkg" / "run.sh").write_text("#!/bin/sh\n")
    (root / "pkg" / "run.sh").chmod(0o755)
    return root


def test_a_tree_key_follows_content_and_the_executable_bit_but_not_bytecode_or_mtimes(tmp_path: Path) -> None:
    tree = _tree(tmp_path / "t")
    first = imagekeys.tree_parts(tree, "src")
    assert set(first) == {"src/pkg/m.py", "src/pkg/run.sh"}
    (tree / "pkg" / "__pycache__" / "m.cpython-311.pyc").write_bytes(b"\0")
    (tree / "pkg" / "m.py").touch()
    assert imagekeys.tree_parts(tree, "src") == first
    (tree / "pkg" / "run.sh").chmod(0o644)
    assert imagekeys.tree_parts(tree, "src") != first
    (tree / "pkg" / "run.sh").chmod(0o755)
    (tree / "pkg" / "m.py").write_text("x = 2\n")
    assert imagekeys.tree_parts(tree, "src") != first


def _checkout(root: Path) -> Path:
    for name in images.OPERATOR_FILES:
        shutil.copy2(ROOT / name, root / name)
    for tree in images.OPERATOR_TREES:
        (root / tree / "pkg").mkdir(parents=True)
        (root / tree / "pkg" / "__init__.py").write_text("")
    return root


def test_the_operator_key_covers_the_dockerfile_the_lock_and_both_source_trees(tmp_path: Path) -> None:
    root = _checkout(tmp_path)
    python = imagekeys.key_of({"python": "1"})
    first = images.operator_key(root, python)
    assert images.operator_key(root, python) == first, "the same inputs give the same key"
    assert images.operator_key(root, imagekeys.key_of({"python": "2"})) != first, "another base"
    for changed in ("Dockerfile", "requirements.lock", "pyproject.toml", "worker/pkg/__init__.py"):
        before = (root / changed).read_text()
        (root / changed).write_text(before + "\n# changed\n")
        assert images.operator_key(root, python) != first, changed
        (root / changed).write_text(before)
    assert images.operator_key(root, python) == first
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("")
    assert images.operator_key(root, python) == first, "tests are not in the build context"


def test_the_connect_key_covers_the_jars_and_skips_only_the_replaced_reflections(tmp_path: Path) -> None:
    libs = tmp_path / "libs"
    libs.mkdir()
    (libs / "connect-runtime-3.9.0.jar").write_bytes(b"runtime")
    reflections = tmp_path / "reflections.jar"
    reflections.write_bytes(b"0.10.2")
    base = imagekeys.key_of({"base": "1"})
    first = images.connect_key(base, libs, reflections)
    (libs / images.REFLECTIONS_REPLACED).write_bytes(b"0.9.12")
    assert images.connect_key(base, libs, reflections) == first, "the replaced jar is not in the image"
    (libs / "connect-runtime-3.9.0.jar").write_bytes(b"runtime 2")
    assert images.connect_key(base, libs, reflections) != first
    (libs / "connect-runtime-3.9.0.jar").write_bytes(b"runtime")
    reflections.write_bytes(b"0.10.3")
    assert images.connect_key(base, libs, reflections) != first


def test_the_pause_key_covers_the_source_and_the_compiler() -> None:
    first = images.pause_key(b"int main() {}", "gcc 12")
    assert images.pause_key(b"int main() {}", "gcc 12") == first
    assert images.pause_key(b"int main() { return 1; }", "gcc 12") != first
    assert images.pause_key(b"int main() {}", "gcc 13") != first


def test_a_jar_copied_without_class_path_keeps_every_other_entry(tmp_path: Path) -> None:
    jar = tmp_path / "in.jar"
    manifest = (
        "Manifest-Version: 1.0\r\nClass-Path: /usr/share/java/a.jar /usr/share/java/b\r\n .jar\r\n"
        "Created-By: test\r\n\r\n"
    )
    with zipfile.ZipFile(jar, "w") as archive:
        archive.writestr("META-INF/MANIFEST.MF", manifest)
        archive.writestr("org/x/A.class", b"\xca\xfe")
    images.without_class_path(jar, tmp_path / "out.jar")
    with zipfile.ZipFile(tmp_path / "out.jar") as copied:
        assert copied.read("META-INF/MANIFEST.MF").decode() == "Manifest-Version: 1.0\r\nCreated-By: test\r\n\r\n"
        assert copied.read("org/x/A.class") == b"\xca\xfe"
