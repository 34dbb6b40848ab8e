"""Whether a Connect group has settled, read from its workers' own logs."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

GENERATION = re.compile(r"Joined group at generation (\d+) ")
REBALANCING = re.compile(r"Rebalance started|SyncGroup failed|\(Re-\)joining group")


def settled_generation(worker_logs: Sequence[Path]) -> int | None:
    """The generation every worker last joined, when none has a rebalance under way since, else None.

    A worker stopped while its join is pending stays a member for good on the local broker (Tansu), which
    re-adds it after its LeaveGroup (Apache Kafka drops it after the rebalance timeout); and a connector's
    task may run on one worker while the other still waits for its SyncGroup. So a Pod is deleted only
    once the group is quiet, read from the workers' own logs."""
    generations = set()
    for log in worker_logs:
        joined, pending = None, False
        for line in log.read_text(errors="replace").splitlines():
            if found := GENERATION.search(line):
                joined, pending = int(found.group(1)), False
            elif REBALANCING.search(line):
                pending = True
        if joined is None or pending:
            return None
        generations.add(joined)
    return generations.pop() if len(generations) == 1 else None


def worker_logs(pods_dir: Path, namespace: str, pod_names: list[str]) -> list[Path]:
    """The Connect log of each worker Pod the pod runner runs."""
    return [pods_dir / namespace / name / "worker-8083.log" for name in pod_names]
