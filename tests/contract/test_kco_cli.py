"""`kco` against real Connect: exit codes a CI pipeline can branch on, and output people can read."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from connect_operator.cli.main import EXIT_NOT_READY, EXIT_OK, EXIT_UNREACHABLE, EXIT_USAGE, main
from connect_worker import ports

pytestmark = pytest.mark.contract


def _manifest(folder: Path, name: str, topic: str, state: str = "running") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(
        f"""apiVersion: kco.dev/v1alpha1
kind: Connector
metadata:
  name: {name}
spec:
  cluster: local
  class: org.apache.kafka.connect.file.FileStreamSourceConnector
  state: {state}
  config:
    file: {folder / "in.txt"}
    topic: {topic}
"""
    )
    return path


def test_apply_diff_status_round_trip(
    connect_url: str, unique: Callable[[str], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = unique("cli")
    path = _manifest(tmp_path, name, "first")
    assert main(["diff", "-f", str(path), "--connect-url", connect_url]) == EXIT_NOT_READY
    assert "Create" in capsys.readouterr().out

    assert main(["apply", "-f", str(tmp_path), "--connect-url", connect_url, "--wait", "60"]) == EXIT_OK
    assert name in capsys.readouterr().out

    assert main(["diff", "-f", str(path), "--connect-url", connect_url]) == EXIT_OK
    assert "No differences." in capsys.readouterr().out

    _manifest(tmp_path, name, "second")
    assert main(["diff", "-f", str(path), "--connect-url", connect_url]) == EXIT_NOT_READY
    assert "topic: 'first' -> 'second'" in capsys.readouterr().out

    assert main(["status", "-f", str(path), "--connect-url", connect_url, "-o", "json"]) == EXIT_OK
    status = json.loads(capsys.readouterr().out)
    assert status[name]["state"] == "RUNNING" and status[name]["ready"] is True


def test_invalid_manifest_exits_2_naming_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "apiVersion: kco.dev/v1alpha1\nkind: Connector\nmetadata: {name: x}\nspec: {class: C, tasksMax: 0}\n"
    )
    assert main(["apply", "-f", str(bad), "--connect-url", "http://127.0.0.1:9"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{bad} (document 1): spec.tasksMax" in err


def test_a_plain_value_with_an_operator_provider_placeholder_exits_2_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The operator would refuse it (its workers configure `dir`), so `kco` does too, before any REST call."""
    peek = _manifest(tmp_path, "peek", "t")
    peek.write_text(peek.read_text().replace(f"file: {tmp_path / 'in.txt'}", "file: ${dir:/etc:hostname}"))
    assert main(["apply", "-f", str(peek), "--connect-url", "http://127.0.0.1:9"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"{peek} (document 1): spec.config.file: a plain value may not hold a config-provider placeholder" in err
    # A provider the operator's workers do not configure is not its business: on to Connect (unreachable).
    peek.write_text(peek.read_text().replace("${dir:/etc:hostname}", "${env:HOME}"))
    url = f"http://127.0.0.1:{ports.free_port()}"
    assert main(["status", "-f", str(peek), "--connect-url", url, "--connect-timeout", "1"]) == EXIT_UNREACHABLE


def test_unreachable_connect_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _manifest(tmp_path, "x", "t")
    url = f"http://127.0.0.1:{ports.free_port()}"
    assert main(["status", "-f", str(path), "--connect-url", url, "--connect-timeout", "1"]) == EXIT_UNREACHABLE
    assert "unreachable" in capsys.readouterr().err
