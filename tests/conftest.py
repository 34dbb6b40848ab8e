"""Shared fixtures: one real broker and a 2-worker Connect cluster for the whole session."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

from connect_worker import settings
from connect_worker.testbed import Testbed

# The unit tier shares two cores with the JVMs and kubelets of the other tiers: hypothesis's 200 ms wall-clock
# deadline per example would measure that load, not the code under test.
hypothesis_settings.register_profile("kco", deadline=None)
hypothesis_settings.load_profile("kco")

_counter = itertools.count()


@pytest.fixture(scope="session")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    bed = Testbed(
        tmp_path_factory.mktemp("testbed"),
        settings.cache_dir(),
        kafka_home=settings.kafka_home(),
        workers=2,
        group_id="kco-test",
    )
    bed.start()
    try:
        yield bed
    finally:
        bed.stop()


@pytest.fixture(scope="session")
def connect_url(testbed: Testbed) -> str:
    assert testbed.cluster is not None
    return testbed.cluster.rest_urls[0]


@pytest.fixture
def unique(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names no other test uses: connectors and topics of one test never meet another's."""
    stem = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]

    def make(prefix: str) -> str:
        return f"{prefix}-{stem}-{next(_counter)}"

    return make


# Under pytest-xdist (`make test`, `--dist loadgroup`) tests are balanced across the processes by load, each
# process starting the session fixtures (test bed, control plane) its tests need; the images, the real node
# and kind share one process, as their session fixture (images built or found, a node, the chart) is costly.
# tryfirst: xdist's worker reads the groups in its own collection hook, which must come after this one.
_NODE_TIERS = {"images", "node", "kind"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.parent.name in _NODE_TIERS:
            item.add_marker(pytest.mark.xdist_group("node"))


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """xdist's controller, given a worker's test ids: under loadgroup each grouped one ends with its group.
    A pytest or xdist release that breaks that would split the node tier across processes without a word
    (two session nodes at once, each seeing the other's shims and namespaces): stop the run instead."""
    if node.config.getvalue("dist") != "loadgroup":
        return
    # The same test as pytest_collection_modifyitems: the folder the test file is in.
    ungrouped = [i for i in ids if Path(i.split("::")[0]).parent.name in _NODE_TIERS and not i.endswith("@node")]
    if ungrouped:
        raise pytest.UsageError(
            f"--dist loadgroup did not group the node tier (e.g. {ungrouped[0]}): this pytest-xdist does not "
            "work with this pytest; install the versions pyproject.toml allows (pip install -e '.[dev]')"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for name in ("testbed", "own_cluster", "control_plane", "pod_runner", "node_cluster"):
            holder = getattr(item, "funcargs", {}).get(name)
            if holder is not None and hasattr(holder, "logs"):
                report.sections.append((f"{name} logs", holder.logs()))
    return report


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A directory the Connect workers (same machine) can read and write FileStream files in."""
    return tmp_path
