"""`kco dev`: a local broker, a 2-worker Connect cluster and the example pipeline, with a live status table."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from connect_operator.cli import main as cli
from connect_operator.cli import manifests, output
from connect_operator.connect.client import ConnectClient
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector, from_connector
from connect_operator.engine.planner import PlannerSettings
from connect_worker import settings
from connect_worker.errors import WorkerError
from connect_worker.testbed import Testbed

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "connectors"
# The example source reads this file, relative to the workers' working folder.
PIPELINE_INPUT = "pipeline-input.txt"
PIPELINE_OUTPUT = "pipeline-output.txt"


def run(args: argparse.Namespace) -> int:
    paths = [Path(p) for p in args.filename] if args.filename else [EXAMPLES]
    loaded = manifests.load(paths)
    desired = {item.connector.metadata.name: from_connector(item.connector) for item in loaded}
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="kco-dev-"))
    started = time.monotonic()
    try:
        with Testbed(work_dir, settings.cache_dir(), kafka_home=settings.kafka_home(), workers=args.workers) as bed:
            assert bed.cluster is not None
            print(bed.addresses())
            print(f"Workers ready in {time.monotonic() - started:.1f} s; logs in {work_dir}", flush=True)
            try:
                return asyncio.run(_live(bed.cluster.rest_urls[0], bed.cluster.work_dir, desired, once=args.once))
            except KeyboardInterrupt:
                print("\nStopping...", flush=True)
                return 0
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return cli.EXIT_USAGE


async def _live(url: str, pipeline_dir: Path, desired: dict[str, DesiredConnector], *, once: bool) -> int:
    feed = asyncio.create_task(_feed(pipeline_dir / PIPELINE_INPUT))
    try:
        async with ConnectClient(url) as client:
            report = await cli.apply(client, desired, PlannerSettings(), wait_seconds=120)
            memory = report.memory
            while True:
                report = await syncing.sync(client, desired, memory)
                memory = report.memory
                delivered = _count_lines(pipeline_dir / PIPELINE_OUTPUT)
                if sys.stdout.isatty() and not once:
                    print("\033[2J\033[H", end="")
                print(output.table(report.results))
                print(
                    f"\nPipeline: {delivered} lines delivered to {pipeline_dir / PIPELINE_OUTPUT}. Ctrl-C stops.",
                    flush=True,
                )
                if once and delivered and all(r.ready for r in report.results.values()):
                    return cli.EXIT_OK
                await asyncio.sleep(2.0)
    finally:
        feed.cancel()


async def _feed(path: Path) -> None:
    """Append a line a second, so the example pipeline always has something to carry."""
    number = 0
    while True:
        number += 1
        with path.open("a") as stream:
            stream.write(f"event {number} at {time.strftime('%H:%M:%S')}\n")
        await asyncio.sleep(1.0)


def _count_lines(path: Path) -> int:
    try:
        return sum(1 for _ in path.open())
    except OSError:
        return 0
