"""The layout: each import package in a folder of its name, found by discovery, shadowing nothing."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from setuptools import find_namespace_packages, find_packages

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _package_roots() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["where"])


def test_discovery_finds_every_folder_holding_python_code() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    for root in _package_roots():
        # Namespace discovery lists every folder; regular discovery, as configured, must miss none of them.
        everything = {
            p for p in find_namespace_packages(ROOT / root) if any((ROOT / root / p.replace(".", "/")).glob("*.py"))
        }
        found = set(find_packages(ROOT / root, include=config["include"]))
        assert everything == found, f"{root}: folders with code that are no package: {sorted(everything - found)}"


def test_the_top_level_folders_are_not_packages() -> None:
    # operator/ as a package would shadow the standard library's `operator` for Python run from the root.
    for root in _package_roots():
        assert not (ROOT / root / "__init__.py").exists(), root


def test_the_standard_library_operator_module_wins_from_the_repository_root() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import operator, connect_operator; operator.itemgetter; print(operator.__file__)"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not done.stdout.strip().startswith(str(ROOT)), done.stdout
