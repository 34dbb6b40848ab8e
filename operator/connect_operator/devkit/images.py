"""The container images the local node runs, built here with no registry and no Docker daemon.

- a Debian base from `debootstrap` (bookworm, minbase), the root of the other two;
- the operator image, from the project's own Dockerfile, with a Python base made from that root
  (`--build-arg PYTHON_IMAGE`), so the one Dockerfile builds on a laptop with Docker and here;
- a Kafka Connect worker image with apache/kafka's layout, from the Connect runtime the project
  provisions (the jars the local WorkerProcess runs) and start scripts of this project's own;
- the Pod sandbox's pause image, Kubernetes' pause.c compiled static.

Each is delivered as an OCI archive (`ctr -n k8s.io images import ARCHIVE`), tagged and named by the
content key of its inputs (imagekeys): an archive is rebuilt only when that key changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import shutil
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from connect_operator.devkit import imagekeys, k8sbuild
from connect_operator.devkit.buildah import Buildah, ImageBuildError, run
from connect_operator.devkit.imagekeys import Key
from connect_operator.devkit.progress import Phase, quiet
from connect_worker import manifest, runtime

SUITE = "bookworm"
VARIANT = "minbase"
MIRROR = "http://deb.debian.org/debian"
# TLS roots for apt and pip inside the builds; everything else comes from each image's own Containerfile.
BASE_PACKAGES: tuple[str, ...] = ("ca-certificates",)
FILES = Path(__file__).resolve().parent / "imagefiles"
PAUSE_SOURCE = f"kubernetes-{k8sbuild.K8S_VERSION}/build/pause/linux/pause.c"
# The operator's build inputs besides operator/ and worker/: what its Dockerfile copies, and itself.
OPERATOR_FILES = ("Dockerfile", ".dockerignore", "requirements.lock", "pyproject.toml", "README.md")
OPERATOR_TREES = ("operator", "worker")
# Where the host's CA bundle and a pip.conf naming it are mounted in the operator's build (never in
# the image): pip must trust what this machine trusts (an egress proxy's CA, say) to reach PyPI.
_BUILD_CA = "/run/kco-build/ca-certificates.crt"
_HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# The provisioned runtime's reflections 0.9.12 lacks what Connect 3.9's plugin scanner calls under the
# default plugin.discovery (hybrid_warn), which the operator's workers keep (the local WorkerProcess
# sets service_load instead): the image has Debian's 0.10.2, the version Kafka 3.9 itself ships, with
# its manifest's Class-Path dropped (it names Debian's slf4j 1.7, which must not join slf4j 2).
REFLECTIONS_REPLACED = "reflections-0.9.12.jar"
REFLECTIONS_JAR = Path("/usr/share/java/reflections.jar")
REFLECTIONS_PACKAGE = "libreflections-java"
REFLECTIONS_NAME = "reflections-0.10.2.jar"


@dataclass(frozen=True)
class Image:
    reference: str
    archive: Path
    # How this call got it: found in the cache, or built (and in how long); not part of its identity.
    cached: bool = field(default=True, compare=False)
    seconds: float = field(default=0.0, compare=False)


@dataclass(frozen=True)
class BuiltImages:
    operator: Image
    connect: Image
    pause: Image


def home(cache: Path) -> Path:
    return cache / "images"


def source_root() -> Path:
    """The checkout this package runs from: the operator image is built from its Dockerfile."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "Dockerfile").is_file() or not (root / "pyproject.toml").is_file():
        raise ImageBuildError(f"No Dockerfile beside {root}: build images from a checkout (pip install -e .).")
    return root


# The keys: pure functions of the inputs (files read, nothing built).


def base_key() -> Key:
    return imagekeys.key_of({"builder": "debootstrap", **imagekeys.base_parts(SUITE, VARIANT, BASE_PACKAGES, MIRROR)})


def python_key(base: Key) -> Key:
    return imagekeys.key_of({"from": base.digest, "Containerfile": (FILES / "python.Containerfile").read_bytes()})


def operator_key(root: Path, python: Key) -> Key:
    parts: dict[str, str | bytes] = {"from": python.digest}
    for name in OPERATOR_FILES:
        parts[name] = (root / name).read_bytes()
    for tree in OPERATOR_TREES:
        parts.update(imagekeys.tree_parts(root / tree, tree))
    return imagekeys.key_of(parts)


def connect_key(base: Key, libs: Path, reflections: Path) -> Key:
    parts: dict[str, str | bytes] = {
        "from": base.digest,
        "Containerfile": (FILES / "connect.Containerfile").read_bytes(),
        f"libs/{REFLECTIONS_NAME}": imagekeys.file_digest(reflections),
    }
    parts.update(imagekeys.tree_parts(FILES / "connect", "context"))
    parts.update(
        {
            name: digest
            for name, digest in imagekeys.tree_parts(libs, "libs").items()
            if name != f"libs/{REFLECTIONS_REPLACED}"
        }
    )
    return imagekeys.key_of(parts)


def without_class_path(jar: Path, target: Path) -> None:
    """A copy of `jar` whose manifest names no other jars: the image's classpath is libs/ and only that."""
    with zipfile.ZipFile(jar) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as copy:
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "META-INF/MANIFEST.MF":
                data = _drop_manifest_attribute(data.decode(), "Class-Path").encode()
            copy.writestr(entry, data)


def _drop_manifest_attribute(manifest: str, name: str) -> str:
    lines = manifest.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    dropping = False
    for line in lines:
        if line.startswith(" ") and dropping:
            continue  # a continuation line of the attribute being dropped
        dropping = line.startswith(f"{name}:")
        if not dropping:
            kept.append(line)
    return "\r\n".join(kept)


def pause_key(pause_c: bytes, compiler: str) -> Key:
    return imagekeys.key_of(
        {"pause.c": pause_c, "compiler": compiler, "Containerfile": (FILES / "pause.Containerfile").read_bytes()}
    )


def archive_path(cache: Path, name: str, key: Key) -> Path:
    return home(cache) / f"{name}-{key.short}.oci.tar"


def ensure(cache: Path, phase: Phase = quiet) -> BuiltImages:
    """The three archives, each built unless an archive of its current key is in the cache.

    Safe to call from several processes at once: one builds while the others wait, then find it cached.
    """
    images = home(cache)
    images.mkdir(parents=True, exist_ok=True)
    with _exclusive(images / ".lock"), (images / "build.log").open("a") as log:
        builder = _Builder(cache, log, phase)
        return BuiltImages(operator=builder.operator(), connect=builder.connect(), pause=builder.pause())


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class _Builder:
    def __init__(self, cache: Path, log: IO[str], phase: Phase) -> None:
        self.cache, self.log, self.phase = cache, log, phase
        self._buildah: Buildah | None = None

    @property
    def buildah(self) -> Buildah:
        # Created only when something is built: a fully cached ensure() needs no buildah at all.
        if self._buildah is None:
            self._buildah = Buildah(home(self.cache) / "buildah", self.log)
        return self._buildah

    def _deliver(self, name: str, key: Key, build: Callable[[str], None], keep: bool = True) -> Image:
        """The archive of `name` at `key`: from the cache, or built (tagged `reference`) and pushed."""
        reference = imagekeys.reference(name, key)
        archive = archive_path(self.cache, name, key)
        if archive.is_file():
            return Image(reference, archive, cached=True)
        started = time.monotonic()
        build(reference)
        partial = archive.with_name(f".{archive.name}.partial")
        partial.unlink(missing_ok=True)
        with self.phase(f"writing {archive.name}"):
            self.buildah.run(["push", "--quiet", reference, f"oci-archive:{partial}:{reference}"], f"pushing {name}")
        # Archives of other keys stay: the cache is shared by every checkout on the machine (worktrees of
        # other branches have other keys), and one may be importing its archive right now.
        partial.replace(archive)
        if not keep:
            # Built without the layer cache, so nothing reuses it: the archive is the only copy worth keeping.
            self.buildah.run(["rmi", reference], f"removing {reference} from buildah's storage")
        return Image(reference, archive, cached=False, seconds=time.monotonic() - started)

    def _bud(self, reference: str, containerfile: Path, context: Path, *extra: str, layers: bool = True) -> None:
        self.buildah.run(
            [
                "bud",
                *(["--layers"] if layers else ["--no-cache"]),
                "--network",
                "host",
                "-f",
                str(containerfile),
                "-t",
                reference,
                *extra,
                str(context),
            ],
            f"building {reference}",
        )

    # The base images live only in buildah's storage (under the cache): each is built when an image
    # FROM it has to be, and found there by its tag afterwards.

    def base(self) -> str:
        key = base_key()
        reference = imagekeys.reference("debian", key)
        if self.buildah.exists(reference):
            return reference
        _require("debootstrap", "debootstrap")
        work = home(self.cache) / f".rootfs-{key.short}"
        shutil.rmtree(work, ignore_errors=True)
        rootfs = work / "rootfs"
        with self.phase(f"debootstrap --variant={VARIANT} {SUITE} (once)"):
            run(
                [
                    "debootstrap",
                    f"--variant={VARIANT}",
                    f"--include={','.join(BASE_PACKAGES)}",
                    SUITE,
                    str(rootfs),
                    MIRROR,
                ],
                "debootstrap",
                self.log,
                timeout=1800,
            )
            # Downloaded packages and indexes: the images that need apt fetch fresh ones.
            for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
                for path in (rootfs / leftover).glob("*"):
                    if path.is_file():
                        path.unlink()
        with self.phase(f"importing the root filesystem as {reference}"):
            tarball = work / "rootfs.tar"
            run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(tarball), "."], "packing rootfs", self.log)
            container = self.buildah.run(["from", "scratch"], "buildah from scratch").strip()
            try:
                self.buildah.run(["add", container, str(tarball), "/"], "importing the root filesystem")
                self.buildah.run(
                    [
                        "config",
                        "--env",
                        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "--cmd",
                        "/bin/bash",
                        container,
                    ],
                    "configuring the base",
                )
                self.buildah.run(["commit", "--quiet", container, reference], "committing the base")
            finally:
                self.buildah.run(["rm", container], "removing the working container")
        shutil.rmtree(work, ignore_errors=True)
        return reference

    def python(self) -> str:
        key = python_key(base_key())
        reference = imagekeys.reference("python", key)
        if not self.buildah.exists(reference):
            base = self.base()
            with self.phase(f"building the Python base {reference}"):
                self._bud(reference, FILES / "python.Containerfile", FILES, "--build-arg", f"BASE_IMAGE={base}")
        return reference

    def operator(self) -> Image:
        root = source_root()
        key = operator_key(root, python_key(base_key()))

        def build(reference: str) -> None:
            python = self.python()
            with tempfile.TemporaryDirectory(prefix="kco-pip-") as scratch:
                pip_conf = Path(scratch) / "pip.conf"
                pip_conf.write_text(f"[global]\ncert = {_BUILD_CA}\n")
                mounts = ["-v", f"{pip_conf}:/etc/pip.conf:ro"]
                if _HOST_CA.is_file():
                    mounts += ["-v", f"{_HOST_CA}:{_BUILD_CA}:ro"]
                with self.phase(f"building the operator image {reference} from the Dockerfile"):
                    # No layer cache: buildah 1.28 reuses a cached `RUN --mount=type=bind,from=build` step
                    # whatever the build stage now holds (an image of the previous sources, measured).
                    self._bud(
                        reference,
                        root / "Dockerfile",
                        root,
                        "--build-arg",
                        f"PYTHON_IMAGE={python}",
                        *mounts,
                        layers=False,
                    )

        return self._deliver("operator", key, build, keep=False)

    def connect(self) -> Image:
        with self.phase(f"checking the Connect {manifest.CONNECT_VERSION} runtime"):
            libs = runtime.fetch(self.cache).home / "libs"
        if not REFLECTIONS_JAR.is_file():
            raise ImageBuildError(
                f"No {REFLECTIONS_JAR}: apt-get install {REFLECTIONS_PACKAGE} (scripts/setup.sh does)."
            )
        key = connect_key(base_key(), libs, REFLECTIONS_JAR)

        def build(reference: str) -> None:
            base = self.base()
            with tempfile.TemporaryDirectory(prefix="kco-connect-", dir=home(self.cache)) as scratch:
                context = Path(scratch)
                shutil.copytree(FILES / "connect", context, dirs_exist_ok=True)
                shutil.copytree(libs, context / "libs", ignore=shutil.ignore_patterns(REFLECTIONS_REPLACED))
                without_class_path(REFLECTIONS_JAR, context / "libs" / REFLECTIONS_NAME)
                with self.phase(f"building the Connect image {reference}"):
                    self._bud(reference, FILES / "connect.Containerfile", context, "--build-arg", f"BASE_IMAGE={base}")

        return self._deliver("connect", key, build)

    def pause(self) -> Image:
        source = self._pause_source()
        compiler = _compiler_version()
        key = pause_key(source.read_bytes(), compiler)

        def build(reference: str) -> None:
            with tempfile.TemporaryDirectory(prefix="kco-pause-", dir=home(self.cache)) as scratch:
                context = Path(scratch)
                with self.phase("compiling pause.c (static)"):
                    run(
                        ["gcc", "-Os", "-static", "-Wall", "-o", str(context / "pause"), str(source)],
                        "compiling pause.c",
                        self.log,
                    )
                    run(["strip", str(context / "pause")], "stripping pause", self.log)
                with self.phase(f"building the pause image {reference}"):
                    self._bud(reference, FILES / "pause.Containerfile", context)

        return self._deliver("pause", key, build)

    def _pause_source(self) -> Path:
        """pause.c from the Kubernetes source the devkit builds from (only that file extracted, once)."""
        target = home(self.cache) / "pause" / "pause.c"
        if target.is_file():
            return target
        with self.phase("extracting pause.c from the Kubernetes source"):
            tarball = k8sbuild._fetch_source(self.cache / "downloads")
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(PAUSE_SOURCE)
                if member is None:
                    raise ImageBuildError(f"{tarball.name} has no {PAUSE_SOURCE}")
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".partial")
                partial.write_bytes(member.read())
                partial.replace(target)
        return target


def _require(binary: str, package: str) -> None:
    if shutil.which(binary) is None:
        raise ImageBuildError(f"No `{binary}` on PATH: apt-get install {package} (scripts/setup.sh does).")


def _compiler_version() -> str:
    _require("gcc", "gcc")
    done = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.splitlines()[0]


def describe(built: BuiltImages) -> list[dict[str, object]]:
    """For the CLI and logs: each image, its archive's size and how it was got."""
    rows: list[dict[str, object]] = []
    for name in ("operator", "connect", "pause"):
        image: Image = getattr(built, name)
        rows.append(
            {
                "name": name,
                "reference": image.reference,
                "archive": str(image.archive),
                "megabytes": round(image.archive.stat().st_size / 1e6, 1),
                "cached": image.cached,
                "seconds": round(image.seconds, 1),
            }
        )
    return rows


def to_json(built: BuiltImages) -> str:
    return json.dumps(describe(built), indent=1)
