#!/usr/bin/env bash
# Installs what the project needs on a fresh machine: Debian packages (when root), a venv, the
# project with its dev tools, and the pinned Connect runtime and local broker. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v java >/dev/null 2>&1 || need_apt+=(openjdk-17-jre-headless)
[ -f /usr/share/java/jetty9-servlet.jar ] && [ -f /usr/share/java/jetty9-security.jar ] || need_apt+=(libjetty9-java)
# The Connect image's reflections 0.10.2 (connect_operator.devkit.images: REFLECTIONS_JAR).
[ -f /usr/share/java/reflections.jar ] || need_apt+=(libreflections-java)
# The local node's images (python -m connect_operator.devkit images) and its container runtime.
for tool in buildah:buildah debootstrap:debootstrap runc:runc containerd:containerd ctr:containerd \
  iptables:iptables gcc:gcc ip:iproute2 nsenter:util-linux /usr/lib/cni/bridge:containernetworking-plugins; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "${tool%%:*}" ] || need_apt+=("${tool##*:}")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  else
    echo "setup: missing Debian packages ${need_apt[*]}; run: sudo apt-get install ${need_apt[*]}" >&2
    exit 1
  fi
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python 3.11 or newer is required ($python is $("$python" --version 2>&1))" >&2
  exit 1
fi
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev,kube]'
.venv/bin/python -m connect_worker runtime fetch
# The local Kubernetes control plane: built once (about 6 minutes on 2 cores), then cached.
.venv/bin/python -m connect_operator.devkit build
# The real node's images (operator, Connect, pause), built with buildah where it runs (root on Linux; about
# 5 minutes the first time), so the tests start from a cache; the operator's is rebuilt when its code changes.
if [ "$(id -u)" -eq 0 ] && command -v buildah >/dev/null 2>&1; then
  .venv/bin/python -m connect_operator.devkit images
fi
touch .venv/.installed
