"""Benchmark: the sync engine vs a plain parallel aiohttp PUT loop, on a real local Connect test bed.

Prints: time to all RUNNING for N connectors (engine and raw), REST calls per steady-state sync,
and the time from a spec change to its PUT. Run: `.venv/bin/python bench/engine_bench.py --connectors 50`.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import aiohttp

from connect_operator.connect.client import ConnectClient
from connect_operator.connect.errors import ConnectServerError, ConnectUnavailable
from connect_operator.engine import syncing
from connect_operator.engine.desired import DesiredConnector
from connect_operator.engine.memory import EngineMemory
from connect_operator.engine.observed import from_expanded
from connect_worker import settings
from connect_worker.testbed import Testbed

SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


def _desired(prefix: str, count: int, data_dir: Path, topic: str = "bench") -> dict[str, DesiredConnector]:
    return {
        f"{prefix}-{i}": DesiredConnector(
            name=f"{prefix}-{i}",
            class_name=SOURCE,
            tasks_max=1,
            config={"file": str(data_dir / f"{prefix}-{i}.txt"), "topic": topic},
        )
        for i in range(count)
    }


async def _all_running(client: ConnectClient, names: set[str]) -> bool:
    try:
        seen = from_expanded(await client.list_expanded())
    except (ConnectServerError, ConnectUnavailable):
        return False  # a worker restarting, or busy past the read's timeout: asked again
    return all(n in seen and seen[n].is_healthy_running and seen[n].tasks for n in names)


async def raw_loop(url: str, desired: dict[str, DesiredConnector], concurrency: int) -> tuple[float, float, int]:
    """PUT every config with bounded parallelism, retrying 409/5xx as a careful script would."""
    started = time.monotonic()
    limit = asyncio.Semaphore(concurrency)
    requests = 0
    async with aiohttp.ClientSession() as session:

        async def put(want: DesiredConnector) -> None:
            nonlocal requests
            async with limit:
                while True:
                    requests += 1
                    try:
                        async with session.put(
                            f"{url}/connectors/{want.name}/config",
                            json=want.full_config,
                            timeout=aiohttp.ClientTimeout(total=120),
                        ) as answer:
                            if answer.status < 300:
                                return
                            body = await answer.text()
                            # A restarting worker answers 404 with no body until its REST resources are up.
                            starting = answer.status == 404 and not body
                            if answer.status != 409 and answer.status < 500 and not starting:
                                raise RuntimeError(f"{want.name}: HTTP {answer.status} {body}")
                    except (aiohttp.ClientConnectionError, TimeoutError):
                        pass  # a worker restarting: retried, as the operator retries it
                    await asyncio.sleep(0.5)

        await asyncio.gather(*(put(w) for w in desired.values()))
    puts_done = time.monotonic() - started
    async with ConnectClient(url) as client:
        while not await _all_running(client, set(desired)):  # noqa: ASYNC110 - polls a remote system
            await asyncio.sleep(0.5)
    return puts_done, time.monotonic() - started, requests


async def engine_loop(
    url: str, desired: dict[str, DesiredConnector], concurrency: int
) -> tuple[float, int, EngineMemory]:
    started = time.monotonic()
    memory: EngineMemory = {}
    async with ConnectClient(url) as client:
        while True:
            report = await syncing.sync(client, desired, memory, concurrency=concurrency)
            memory = report.memory
            if report.plan.action_count == 0 and await _all_running(client, set(desired)):
                return time.monotonic() - started, client.stats.total_calls, memory
            await asyncio.sleep(0.5)


async def steady_and_change(
    url: str, desired: dict[str, DesiredConnector], memory: EngineMemory, syncs: int
) -> tuple[list[int], float, float]:
    async with ConnectClient(url) as client:
        calls = []
        for _ in range(syncs):
            report = await syncing.sync(client, desired, memory)
            memory = report.memory
            calls.append(report.rest_calls)
        first = next(iter(desired))
        changed = dict(desired)
        changed[first] = DesiredConnector(
            **{**vars(desired[first]), "config": {**desired[first].config, "topic": "moved"}}
        )
        started = time.monotonic()
        report = await syncing.sync(client, changed, memory)
        put_route = "PUT /connectors/{name}/config (put)"
        assert client.stats.routes[put_route].calls == 1, "exactly one PUT for one changed connector"
        return calls, time.monotonic() - started, client.stats.routes[put_route].seconds


async def main_async(args: argparse.Namespace) -> None:
    work = Path(tempfile.mkdtemp(prefix="kco-bench-"))
    with Testbed(
        work, settings.cache_dir(), kafka_home=settings.kafka_home(), workers=2, group_id="bench-engine"
    ) as bed:
        raw_cluster = bed.new_cluster("bench-raw")
        raw_cluster.start(2)
        try:
            assert bed.cluster is not None
            engine_url, raw_url = bed.cluster.rest_urls[0], raw_cluster.rest_urls[0]
            n = args.connectors
            raw_puts, raw_running, raw_requests = await raw_loop(raw_url, _desired("raw", n, work), args.concurrency)
            desired = _desired("eng", n, work)
            eng_running, eng_calls, memory = await engine_loop(engine_url, desired, args.concurrency)
            steady, change_to_put, put_seconds = await steady_and_change(engine_url, desired, memory, args.syncs)
        finally:
            raw_cluster.stop()
    print(f"connectors: {n} on 2 workers, write concurrency {args.concurrency}")
    print(f"raw aiohttp loop: PUTs done {raw_puts:.1f} s, all RUNNING {raw_running:.1f} s, {raw_requests} requests")
    print(f"engine:           all RUNNING {eng_running:.1f} s, {eng_calls} REST calls (reads, validations, creates)")
    print(f"ratio engine/raw time to all RUNNING: {eng_running / raw_running:.2f}")
    print(f"steady state: REST calls per sync over {len(steady)} syncs: {steady} (max {max(steady)})")
    print(
        f"spec change → its PUT done: {change_to_put * 1000:.0f} ms for the whole sync "
        f"(read + validate + PUT), of which the PUT {put_seconds * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connectors", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--syncs", type=int, default=5, help="steady-state syncs to count")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
