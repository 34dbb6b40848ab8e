"""`kco import` as a user runs it: manifests on stdout, the report on stderr, exit 0, 1 or 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from connect_operator.cli.main import main

pytestmark = pytest.mark.unit

CONNECTOR = """\
apiVersion: kafka.strimzi.io/v1
kind: KafkaConnector
metadata:
  name: files
  labels: {strimzi.io/cluster: main}
spec:
  class: org.apache.kafka.connect.file.FileStreamSourceConnector
  tasksMax: 1
  autoRestart: {enabled: true, maxRestarts: 3}
  config: {file: /tmp/in, topic: t, batch.size: 2000}
"""


def _write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_exit_0_when_everything_is_carried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body = _write(tmp_path, "sink.json", json.dumps({"name": "sink", "config": {"connector.class": "C"}}))
    assert main(["import", "-f", _write(tmp_path, "c.yaml", CONNECTOR), "-f", body, "--cluster", "main"]) == 0
    out, err = capsys.readouterr()
    files, sink = yaml.safe_load_all(out)
    assert files["spec"]["config"] == {"file": "/tmp/in", "topic": "t", "batch.size": "2000"}
    assert files["spec"]["autoRestart"] == {"enabled": True, "maxRestarts": 3}
    assert sink["metadata"]["name"] == "sink" and sink["spec"]["cluster"] == "main"
    assert "not carried" not in err


def test_exit_1_and_a_report_line_per_field_not_carried(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = CONNECTOR.replace("tasksMax: 1", "tasksMax: 1\n  listOffsets: {toConfigMap: {name: x}}")
    assert main(["import", "-f", _write(tmp_path, "c.yaml", text)]) == 1
    out, err = capsys.readouterr()
    assert next(yaml.safe_load_all(out))["kind"] == "Connector"
    assert [line for line in err.splitlines() if "not carried" in line] == [
        "KafkaConnector files: not carried: spec.listOffsets: one-shot: use spec.offsets {id, action: list}"
    ]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("bad.yaml", "a: [", "cannot read"),
        ("list.yaml", "- a\n- b\n", "not a resource"),
        ("body.json", json.dumps({"name": "x", "config": {"connector.class": "C"}}), "--cluster"),
        ("noclass.json", json.dumps({"name": "x", "config": {"topics": "t"}}), "no connector class"),
    ],
)
def test_exit_2_when_an_input_is_not_understood(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    assert main(["import", "-f", _write(tmp_path, name, text)]) == 2
    assert message in capsys.readouterr().err


def test_a_folder_is_read_file_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "b.json", json.dumps({"name": "b", "config": {"connector.class": "C"}}))
    _write(tmp_path, "a.yaml", CONNECTOR)
    _write(tmp_path, "notes.txt", "not read")
    assert main(["import", "-f", str(tmp_path), "--cluster", "main"]) == 0
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(capsys.readouterr().out)] == ["files", "b"]
