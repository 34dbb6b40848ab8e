"""The real test bed: FileStream data flows, and lifecycle calls behave as Connect documents them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.connect_http import call
from tests.support.polling import poll_until

pytestmark = pytest.mark.contract

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"
SINK = "org.apache.kafka.connect.file.FileStreamSinkConnector"


def _status(url: str, name: str) -> dict[str, Any] | None:
    answer = call("GET", f"{url}/connectors/{name}/status")
    return answer.body if answer.status == 200 else None


def _in_state(url: str, name: str, state: str, tasks: int = 1) -> Callable[[], dict[str, Any] | None]:
    def probe() -> dict[str, Any] | None:
        status = _status(url, name)
        if not status or status["connector"]["state"] != state:
            return None
        task_states = [t["state"] for t in status["tasks"]]
        return status if task_states == [state] * tasks else None

    return probe


def test_filestream_pipeline_moves_every_line(connect_url: str, unique: Callable[[str], str], data_dir: Path) -> None:
    lines = [f"line {i} of the pipeline" for i in range(1000)]
    source_file, sink_file = data_dir / "in.txt", data_dir / "out.txt"
    source_file.write_text("\n".join(lines) + "\n")
    topic = unique("topic")
    source, sink = unique("src"), unique("sink")

    created = call(
        "PUT",
        f"{connect_url}/connectors/{source}/config",
        {"connector.class": SOURCE, "file": str(source_file), "topic": topic, "tasks.max": "1"},
    )
    assert created.status == 201, created.body
    created = call(
        "PUT",
        f"{connect_url}/connectors/{sink}/config",
        {"connector.class": SINK, "file": str(sink_file), "topics": topic, "tasks.max": "1"},
    )
    assert created.status == 201, created.body

    def all_arrived() -> bool:
        return sink_file.is_file() and len(sink_file.read_text().splitlines()) >= len(lines)

    poll_until(all_arrived, 90, f"{len(lines)} lines in {sink_file}")
    # The auto-created topic has several partitions, so order is kept per partition only.
    assert sorted(sink_file.read_text().splitlines()) == sorted(lines)
    for name in (source, sink):
        assert call("DELETE", f"{connect_url}/connectors/{name}").status == 204


def test_pause_resume_stop_restart_and_offsets(connect_url: str, unique: Callable[[str], str], data_dir: Path) -> None:
    name = unique("life")
    source_file = data_dir / "life.txt"
    source_file.write_text("a\nb\nc\n")
    config = {"connector.class": SOURCE, "file": str(source_file), "topic": unique("topic"), "tasks.max": "1"}
    assert call("PUT", f"{connect_url}/connectors/{name}/config", config).status == 201
    poll_until(_in_state(connect_url, name, "RUNNING"), 60, f"{name} RUNNING")

    assert call("PUT", f"{connect_url}/connectors/{name}/pause").status == 202
    poll_until(_in_state(connect_url, name, "PAUSED"), 60, f"{name} PAUSED")
    assert call("PUT", f"{connect_url}/connectors/{name}/resume").status == 202
    poll_until(_in_state(connect_url, name, "RUNNING"), 60, f"{name} RUNNING after resume")

    # Nothing has failed, so onlyFailed restarts nothing: everything stays RUNNING.
    only_failed = call("POST", f"{connect_url}/connectors/{name}/restart?includeTasks=true&onlyFailed=true")
    assert only_failed.status == 202, only_failed.body
    assert only_failed.body["connector"]["state"] == "RUNNING"
    assert [t["state"] for t in only_failed.body["tasks"]] == ["RUNNING"]

    restarted = call("POST", f"{connect_url}/connectors/{name}/restart?includeTasks=true&onlyFailed=false")
    assert restarted.status == 202, restarted.body
    assert restarted.body["connector"]["state"] == "RESTARTING"
    assert [t["state"] for t in restarted.body["tasks"]] == ["RESTARTING"]
    poll_until(_in_state(connect_url, name, "RUNNING"), 60, f"{name} RUNNING after restart")

    assert call("PUT", f"{connect_url}/connectors/{name}/stop").status == 204
    poll_until(_in_state(connect_url, name, "STOPPED", tasks=0), 60, f"{name} STOPPED with no tasks")

    def offsets_recorded() -> list[dict[str, Any]] | None:
        answer = call("GET", f"{connect_url}/connectors/{name}/offsets")
        return answer.body["offsets"] if answer.status == 200 and answer.body["offsets"] else None

    offsets = poll_until(offsets_recorded, 30, f"{name} offsets")
    assert offsets[0]["partition"] == {"filename": str(source_file)}
    assert offsets[0]["offset"]["position"] == len("a\nb\nc\n")
    assert call("DELETE", f"{connect_url}/connectors/{name}").status == 204
    poll_until(lambda: call("GET", f"{connect_url}/connectors/{name}/status").status == 404, 30, f"{name} gone")
