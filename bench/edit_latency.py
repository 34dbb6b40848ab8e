"""Benchmark (goal 1): a Connector config edit → the new value in Connect's GET /connectors/<name>/config.

A settled 2-worker cluster on the local stack, the operator as its own process with `timeline.py`'s hooks.
Each edit is a merge patch of one Connector's `spec.config.topic`; the clock starts just before the
patch request is sent (so it includes the API write itself) and stops when a worker's GET shows the
value (polled every 10 ms on one keep-alive connection). Edits are spaced so each lands on a settled
cluster (the previous one RUNNING again). Prints each edit, p50/p95, and the split from the hooks:

  write→watch      the API write until kopf's watch stream delivers the event
  watch→handler    kopf's per-object worker and the Connector handler (its KafkaConnect read), until it wakes the loop
  handler→sync     the loop's debounce, and any sync already running
  sync→PUT         the sync until the PUT is sent: Kubernetes reads, the one GET of Connect, the validation
  PUT→visible      the PUT sent until a worker's GET shows the value, with Connect's refusals (409 during
                   a rebalance) and their retries; and, beside it, when the operator had Connect's answer

Run: `.venv/bin/python bench/edit_latency.py --edits 20`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchstack import Stack, dump, load, machine, wait

from connect_operator.api.v1alpha1 import GROUP, VERSION

NAMESPACE, CLUSTER = "bench-edit", "edit"
PHASES = (
    "write→watch",
    "watch→handler",
    "handler→sync",
    "sync→PUT",
    "  of which validate",
    "PUT→visible",
    "  PUT answered after",
)


class ConfigPoller:
    """GET /connectors/<name>/config on one keep-alive connection."""

    def __init__(self, url: str) -> None:
        parsed = urllib.parse.urlparse(url)
        self._connection = http.client.HTTPConnection(parsed.hostname or "", parsed.port or 80, timeout=5)

    def topic(self, name: str) -> str | None:
        try:
            self._connection.request("GET", f"/connectors/{name}/config")
            answer = self._connection.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()
            return None
        if answer.status != 200:
            return None
        value = json.loads(body).get("topic")
        return str(value) if value is not None else None

    def state(self, name: str) -> str | None:
        try:
            self._connection.request("GET", f"/connectors/{name}/status")
            answer = self._connection.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()
            return None
        if answer.status != 200:
            return None
        status = json.loads(body)
        states = {status["connector"]["state"], *(t["state"] for t in status.get("tasks") or [])}
        return "RUNNING" if states == {"RUNNING"} and status.get("tasks") else ",".join(sorted(states))


@dataclass(frozen=True)
class Edit:
    name: str
    written: float  # epoch s, before the patch request
    visible: float


def split(edit: Edit, lines: list[dict[str, Any]]) -> dict[str, float] | None:
    """Each phase's seconds for one edit, from the timeline's lines after its write."""
    after = [e for e in lines if e["at"] >= edit.written]

    def first(start: float, **match: Any) -> dict[str, Any] | None:
        return next((e for e in after if e["at"] >= start and all(e.get(k) == v for k, v in match.items())), None)

    watch = first(edit.written, what="watch", name=edit.name, type="MODIFIED")
    if watch is None:
        return None
    wake = first(watch["at"], what="wake", cluster=CLUSTER)
    if wake is None:
        return None
    sync = first(wake["at"], what="sync", cluster=CLUSTER)
    path = f"/connectors/{edit.name}/config"
    put = first(sync["at"], what="rest", method="PUT", path=path) if sync else None
    if sync is None or put is None:
        return None
    answers = [e for e in after if e["what"] == "rested" and e["path"] == path and e["at"] >= put["at"]]
    answered = next((e for e in answers if "error" not in e), None)
    if answered is None:
        return None
    validate = 0.0
    for sent in (e for e in after if e["what"] == "rest" and sync["at"] <= e["at"] <= put["at"]):
        if sent["path"].endswith("/config/validate"):
            done = first(sent["at"], what="rested", path=sent["path"])
            validate += (done["at"] - sent["at"]) if done else 0.0
    return {
        "write→watch": watch["at"] - edit.written,
        "watch→handler": wake["at"] - watch["at"],
        "handler→sync": sync["at"] - wake["at"],
        "sync→PUT": put["at"] - sync["at"],
        "  of which validate": validate,
        "PUT→visible": edit.visible - put["at"],
        "  PUT answered after": answered["at"] - put["at"],
        "refusals": float(sum(1 for e in answers if "error" in e and e["at"] <= answered["at"])),
    }


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--connectors", type=int, default=5, help="in the cluster; edits go round them")
    parser.add_argument("--spacing", type=float, default=6.0, help="seconds between an edit RUNNING and the next")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kco-edit-bench-"))
    (work / "data").mkdir()
    timeline = work / "timeline.jsonl"
    print(f"machine: {machine()}; {load()} at the start", flush=True)
    with Stack(work, (NAMESPACE,)) as stack:
        stack.start_operator(timeline)
        stack.apply_kafkaconnect(NAMESPACE, CLUSTER, replicas=2)
        wait(lambda: len(stack.worker_urls(NAMESPACE, CLUSTER)) == 2, 300, "two ready workers", 0.5)
        wait(lambda: stack.cluster_ready(NAMESPACE, CLUSTER), 120, "the KafkaConnect Ready", 0.5)
        names = [f"edit-{i}" for i in range(args.connectors)]
        for name in names:
            stack.create_connector(NAMESPACE, name, CLUSTER)
        wait(lambda: stack.ready_connectors(NAMESPACE) >= set(names), 300, "the Connectors Ready", 0.5)
        url = sorted(stack.worker_urls(NAMESPACE, CLUSTER))[0]
        poller = ConfigPoller(url)
        wait(lambda: all(poller.state(n) == "RUNNING" for n in names), 120, "all RUNNING in Connect", 0.5)
        time.sleep(5)  # let the joins' rebalances end: "a settled cluster", not a sync point
        print(f"settled: {len(names)} connectors RUNNING on 2 workers; polling {url}", flush=True)
        edits: list[Edit] = []
        for i in range(args.edits):
            name = names[i % len(names)]
            value = f"edited-{i}"
            written = time.time()
            stack.custom.patch_namespaced_custom_object(
                GROUP, VERSION, NAMESPACE, "connectors", name, {"spec": {"config": {"topic": value}}}
            )
            wait(lambda: poller.topic(name) == value, 60, f"edit {i} in Connect", 0.01)  # noqa: B023
            edits.append(Edit(name, written, time.time()))
            print(f"edit {i:2d} {name}: {edits[-1].visible - written:.3f} s", flush=True)
            wait(lambda: poller.state(name) == "RUNNING", 60, f"{name} RUNNING again", 0.05)  # noqa: B023
            # Connect answers a task config change with a rebalance (about 3 s here: the other worker learns
            # of it from its next heartbeat); a PUT sent during one waits for its end. The spacing lets the
            # next edit find a settled cluster, as the goal asks (--spacing 0 measures edits in a row).
            time.sleep(args.spacing)
        lines = [json.loads(line) for line in timeline.read_text().splitlines()]
    print(f"{load()} at the end")
    totals = [e.visible - e.written for e in edits]
    splits = [s for e in edits if (s := split(e, lines)) is not None]
    print(f"\nedit → new config in GET /connectors/<name>/config, {len(totals)} edits on a settled 2-worker cluster")
    print(
        f"p50 {statistics.median(totals):.3f} s   p95 {percentile(totals, 0.95):.3f} s   "
        f"min {min(totals):.3f} s   max {max(totals):.3f} s"
    )
    print(f"split (median / max over the {len(splits)} edits the timeline resolved):")
    figures: dict[str, Any] = {
        "p50": statistics.median(totals),
        "p95": percentile(totals, 0.95),
        "edits": totals,
        "split_median": {},
    }
    for phase in PHASES:
        values = [s[phase] for s in splits]
        if values:
            figures["split_median"][phase] = statistics.median(values)
            print(f"  {phase:20s} {statistics.median(values) * 1000:7.0f} ms  (max {max(values) * 1000:.0f} ms)")
    refusals = sum(s["refusals"] for s in splits)
    print(f"  PUTs refused by Connect (rebalance) and retried: {refusals:.0f}")
    figures["refusals"] = refusals
    dump(args.json, figures)


if __name__ == "__main__":
    main()
