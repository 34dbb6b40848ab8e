"""Connect's version as GET / reports it, made comparable: the pure helper feature checks use."""

from __future__ import annotations

import pytest

from connect_operator.connect.models import ServerInfo, parse_version

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("3.9.0", (3, 9, 0)),
        ("3.9.1", (3, 9, 1)),
        ("4.1.0-rc1", (4, 1, 0)),  # a release candidate counts as its release
        ("7.7.1-ccs", (7, 7, 1)),  # a vendor suffix is dropped
        ("3.10", (3, 10)),
        (" 3.9.0\n", (3, 9, 0)),
        ("unknown", ()),
    ],
)
def test_parse_version_keeps_the_leading_numbers(text: str, parts: tuple[int, ...]) -> None:
    assert parse_version(text) == parts


def test_versions_compare_as_numbers_not_text() -> None:
    assert parse_version("3.10.0") > parse_version("3.9.1") >= (3, 9)
    assert parse_version("3.8.1") < (3, 9)


def test_server_info_reads_the_root_resource_answer() -> None:
    answer = {"version": "3.9.0", "commit": "a60e31147e6b01ee", "kafka_cluster_id": "abc"}
    info = ServerInfo.model_validate(answer)
    assert info.version_tuple() == (3, 9, 0) and info.commit == "a60e31147e6b01ee"
