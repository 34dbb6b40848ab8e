"""The layout: each import package in a folder of its name, found by discovery, shadowing nothing."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def _package_roots() -> list[str]:
    return list(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["where"])


def test_every_folder_holding_python_code_is_a_package_discovery_finds() -> None:
    # Discovery ([tool.setuptools.packages.find]) finds regular packages only: a folder of modules
    # without __init__.py would be left out of the wheel and the image.
    for root in _package_roots():
        folders = {path.parent for path in (ROOT / root).rglob("*.py") if "__pycache__" not in path.parts}
        not_packages = sorted(str(f.relative_to(ROOT)) for f in folders if not (f / "__init__.py").exists())
        assert not_packages == [], not_packages


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


def test_every_module_is_in_a_layer_of_its_packages_contract() -> None:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    for package, root in (("connect_operator", "operator"), ("connect_worker", "worker")):
        layered: set[str] = set()
        for contract in contracts:
            if contract["type"] != "layers" or not contract.get("containers", [package])[0].startswith(package):
                continue
            prefix = f"{contract['containers'][0]}." if "containers" in contract else ""
            layered |= {prefix + name.strip() for layer in contract["layers"] for name in layer.split("|")}
        modules = {
            ".".join(path.relative_to(ROOT / root).with_suffix("").parts).removesuffix(".__init__")
            for path in (ROOT / root / package).rglob("*.py")
        }
        # A package whose modules sit in different layers (engine, connect) is only their container.
        containers = {m for m in modules if any(layer.startswith(f"{m}.") for layer in layered)}
        unplaced = sorted(
            module
            for module in modules - containers
            if not any(module == layer or module.startswith(f"{layer}.") for layer in layered)
        )
        assert unplaced == [], f"{package}: modules in no layer: {unplaced}"
