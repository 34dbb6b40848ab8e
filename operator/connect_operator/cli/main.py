"""`kco apply | diff | status | dev | import`: Connector manifests synced to any Connect cluster.

Exit codes: 0 done and every connector ready (diff: no difference); 1 a connector is not ready,
invalid or failed (diff: differences); 2 bad manifests or arguments; 3 Connect unreachable.
import: 0 everything carried; 1 something not carried (listed on stderr); 2 an input not understood.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from connect_operator.cli import importer, manifests, output
from connect_operator.connect import errors
from connect_operator.connect.client import ConnectClient, Timeouts
from connect_operator.engine import actions as act
from connect_operator.engine import observed, planner, results, syncing
from connect_operator.engine.desired import DesiredConnector, from_connector
from connect_operator.engine.memory import EngineMemory
from connect_operator.engine.planner import PlannerSettings

EXIT_OK, EXIT_NOT_READY, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


def _desired(paths: list[str]) -> dict[str, DesiredConnector]:
    loaded = manifests.load(Path(p) for p in paths)
    return {d.name: d for d in (from_connector(item.connector) for item in loaded)}


def _client(args: argparse.Namespace) -> ConnectClient:
    return ConnectClient(args.connect_url, timeouts=Timeouts(connect=args.connect_timeout, read=args.read_timeout))


def converged(report: syncing.SyncReport, desired: Mapping[str, DesiredConnector]) -> bool:
    """Nothing left to do: no action planned, no write awaited, every valid connector in its desired state."""
    if report.plan.action_count or any(r.waiting for r in report.results.values()):
        return False
    for name, want in desired.items():
        result = report.results.get(name)
        if result is None or result.config_valid is False or result.errors:
            continue
        seen = report.observed.get(name)
        # A running connector shows no tasks until it has generated their configs.
        settling = (
            seen is None
            or seen.state != want.state
            or (want.state == "RUNNING" and not seen.tasks)
            or any(t.state in {"UNASSIGNED", "RESTARTING"} for t in seen.tasks)
        )
        if settling and not result.auto_restart_exhausted:
            return False
    return True


async def apply(
    client: ConnectClient,
    desired: Mapping[str, DesiredConnector],
    settings: PlannerSettings,
    wait_seconds: float,
    echo: bool = True,
) -> syncing.SyncReport:
    version = (await client.server_info()).version_tuple()
    memory: EngineMemory = {}
    deadline = time.monotonic() + wait_seconds
    while True:
        report = await syncing.sync(client, desired, memory, settings, server_version=version)
        memory = report.memory
        if echo:
            for name, result in sorted(report.results.items()):
                if result.actions or result.errors:
                    print(f"{name}: {output.notes(result)}", flush=True)
        if converged(report, desired) or time.monotonic() >= deadline:
            return report
        await asyncio.sleep(1.0)


async def _apply(args: argparse.Namespace) -> int:
    desired = _desired(args.filename)
    settings = PlannerSettings(unmanaged="delete" if args.prune else "ignore")
    async with _client(args) as client:
        report = await apply(client, desired, settings, args.wait)
    print(output.as_json(report.results) if args.output == "json" else output.table(report.results))
    ready = all(report.results[name].ready for name in desired if name in report.results)
    return EXIT_OK if ready and converged(report, desired) else EXIT_NOT_READY


async def _diff(args: argparse.Namespace) -> int:
    desired = _desired(args.filename)
    settings = PlannerSettings(unmanaged="delete" if args.prune else "ignore")
    async with _client(args) as client:
        seen = observed.from_expanded(await client.list_expanded())
    the_plan = planner.plan(desired, seen, {}, settings, time.time())
    changed = False
    for name, connector_plan in sorted(the_plan.connectors.items()):
        steps = [s for s in connector_plan.actions if not isinstance(s, act.Validate)]
        if not steps:
            continue
        changed = True
        print(f"{name}: {', '.join(act.describe(s) for s in steps)}")
        current = seen[name].config if name in seen else None
        for step in steps:
            if isinstance(step, act.Create | act.Update):
                for key in sorted(step.config.keys() | (current or {}).keys()):
                    before, after = (current or {}).get(key), step.config.get(key)
                    if before != after:
                        print(f"    {key}: {before!r} -> {after!r}")
    if not changed:
        print("No differences.")
    return EXIT_NOT_READY if changed else EXIT_OK


async def _status(args: argparse.Namespace) -> int:
    desired = _desired(args.filename) if args.filename else {}
    async with _client(args) as client:
        seen = observed.from_expanded(await client.list_expanded())
    settings = PlannerSettings(unmanaged="ignore" if desired else "report")
    the_plan = planner.plan(desired, seen, {}, settings, time.time())
    summary = results.summarise(the_plan, seen, {}, {})
    print(output.as_json(summary) if args.output == "json" else output.table(summary))
    return EXIT_OK if all(r.ready for r in summary.values()) else EXIT_NOT_READY


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kco", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_connect(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--connect-url", required=True, help="a Connect worker's REST URL, e.g. http://localhost:8083")
        sub.add_argument("--connect-timeout", type=float, default=3.0, help="seconds to connect (default 3)")
        sub.add_argument("--read-timeout", type=float, default=30.0, help="seconds to wait for an answer (default 30)")

    apply_parser = commands.add_parser("apply", help="make Connect match the manifests")
    apply_parser.add_argument("-f", "--filename", action="append", required=True, help="file or folder; repeatable")
    apply_parser.add_argument("--prune", action="store_true", help="delete connectors the manifests do not name")
    apply_parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for every connector to settle")
    apply_parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    with_connect(apply_parser)
    apply_parser.set_defaults(handler=_apply)

    diff_parser = commands.add_parser("diff", help="show what apply would change; exit 1 if anything")
    diff_parser.add_argument("-f", "--filename", action="append", required=True)
    diff_parser.add_argument("--prune", action="store_true")
    with_connect(diff_parser)
    diff_parser.set_defaults(handler=_diff)

    status_parser = commands.add_parser("status", help="connectors, their tasks and health")
    status_parser.add_argument("-f", "--filename", action="append", help="only the connectors these manifests name")
    status_parser.add_argument("-o", "--output", choices=["table", "json"], default="table")
    with_connect(status_parser)
    status_parser.set_defaults(handler=_status)

    dev_parser = commands.add_parser(
        "dev", help="the whole loop locally: broker, Kubernetes, operator, worker Pods, the example pipeline"
    )
    dev_parser.add_argument("-f", "--filename", action="append", help="manifests (default: examples/connectors)")
    dev_parser.add_argument("--workers", type=int, default=2)
    dev_parser.add_argument("--work-dir", help="where logs and pipeline files go (default: a new temporary folder)")
    dev_parser.add_argument("--once", action="store_true", help="print the status once the pipeline runs, then stop")
    dev_parser.add_argument(
        "--no-kube", action="store_true", help="no Kubernetes: a Connect cluster and the sync engine only"
    )
    dev_parser.add_argument(
        "--pod-runner",
        action="store_true",
        help="worker Pods as local processes (the pod runner), even where a real node could run",
    )
    dev_parser.set_defaults(handler=None)

    import_parser = commands.add_parser(
        "import", help="Strimzi, Confluent for Kubernetes or Connect REST definitions as kco.dev manifests"
    )
    import_parser.add_argument("-f", "--filename", action="append", required=True, help="file or folder; repeatable")
    import_parser.add_argument(
        "--cluster", help="the KafkaConnect for Connectors that name none (required for REST bodies)"
    )
    import_parser.set_defaults(handler=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "dev":
            from connect_operator.cli import dev  # the local stack is needed by `dev` only

            return dev.run(args)
        if args.command == "import":
            return importer.run(args.filename, args.cluster)
        code: int = asyncio.run(args.handler(args))
        return code
    except manifests.ManifestError as exc:
        print(f"error: invalid manifests:\n{exc}", file=sys.stderr)
        return EXIT_USAGE
    except errors.ConnectUnavailable as exc:
        print(f"error: Connect is unreachable: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
