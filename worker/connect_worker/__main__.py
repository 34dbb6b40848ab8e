"""`python -m connect_worker`: provision the runtime, or run a local broker and Connect cluster."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from connect_worker import broker, podinit, runtime, settings
from connect_worker.errors import WorkerError
from connect_worker.testbed import Testbed


def _fetch(args: argparse.Namespace) -> int:
    cache = Path(args.cache_dir) if args.cache_dir else settings.cache_dir()
    started = time.monotonic()
    connect = runtime.fetch(cache)
    print(f"Connect runtime: {connect.describe()}")
    if not args.no_broker:
        print(f"Local broker:    {broker.fetch_binary(cache)}")
    print(f"Ready in {time.monotonic() - started:.1f} s (cache {cache})")
    return 0


def _show(args: argparse.Namespace) -> int:
    cache = Path(args.cache_dir) if args.cache_dir else settings.cache_dir()
    print(runtime.locate(cache, settings.kafka_home()).describe())
    return 0


def _testbed(args: argparse.Namespace) -> int:
    cache = Path(args.cache_dir) if args.cache_dir else settings.cache_dir()
    work_dir = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="kco-testbed-"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started = time.monotonic()
    with Testbed(
        work_dir,
        cache,
        kafka_home=settings.kafka_home(),
        bootstrap_servers=args.bootstrap_servers,
        workers=args.workers,
        group_id=args.group_id,
    ) as bed:
        print(bed.addresses())
        print(f"Ready in {time.monotonic() - started:.1f} s; logs in {work_dir}. Ctrl-C stops everything.", flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        print("Stopping...", flush=True)
    return 0


def _init(args: argparse.Namespace) -> int:
    request = podinit.InitRequest(
        template=Path(args.template),
        output=Path(args.output),
        plugin_dir=Path(args.plugin_dir),
        plugins_json=args.plugins,
        plugin_cache_dir=Path(args.plugin_cache_dir) if args.plugin_cache_dir else None,
        trust=[Path(p) for p in args.trust],
        truststore=Path(args.truststore) if args.truststore else None,
        client_cert=Path(args.client_cert) if args.client_cert else None,
        client_key=Path(args.client_key) if args.client_key else None,
        keystore=Path(args.keystore) if args.keystore else None,
        rest_tls=_rest_tls(args),
        env=dict(os.environ),
        rack_file=Path(args.rack_file) if args.rack_file else None,
        rack_timeout=args.rack_timeout,
    )
    # The init container's log is what `kubectl logs` shows while it waits for its rack.
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        final = podinit.run(request)
    except WorkerError as exc:
        if args.termination_message_path:
            # What the kubelet puts in the container's terminated state, where the operator reads it.
            podinit.write_termination_message(Path(args.termination_message_path), exc)
        raise
    print(f"Wrote {args.output} ({len(final)} properties); advertised host {final['rest.advertised.host.name']}")
    return 0


def _rest_tls(args: argparse.Namespace) -> podinit.RestTls | None:
    paths = (args.rest_cert, args.rest_key, args.rest_ca, args.rest_keystore, args.rest_truststore)
    if not any(paths):
        return None
    if not all(paths):
        raise SystemExit("--rest-cert, --rest-key, --rest-ca, --rest-keystore and --rest-truststore go together")
    cert, key, ca, keystore, truststore = (Path(p) for p in paths)
    return podinit.RestTls(cert, key, ca, keystore, truststore)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m connect_worker", description=__doc__)
    parser.add_argument(
        "--cache-dir", help=f"where runtimes are kept (default ${settings.CACHE_DIR_ENV} or ~/.cache/kco)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    runtime_parser = commands.add_parser("runtime", help="the Kafka Connect runtime")
    runtime_commands = runtime_parser.add_subparsers(dest="runtime_command", required=True)
    fetch = runtime_commands.add_parser("fetch", help="download and verify Connect 3.9.0 and the local broker")
    fetch.add_argument("--no-broker", action="store_true", help="skip the local broker binary")
    fetch.set_defaults(handler=_fetch)
    runtime_commands.add_parser("show", help="print the runtime that would be used").set_defaults(handler=_show)
    bed = commands.add_parser("testbed", help="run a local broker and a Connect cluster until Ctrl-C")
    bed.add_argument("--workers", type=int, default=2)
    bed.add_argument("--group-id", default="kco-dev")
    bed.add_argument("--bootstrap-servers", help="use this broker instead of starting a local one")
    bed.add_argument("--work-dir", help="where properties and logs go (default: a new temporary directory)")
    bed.set_defaults(handler=_testbed)
    init = commands.add_parser("init", help="a worker Pod's init step: plugins, PEM stores, final properties")
    init.add_argument("--template", required=True, help="worker.properties rendered by the operator")
    init.add_argument("--output", required=True, help="where the final worker.properties goes")
    init.add_argument("--plugin-dir", required=True, help="plugin.path")
    init.add_argument(
        "--plugin-cache-dir", help="where downloads are kept across restarts (default: <plugin-dir>-cache beside it)"
    )
    init.add_argument(
        "--termination-message-path",
        help="on failure, write the reason and message here (the container's terminationMessagePath)",
    )
    init.add_argument("--plugins", default="[]", help="JSON list of {name, artifacts: [{url, sha512, type}]}")
    init.add_argument("--trust", action="append", default=[], help="a PEM CA certificate to trust; repeatable")
    init.add_argument("--truststore", help="where the combined PEM truststore goes")
    init.add_argument("--client-cert", help="PEM client certificate (mutual TLS)")
    init.add_argument("--client-key", help="PEM client key (mutual TLS)")
    init.add_argument("--keystore", help="where the PEM keystore (key + certificate) goes")
    init.add_argument("--rest-cert", help="PEM certificate (chain) of the HTTPS REST listener")
    init.add_argument("--rest-key", help="PEM private key of the HTTPS REST listener")
    init.add_argument("--rest-ca", help="PEM CA certificates REST clients' certificates must chain to")
    init.add_argument("--rest-keystore", help="where the REST listener's PKCS#12 keystore goes")
    init.add_argument("--rest-truststore", help="where the REST listener's PKCS#12 truststore goes")
    init.add_argument("--rack-file", help="downward-API file of the Pod's rack annotation; wait for it")
    init.add_argument(
        "--rack-timeout",
        type=float,
        default=podinit.DEFAULT_RACK_TIMEOUT,
        help="seconds to wait for the rack before failing (default %(default).0f)",
    )
    init.set_defaults(handler=_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except WorkerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
