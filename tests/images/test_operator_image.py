"""The operator image, run from its archive with runc: the operator as uid 10001 and the workers' init
container exactly as the operator's Deployment renders it, both on a read-only root."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.devkit import images
from connect_operator.render import cluster, names
from connect_operator.render.names import ClusterRef
from connect_worker import properties
from tests.images.conftest import emptydir, pod_binds, pod_env
from tests.support import oci

# The first test of a session waits for the images: minutes on a fresh machine (pytest-timeout counts setup).
pytestmark = [pytest.mark.images, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[2]


def test_the_archive_carries_its_reference_and_the_dockerfiles_user_and_command(
    built: images.BuiltImages, operator_image: oci.Unpacked
) -> None:
    assert operator_image.reference == built.operator.reference
    assert re.fullmatch(r"localhost/kco/operator:[0-9a-f]{12}", built.operator.reference)
    assert operator_image.config["User"] == "10001:10001"
    assert operator_image.config["Cmd"] == ["python", "-m", "connect_operator"]


def test_the_operator_runs_as_10001_on_a_read_only_root_until_it_needs_a_cluster(
    operator_image: oci.Unpacked, tmp_path: Path
) -> None:
    probe = (
        "import os, connect_operator.runner, connect_operator.handlers.registry, kopf;"
        "print(os.getuid(), os.getgid());"
        "open('/opt/python/probe', 'w')"
    )
    checked = oci.run(
        operator_image,
        tmp_path / "probe",
        ["python", "-c", probe],
        binds=[oci.Bind(emptydir(tmp_path / "tmp"), "/tmp", False)],
    )
    assert checked.stdout.splitlines() == ["10001 10001"], checked.stderr
    assert "Read-only file system" in checked.stderr, "the root is read-only, even where pip installed"
    # The image's own command: everything imports and the settings load; it stops at the missing cluster.
    started = oci.run(
        operator_image,
        tmp_path / "operator",
        ["python", "-m", "connect_operator"],
        binds=[oci.Bind(emptydir(tmp_path / "tmp2"), "/tmp", False)],
    )
    assert started.returncode != 0
    assert "Invalid kube-config file. No configuration found." in started.stderr, started.stderr[-2000:]
    assert "Read-only file system" not in started.stderr


def test_the_image_runs_this_checkouts_code(operator_image: oci.Unpacked) -> None:
    installed = operator_image.rootfs / "opt/python/lib"
    (site,) = installed.glob("python3.*/site-packages")
    for package, tree in (("connect_operator", "operator"), ("connect_worker", "worker")):
        here = {p.relative_to(ROOT / tree).as_posix(): p.read_bytes() for p in (ROOT / tree / package).rglob("*.py")}
        there = {p.relative_to(site).as_posix(): p.read_bytes() for p in (site / package).rglob("*.py")}
        assert there == here, f"{package} in the image differs from the checkout's"


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^ \\\n]+)", (ROOT / "requirements.lock").read_text(), re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in pins}


def test_the_image_holds_exactly_the_locked_dependencies(operator_image: oci.Unpacked, tmp_path: Path) -> None:
    listed = oci.run(
        operator_image,
        tmp_path / "pip",
        ["python", "-m", "pip", "list", "--format=json"],
        binds=[oci.Bind(emptydir(tmp_path / "tmp"), "/tmp", False)],
    )
    assert listed.returncode == 0, listed.stderr
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in json.loads(listed.stdout)}
    assert installed.pop("kafka-connect-operator") == "0.1.0"
    assert installed.pop("pip"), "pip stays (python:slim has it too); setuptools and wheel are removed"
    assert installed == _locked()


def test_the_init_container_runs_exactly_as_the_deployment_renders_it(
    operator_image: oci.Unpacked, tmp_path: Path
) -> None:
    spec = KafkaConnectSpec.model_validate({"bootstrapServers": "kafka:9092"})
    rendered = cluster.render(ClusterRef("c", "ns", "uid"), spec, "localhost/kco/operator:any")
    (configmap,) = [o for o in rendered.objects if o["kind"] == "ConfigMap"]
    (deployment,) = [o for o in rendered.objects if o["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    template = tmp_path / "template"
    template.mkdir()
    for name, text in configmap["data"].items():
        (template / name).write_text(text)
    volumes = {"template": template, **{v: emptydir(tmp_path / v) for v in ("config", "plugins", "plugin-cache")}}
    user = (pod["securityContext"]["runAsUser"], pod["securityContext"]["runAsGroup"])

    done = oci.run(
        operator_image,
        tmp_path / "bundle",
        [*init["command"], *init["args"]],
        user=user,
        env=pod_env(init, "10.1.2.3"),
        binds=pod_binds(init, volumes),
    )

    assert done.returncode == 0, done.stderr[-3000:]
    written = properties.parse((volumes["config"] / names.WORKER_PROPERTIES).read_text())
    template_properties = properties.parse(configmap["data"][names.WORKER_PROPERTIES])
    assert written == {**template_properties, "rest.advertised.host.name": "10.1.2.3"}
    assert (volumes["config"] / names.WORKER_PROPERTIES).stat().st_uid == user[0]
