"""`kubectl kco` as a user runs it: the installed executable, a kubeconfig, the real API server.

The verbs only edit Connectors; the real operator (in a thread) and a real Connect worker (in a Pod,
the pod runner) do the work, and the test reads Connect and the operator's events to see it done.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, dynamic

from connect_operator.devkit.controlplane import ControlPlane
from connect_operator.devkit.podrunner import PodRunner
from connect_worker.testbed import Testbed
from tests.support.connect_http import call
from tests.support.polling import poll_until
from tests.support.resources import API_VERSION, condition, events, ready_cluster, source_connector, worker_url

pytestmark = pytest.mark.kube

PLUGIN = Path(sys.executable).with_name("kubectl-kco")


def kco(kubeconfig: Path, *args: str, executable: Path = PLUGIN) -> subprocess.CompletedProcess[str]:
    # Only $KUBECONFIG says where the cluster is, as for kubectl; no HOME config to fall back on.
    env = {"PATH": os.environ["PATH"], "KUBECONFIG": str(kubeconfig), "HOME": str(kubeconfig.parent)}
    return subprocess.run([str(executable), *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def connectors(crds: dynamic.DynamicClient) -> Any:
    return crds.resources.get(api_version=API_VERSION, kind="Connector")


@pytest.mark.e2e
def test_restart_pause_resume_and_offsets_list_are_done_by_the_operator_once_each(
    local_operator: None,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    crds: dynamic.DynamicClient,
    api: client.ApiClient,
    namespace: str,
    testbed: Testbed,
    tmp_path: Path,
) -> None:
    kubeconfig = control_plane.endpoints.kubeconfig
    ready_cluster(crds, namespace, testbed)
    (tmp_path / "src.txt").write_text("one\ntwo\n")
    connectors(crds).create(namespace=namespace, body=source_connector("src", tmp_path))
    get = lambda: connectors(crds).get(namespace=namespace, name="src").to_dict()  # noqa: E731
    poll_until(lambda: condition(get(), "Ready").get("status") == "True", 120, "src Ready")

    asked = kco(kubeconfig, "restart", "src", "-n", namespace, "--tasks", "-o", "json")
    assert asked.returncode == 0, asked.stderr
    request_id = json.loads(asked.stdout)["restart"]
    assert get()["spec"]["restart"] == {"id": request_id, "includeTasks": True, "onlyFailed": False}

    def restarts() -> int:
        return sum(e.count or 1 for e in events(api, namespace, "src") if f"Restart({request_id})" in (e.message or ""))

    poll_until(lambda: restarts() == 1, 60, "the operator performing the requested restart")
    poll_until(lambda: (get()["status"].get("handled") or {}).get("restart") == request_id, 30, "restart handled")

    paused = kco(kubeconfig, "pause", "src", "-n", namespace)
    assert paused.returncode == 0, paused.stderr
    url = worker_url(api, namespace)
    assert url is not None
    poll_until(lambda: call("GET", f"{url}/connectors/src/status").body["connector"]["state"] == "PAUSED", 60, "PAUSED")
    poll_until(lambda: condition(get(), "Ready").get("reason") == "Paused", 60, "Ready reason Paused")
    again = kco(kubeconfig, "pause", "src", "-n", namespace)
    assert (again.returncode, again.stdout.strip()) == (0, "connector.kco.dev/src already paused")

    listed = kco(kubeconfig, "offsets", "list", "src", "-n", namespace, "-o", "json")
    assert listed.returncode == 0, listed.stderr
    offsets_id = get()["spec"]["offsets"]["id"]
    assert (get()["status"].get("handled") or {}).get("offsets") == offsets_id
    assert json.loads(listed.stdout)["offsets"] == get()["status"].get("offsets", [])

    resumed = kco(kubeconfig, "resume", "src", "-n", namespace)
    assert resumed.returncode == 0, resumed.stderr
    poll_until(
        lambda: call("GET", f"{url}/connectors/src/status").body["connector"]["state"] == "RUNNING", 60, "RUNNING"
    )
    poll_until(lambda: condition(get(), "Ready").get("reason") == "Running", 60, "Ready reason Running")
    # Neither the pause, the offsets request nor the resume repeated the one restart asked for.
    assert restarts() == 1


def test_status_lists_the_resources_across_namespaces_and_refusals_exit_1(
    control_plane: ControlPlane, crds: dynamic.DynamicClient, api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    other = f"{namespace[:40]}-other"
    client.CoreV1Api(api).create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        made = {(namespace, "alpha", "east"), (namespace, "beta", "west"), (other, "gamma", "east")}
        for ns, name, cluster in made:
            connectors(crds).create(namespace=ns, body=source_connector(name, tmp_path, cluster=cluster))
        # The status the operator would write, so the table has something to read.
        status = {
            "state": "RUNNING",
            "tasksReady": "1/1",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "Running",
                    "message": "RUNNING, 1/1 tasks running",
                    "lastTransitionTime": "2026-12-02T03:00:00Z",
                }
            ],
        }
        connectors(crds).status.patch(
            namespace=namespace, name="alpha", body={"status": status}, content_type="application/merge-patch+json"
        )
        kubeconfig = control_plane.endpoints.kubeconfig

        every = kco(kubeconfig, "status", "-A", "-o", "json")
        assert every.returncode == 0, every.stderr
        items = [i for i in json.loads(every.stdout)["items"] if i["namespace"] in {namespace, other}]
        assert {(i["namespace"], i["name"], i["cluster"]) for i in items} == made
        alpha = next(i for i in items if i["name"] == "alpha")
        assert (alpha["state"], alpha["ready"], alpha["reason"], alpha["tasksReady"]) == (
            "RUNNING",
            "True",
            "Running",
            "1/1",
        )

        # The namespace the kubeconfig's context names, as kubectl takes it when -n is not given.
        config = yaml.safe_load(kubeconfig.read_text())
        config["contexts"][0]["context"]["namespace"] = other
        scoped = tmp_path / "kubeconfig"
        scoped.write_text(yaml.safe_dump(config))
        here = kco(scoped, "status", "-o", "json")
        assert [i["name"] for i in json.loads(here.stdout)["items"]] == ["gamma"]
        east = kco(kubeconfig, "status", "-n", namespace, "--cluster", "east")
        assert [line.split()[1] for line in east.stdout.splitlines()[1:]] == ["alpha"]

        # kubectl's plugin completion: the Connectors of the namespace the typed flags name, from the server.
        completed = kco(kubeconfig, "pause", "-n", namespace, "", executable=PLUGIN.with_name("kubectl_complete-kco"))
        assert completed.stdout.splitlines() == ["alpha", "beta", ":4"]

        missing = kco(kubeconfig, "pause", "nope", "-n", namespace)
        assert missing.returncode == 1
        assert '"nope" not found' in missing.stderr
        running = kco(kubeconfig, "offsets", "reset", "alpha", "-n", namespace)
        assert running.returncode == 1
        assert "offsets" not in connectors(crds).get(namespace=namespace, name="alpha").to_dict()["spec"]
        assert "needs spec.state: stopped" in running.stderr
        # Stopped first, the reset is written: the whole request, by the plugin's own field manager.
        assert kco(kubeconfig, "stop", "alpha", "-n", namespace).returncode == 0
        reset = kco(kubeconfig, "offsets", "reset", "alpha", "-n", namespace, "-o", "json")
        assert reset.returncode == 0, reset.stderr
        stored = connectors(crds).get(namespace=namespace, name="alpha").to_dict()
        assert stored["spec"]["state"] == "stopped"
        reset_id = json.loads(reset.stdout)["offsets"]
        assert stored["spec"]["offsets"] == {"id": reset_id, "action": "reset", "offsets": []}
        managers = {f["manager"] for f in stored["metadata"]["managedFields"] if "f:spec" in (f.get("fieldsV1") or {})}
        assert "kubectl-kco" in managers

        assert kco(kubeconfig, "restart").returncode == 2
        no_context = kco(kubeconfig, "status", "--context", "nowhere")
        assert no_context.returncode == 1
    finally:
        client.CoreV1Api(api).delete_namespace(other)
