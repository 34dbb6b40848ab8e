"""Credentials and the current namespace as kubectl finds them: `--kubeconfig`, else `$KUBECONFIG`
(a list of files, merged), else `~/.kube/config`; `--context`, else the current context.

The kubernetes client's loaders do the reading (exec plugins, tokens, embedded certificates), as in
`connect_operator.kube.login`, which serves the operator's settings rather than kubectl's flags.
"""

from __future__ import annotations

import os
from pathlib import Path

import yaml
from kubernetes import client, config


def _files(kubeconfig: str | None) -> str:
    # Read at call time, not at import as the client library does, so a changed $KUBECONFIG is seen.
    return kubeconfig or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")


def _context(files: str, context: str | None) -> str | None:
    """The context to use. kubectl takes current-context from the first file that sets it; the client
    library's merger lets the last one win, so it is chosen here and passed explicitly."""
    if context:
        return context
    for name in files.split(os.pathsep):
        path = Path(name).expanduser()
        if name and path.is_file():
            current = (yaml.safe_load(path.read_text()) or {}).get("current-context")
            if current:
                return str(current)
    return None


def api_client(kubeconfig: str | None, context: str | None) -> client.ApiClient:
    files = _files(kubeconfig)
    return config.new_client_from_config(config_file=files, context=_context(files, context))


def namespace(kubeconfig: str | None, context: str | None) -> str:
    """The context's namespace, `default` when it names none (as kubectl)."""
    files = _files(kubeconfig)
    contexts, _ = config.list_kube_config_contexts(config_file=files)
    chosen_name = _context(files, context)
    chosen = next((c for c in contexts if c["name"] == chosen_name), None)
    if chosen is None:
        raise config.ConfigException(f"context {chosen_name!r} not found in the kubeconfig")
    return str((chosen.get("context") or {}).get("namespace") or "default")
