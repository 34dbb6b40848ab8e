"""`python -m connect_operator.devkit build | up | images`: build the local control plane once; run it until
Ctrl-C; build the container images the local node runs (operator, Connect worker, pause) as OCI archives."""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

from connect_operator.devkit import images, k8sbuild, progress
from connect_operator.devkit.buildah import ImageBuildError
from connect_operator.devkit.controlplane import ControlPlane, server_version
from connect_worker import settings
from connect_worker.errors import WorkerError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m connect_operator.devkit", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help=f"build Kubernetes {k8sbuild.K8S_VERSION} into the cache (once)")
    up = commands.add_parser("up", help="run etcd, kube-apiserver and kube-controller-manager until Ctrl-C")
    up.add_argument("--work-dir", help="default: a new temporary folder")
    commands.add_parser("images", help="build the operator, Connect and pause images as OCI archives (cached)")
    args = parser.parse_args(argv)
    cache = settings.cache_dir()
    try:
        if args.command == "build":
            started = time.monotonic()
            shown = progress.Progress.to(sys.stdout)
            try:
                binaries = k8sbuild.locate(cache)
                shown.cached(f"Kubernetes {k8sbuild.K8S_VERSION} (kube-apiserver, kube-controller-manager, etcd)")
            except k8sbuild.BuildError:
                print(
                    f"Building Kubernetes {k8sbuild.K8S_VERSION} from Debian's source, once (about 4 minutes on "
                    f"2 cores; cached in {cache} after that). Build log: "
                    f"{cache / f'kubernetes-{k8sbuild.K8S_VERSION}-build.log'}",
                    flush=True,
                )
                binaries = k8sbuild.build(cache, phase=shown.phase)
            print(f"kube-apiserver:          {binaries.apiserver}")
            print(f"kube-controller-manager: {binaries.controller_manager}")
            print(f"etcd:                    {binaries.etcd}")
            print(f"Ready in {time.monotonic() - started:.1f} s")
            return 0
        if args.command == "images":
            return _images(cache)
        work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="kco-kube-"))
        started = time.monotonic()
        with ControlPlane(k8sbuild.locate(cache), work_dir) as plane:
            version = server_version(plane.endpoints)["gitVersion"]
            print(f"Kubernetes {version} at {plane.endpoints.server}, ready in {time.monotonic() - started:.1f} s")
            print(f"export KUBECONFIG={plane.endpoints.kubeconfig}", flush=True)
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("Stopping...", flush=True)
        return 0
    except (k8sbuild.BuildError, ImageBuildError, WorkerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _images(cache: Path) -> int:
    started = time.monotonic()
    built = images.ensure(cache, progress.Progress.to(sys.stdout).phase)
    for row in images.describe(built):
        how = "cached" if row["cached"] else f"built in {row['seconds']} s"
        print(f"{row['name']:<9} {row['reference']:<40} {how:<18} {row['megabytes']:>7} MB  {row['archive']}")
    print("Import into containerd: ctr -n k8s.io images import ARCHIVE")
    print(f"Ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
