"""What can be checked of the Dockerfile without Docker: its base, stages, user, commands and build context.

The image runs the operator by default and the workers' init container with the command the operator's
Deployment sets; both entry points are checked here against the code they run.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.render import deployment, names
from connect_operator.render.names import ClusterRef
from connect_worker import __main__ as worker_cli

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
VALUES = ROOT / "helm" / "kafka-connect-operator" / "values.yaml"
BUILD_TOOLS = ("gcc", "g++", "cc ", "make", "build-essential", "apt-get", "apk ", "pip wheel", "python3-dev")


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [argument for instruction, argument in self.instructions if instruction == keyword]


def _parse() -> tuple[dict[str, str], list[Stage]]:
    text = (ROOT / "Dockerfile").read_text()
    logical = re.sub(r"\\\n", " ", text)  # join continued lines
    arguments: dict[str, str] = {}
    stages: list[Stage] = []
    for raw in logical.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, argument = line.partition(" ")
        instruction, argument = instruction.upper(), argument.strip()
        if instruction == "ARG" and not stages:
            name, _, default = argument.partition("=")
            arguments[name] = default
        elif instruction == "FROM":
            words = argument.split()
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], words[0])
            stages.append(Stage(base, words[2] if len(words) == 3 and words[1].upper() == "AS" else None))
        else:
            stages[-1].instructions.append((instruction, argument))
    return arguments, stages


ARGS, STAGES = _parse()
FINAL = STAGES[-1]


def test_every_stage_uses_one_slim_python_base_pinned_by_version() -> None:
    bases = {stage.base for stage in STAGES}
    assert len(bases) == 1, bases
    (base,) = bases
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", base)
    assert match, f"{base} is not a slim Python image pinned to a patch version"
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(part) for part in required.removeprefix(">=").split("."))
    assert (int(match.group(1)), int(match.group(2))) >= minimum, f"{base} does not satisfy {required}"
    assert len(STAGES) >= 2 and STAGES[0].name, "a named build stage, then the final stage"


def test_the_final_stage_installs_only_the_built_wheels_and_has_no_build_tools() -> None:
    runs = " ".join(FINAL.all("RUN"))
    for tool in BUILD_TOOLS:
        assert tool not in runs, f"{tool!r} in the final stage"
    assert "--no-index" in runs and "from=build" in runs, "installed offline from the build stage's wheels"
    assert "kafka-connect-operator" in runs
    assert not FINAL.all("COPY") or all("--from=build" in c for c in FINAL.all("COPY"))
    assert any("pip wheel" in run for run in STAGES[0].all("RUN")), "the build stage makes the wheels"


def test_the_image_runs_as_a_non_root_user_matching_the_chart() -> None:
    (user,) = FINAL.all("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, "numeric, so runAsNonRoot can verify it"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    chart: dict[str, Any] = yaml.safe_load(VALUES.read_text())
    assert chart["podSecurityContext"]["runAsUser"] == int(uid)
    assert chart["podSecurityContext"]["runAsNonRoot"] is True
    assert chart["securityContext"]["readOnlyRootFilesystem"] is True
    assert "PYTHONDONTWRITEBYTECODE=1" in " ".join(FINAL.all("ENV")), "no .pyc writes on a read-only root"


def test_the_default_command_is_the_operator_and_matches_the_chart() -> None:
    (cmd,) = FINAL.all("CMD")
    command = json.loads(cmd)
    assert not FINAL.all("ENTRYPOINT"), "no entrypoint: a Pod's command replaces the whole command line"
    assert command == ["python", "-m", "connect_operator"]
    assert importlib.util.find_spec("connect_operator.__main__") is not None
    template = (ROOT / "helm" / "kafka-connect-operator" / "templates" / "deployment.yaml").read_text()
    assert f"command: [{', '.join(command)}]" in template


def _full_spec() -> KafkaConnectSpec:
    return KafkaConnectSpec.model_validate(
        {
            "bootstrapServers": "kafka:9093",
            "plugins": [{"name": "p", "artifacts": [{"url": "https://x/p.jar", "sha512": "a" * 128, "type": "jar"}]}],
            "tls": {"trustedCertificates": [{"secretName": "ca"}]},
            "authentication": {"type": "tls", "certificateAndKey": {"secretName": "client"}},
        }
    )


def test_the_init_container_command_is_this_images_worker_cli() -> None:
    spec = _full_spec()
    pod = deployment.build_deployment(ClusterRef("c", "ns", "uid"), spec, "hash", "img:1")["spec"]["template"]
    init = pod["spec"]["initContainers"][0]
    assert init["image"] == "img:1"
    assert init["command"] == ["python", "-m", "connect_worker"]
    assert importlib.util.find_spec("connect_worker.__main__") is not None
    # Every argument the operator passes parses with the image's CLI.
    parsed = worker_cli.build_parser().parse_args(init["args"])
    assert parsed.command == "init" and parsed.handler is not None
    assert parsed.plugin_dir == names.PLUGIN_DIR


def test_the_init_cli_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        worker_cli.main(["init", "--help"])
    assert exited.value.code == 0
    shown = capsys.readouterr().out
    for flag in ("--template", "--output", "--plugin-dir", "--plugins", "--trust", "--truststore", "--keystore"):
        assert flag in shown


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/", maxsplit=1)[0], p) for p in patterns)


def test_the_build_context_holds_every_package_folder_and_nothing_else() -> None:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and line[0] != "#"
    ]
    sources = [src for copy in STAGES[0].all("COPY") for src in shlex.split(copy)[:-1]]
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), f"{source} is copied but .dockerignore leaves it out"
    package_roots = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    assert set(package_roots["where"]) <= set(sources), "every package folder is copied into the build"
    for heavy in (".git", ".venv", ".cache", "tests"):
        assert _ignored(heavy, patterns), f"{heavy} would be sent to the Docker daemon"
