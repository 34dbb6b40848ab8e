"""Real Connect 3.9 with the config providers exactly as the operator renders them, taking connector
configs straight over REST, as anyone who can reach a worker's port could send them (no operator).

A placeholder for a path outside a provider's `allowed.paths` is not refused when the connector is
validated or created: Connect stores it, and at start hands the task the placeholder text itself
(unresolved), logging "The path ... is not allowed to be accessed". A FileStreamSink that would write to
a path read from an arbitrary file therefore fails, and the file named there is never written.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

from connect_operator.render import workerconfig
from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.connect_http import call
from tests.support.polling import poll_until

pytestmark = pytest.mark.contract

SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"
STRING = "org.apache.kafka.connect.storage.StringConverter"


@dataclass(frozen=True)
class Workers:
    cluster: ConnectCluster
    url: str
    secrets_root: Path  # what the pods' /mnt/kco/secrets is: the exposed Secrets
    own_secret: Path  # what /mnt/kco/kafka-auth/<password Secret> is: the workers' own SASL password
    elsewhere: Path  # any other directory on the worker


@pytest.fixture(scope="module")
def workers(testbed: Testbed, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workers]:
    """One worker for the module: its providers' allowed paths are fixed when it starts."""
    base = tmp_path_factory.mktemp("providers")
    root, own, elsewhere = base / "secrets", base / "kafka-auth" / "pw", base / "elsewhere"
    for folder in (root / "db", own, elsewhere, base / "secrets-other"):
        folder.mkdir(parents=True)
    properties = workerconfig.config_provider_properties(str(root), (str(own),))
    cluster = testbed.new_cluster(f"providers-{secrets.token_hex(3)}", properties)
    try:
        cluster.start(1)
        yield Workers(cluster, cluster.rest_urls[0], root, own, elsewhere)
    finally:
        cluster.stop()


def _sink(topic: str, file: str) -> dict[str, str]:
    # Plain text records, as the test's producer writes them (the workers' default is JSON).
    return {"connector.class": SINK, "tasks.max": "1", "topics": topic, "file": file, "value.converter": STRING}


def _target(folder: Path, name: str, tmp_path: Path) -> tuple[str, Path]:
    """A key in `folder` whose value is the path a FileStreamSink would write to, and that path."""
    written = tmp_path / f"{name}.out"
    (folder / name).write_text(str(written))
    return name, written


def _task(url: str, name: str) -> dict[str, Any] | None:
    answer = call("GET", f"{url}/connectors/{name}/status")
    tasks = answer.body.get("tasks") if answer.status == 200 else None
    return tasks[0] if tasks and tasks[0]["state"] in {"RUNNING", "FAILED"} else None


@pytest.mark.parametrize("where", ["elsewhere", "etc", "workers-own", "dot-dot", "root-sibling", "own-via-worker"])
def test_a_placeholder_outside_its_providers_allowed_paths_reaches_the_task_unresolved(
    workers: Workers, unique: Callable[[str], str], tmp_path: Path, where: str
) -> None:
    root, own = workers.secrets_root, workers.own_secret
    name = unique("outside")
    provider, folder = {
        "elsewhere": ("dir", workers.elsewhere),
        # The workers' own Kafka password, through the connectors' provider.
        "workers-own": ("dir", own),
        # Normalised before the check, so the `..` leaves the root (Connect logs the path as it was given).
        "dot-dot": ("dir", root / ".." / "elsewhere"),
        # secrets-other starts with the root's text but is not under it.
        "root-sibling": ("dir", root.parent / "secrets-other"),
        # The workers' own provider reads its password's directory only, not the exposed Secrets.
        "own-via-worker": ("kcoworker", root / "db"),
    }.get(where, ("dir", Path("/etc")))
    key, written = ("hostname", tmp_path / "none") if where == "etc" else _target(folder, name, tmp_path)
    placeholder = f"${{{provider}:{folder}:{key}}}"
    config = _sink(unique("topic"), placeholder)
    validate = f"{workers.url}/connector-plugins/FileStreamSinkConnector/config/validate"
    validated = call("PUT", validate, {**config, "name": name})
    assert validated.status == 200 and validated.body["error_count"] == 0, "Connect's validation lets it through"
    created = call("PUT", f"{workers.url}/connectors/{name}/config", config)
    assert created.status == 201, created.body

    task = poll_until(lambda: _task(workers.url, name), 60, f"task 0 of {name} started or failed")
    assert task["state"] == "FAILED", "the sink got the placeholder text, not a path it could open"
    assert f"Couldn't find or create file '{placeholder}'" in task["trace"]
    assert not written.exists(), "the file named behind the disallowed path was not written"
    # Each case names a path of its own: a line logged for another case cannot pass this one.
    denied = f"The path {folder} is not allowed to be accessed"
    # The whole logs, not a tail: other tasks' retry warnings can push the line out of any tail under load.
    poll_until(lambda: denied in _whole_logs(workers.cluster), 60, f"the worker logging {denied!r}")


@pytest.mark.parametrize("provider", ["dir", "kcoworker"])
def test_a_placeholder_under_its_providers_allowed_path_resolves(
    workers: Workers, testbed: Testbed, unique: Callable[[str], str], tmp_path: Path, provider: str
) -> None:
    """The operator's own placeholders still work: a Connector's secretKeyRef (`dir`, under the exposed
    Secrets' root) and the workers' SASL password (`kcoworker`, its Secret's directory)."""
    folder = workers.secrets_root / "db" if provider == "dir" else workers.own_secret
    name, topic = unique("inside"), unique("topic")
    key, written = _target(folder, name, tmp_path)
    admin = AdminClient({"bootstrap.servers": testbed.bootstrap_servers})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(timeout=30)
    created = call("PUT", f"{workers.url}/connectors/{name}/config", _sink(topic, f"${{{provider}:{folder}:{key}}}"))
    assert created.status == 201, created.body
    producer = Producer({"bootstrap.servers": testbed.bootstrap_servers})
    producer.produce(topic, b"through the provider")
    assert producer.flush(30) == 0, "the record was delivered"
    poll_until(
        lambda: written.exists() and "through the provider" in written.read_text(),
        90,
        f"the record in {written}, the file the placeholder resolved to",
    )
    task = _task(workers.url, name)
    assert task is not None and task["state"] == "RUNNING"


def _whole_logs(cluster: ConnectCluster) -> str:
    return "\n".join(Path(w.log_path).read_text(errors="replace") for w in cluster.workers)
