"""`kubectl kco status | restart | pause | resume | stop | offsets list|reset | completion`.

Every verb edits the Connector resource (a new request id in spec.restart or spec.offsets, or
spec.state) and leaves the work to the operator; nothing here calls Connect's REST API.

Exit codes: 0 done; 1 not found, refused by the API server, or not honoured in time; 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from connect_operator.api.v1alpha1 import GROUP, VERSION
from connect_operator.kubectl import completion, kubeconfig, requests, table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PLURAL = "connectors"
# Its own name in managedFields, so an edit made with the plugin is told apart from the operator's and GitOps'.
FIELD_MANAGER = "kubectl-kco"
STATE_VERBS: dict[str, requests.State] = {"pause": "paused", "resume": "running", "stop": "stopped"}


class Refused(Exception):
    """The resource is missing, or the API server or this plugin refused the edit: exit 1."""


class Session:
    """The API client and the namespace the flags chose."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.api = kubeconfig.api_client(args.kubeconfig, args.context)
        self.namespace: str = args.namespace or kubeconfig.namespace(args.kubeconfig, args.context)
        self.custom = client.CustomObjectsApi(self.api)

    def get(self, name: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self.custom.get_namespaced_custom_object(  # type: ignore[assignment]
                GROUP, VERSION, self.namespace, PLURAL, name
            )
        except ApiException as exc:
            raise Refused(_refusal(exc, name, self.namespace)) from exc
        return found

    def patch(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            # A dict body is sent as a JSON merge patch: only the named fields change.
            done: dict[str, Any] = self.custom.patch_namespaced_custom_object(  # type: ignore[assignment]
                GROUP, VERSION, self.namespace, PLURAL, name, body, field_manager=FIELD_MANAGER
            )
        except ApiException as exc:
            raise Refused(_refusal(exc, name, self.namespace)) from exc
        return done

    def list(self, all_namespaces: bool) -> list[dict[str, Any]]:
        listed: dict[str, Any]
        try:
            if all_namespaces:
                listed = self.custom.list_cluster_custom_object(GROUP, VERSION, PLURAL)  # type: ignore[assignment]
            else:
                listed = self.custom.list_namespaced_custom_object(  # type: ignore[assignment]
                    GROUP, VERSION, self.namespace, PLURAL
                )
        except ApiException as exc:
            raise Refused(_refusal(exc, None, self.namespace)) from exc
        return list(listed["items"])


def _refusal(exc: ApiException, name: str | None, namespace: str) -> str:
    if exc.status == 404 and name:
        return f'connectors.kco.dev "{name}" not found in namespace {namespace}'
    try:
        message = json.loads(exc.body or "").get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return str(message or exc.reason)


def _new_id(obj: dict[str, Any]) -> str:
    return requests.new_request_id(datetime.now(UTC), secrets.token_hex(3), requests.used_ids(obj))


def _emit(args: argparse.Namespace, text: str, payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2) if args.output == "json" else text)


def _status(args: argparse.Namespace) -> int:
    session = Session(args)
    found = table.rows(session.list(args.all_namespaces), cluster=args.cluster)
    print(table.as_json(found) if args.output == "json" else table.table(found))
    return EXIT_OK


def _restart(args: argparse.Namespace) -> int:
    session = Session(args)
    request_id = _new_id(session.get(args.name))
    session.patch(args.name, requests.restart_patch(request_id, include_tasks=args.tasks, only_failed=args.failed))
    what = "connector and tasks" if args.tasks else "connector"
    scope = ", failed only" if args.failed else ""
    _emit(
        args,
        f"connector.kco.dev/{args.name} restart requested ({what}{scope}), id {request_id}",
        {"name": args.name, "namespace": session.namespace, "restart": request_id},
    )
    return EXIT_OK


def _state(args: argparse.Namespace) -> int:
    session = Session(args)
    want = STATE_VERBS[args.command]
    if requests.desired_state(session.get(args.name)) == want:
        note = f"connector.kco.dev/{args.name} already {want}"
    else:
        session.patch(args.name, requests.state_patch(want))
        note = f"connector.kco.dev/{args.name} {want}"
    _emit(args, note, {"name": args.name, "namespace": session.namespace, "state": want})
    return EXIT_OK


def _offsets(args: argparse.Namespace) -> int:
    session = Session(args)
    obj = session.get(args.name)
    if args.action == "reset" and (why := requests.offsets_reset_refusal(obj)):
        raise Refused(why)
    request_id = _new_id(obj)
    session.patch(args.name, requests.offsets_patch(request_id, args.action))
    if args.action == "reset":
        _emit(
            args,
            f"connector.kco.dev/{args.name} offsets reset requested, id {request_id}",
            {"name": args.name, "namespace": session.namespace, "offsets": request_id},
        )
        return EXIT_OK
    # The operator copies the offsets into status when it honours the list request: wait for that id.
    deadline = time.monotonic() + args.timeout
    while True:
        obj = session.get(args.name)
        status = obj.get("status") or {}
        if (status.get("handled") or {}).get("offsets") == request_id:
            break
        if time.monotonic() >= deadline:
            raise Refused(f"offsets list {request_id} not honoured within {args.timeout:g} s; is the operator running?")
        time.sleep(1.0)  # the operator's next pass; no watch for one read
    listed = list(status.get("offsets") or [])
    _emit(args, table.offsets_table(listed), {"name": args.name, "namespace": session.namespace, "offsets": listed})
    return EXIT_OK


def _completion(args: argparse.Namespace) -> int:
    print(completion.script(args.shell), end="")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
    common.add_argument("--context", help="kubeconfig context (default: the current one)")
    common.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    common.add_argument("-o", "--output", choices=["table", "json"], default="table")
    parser = argparse.ArgumentParser(
        prog="kubectl kco", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    verbs = parser.add_subparsers(dest="command", required=True)

    status = verbs.add_parser("status", parents=[common], help="Connectors: cluster, state, Ready reason, tasks")
    status.add_argument("-A", "--all-namespaces", action="store_true")
    status.add_argument("--cluster", help="only the Connectors of this KafkaConnect")
    status.set_defaults(handler=_status)

    restart = verbs.add_parser("restart", parents=[common], help="ask the operator for one restart")
    restart.add_argument("name")
    restart.add_argument("--tasks", action="store_true", help="restart the tasks too")
    restart.add_argument("--failed", action="store_true", help="only FAILED instances")
    restart.set_defaults(handler=_restart)

    for verb, state in STATE_VERBS.items():
        sub = verbs.add_parser(verb, parents=[common], help=f"set spec.state: {state}")
        sub.add_argument("name")
        sub.set_defaults(handler=_state)

    offsets = verbs.add_parser("offsets", help="list (into status) or reset a connector's offsets")
    offset_verbs = offsets.add_subparsers(dest="action", required=True)
    listing = offset_verbs.add_parser("list", parents=[common], help="ask for the offsets, print them from status")
    listing.add_argument("name")
    listing.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the operator (default 60)")
    reset = offset_verbs.add_parser("reset", parents=[common], help="reset them (needs state: stopped)")
    reset.add_argument("name")
    for sub in (listing, reset):
        sub.set_defaults(handler=_offsets)

    shells = verbs.add_parser("completion", help="print a shell completion script")
    shells.add_argument("shell", choices=completion.SHELLS)
    shells.set_defaults(handler=_completion, kubeconfig=None, context=None, namespace=None, output="table")
    return parser


def _names(words: list[str]) -> Callable[[], list[str]]:
    """Connector names for completion, in the namespace the typed flags choose; nothing on any error."""

    def flag(*names: str) -> str | None:
        hits = [words[i + 1] for i, w in enumerate(words[:-1]) if w in names]
        return hits[-1] if hits else None

    def listed() -> list[str]:
        try:
            kube, context = flag("--kubeconfig"), flag("--context")
            args = argparse.Namespace(kubeconfig=kube, context=context, namespace=flag("-n", "--namespace"))
            return sorted(o["metadata"]["name"] for o in Session(args).list(False))
        except Exception:  # completion must never print a traceback into the shell
            return []

    return listed


def complete(argv: list[str] | None = None) -> int:
    """`kubectl_complete-kco WORDS...` (kubectl's plugin completion); also `kubectl-kco __complete`."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["__complete"]:
        words = words[1:]
    print(completion.cobra_answer(completion.candidates(words, _names(words))), end="")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["__complete"]:
        return complete(words)
    try:
        args = build_parser().parse_args(words)
    except SystemExit as exc:  # argparse: 2 for bad usage, 0 for --help
        return int(exc.code or 0)
    try:
        code: int = args.handler(args)
        return code
    except Refused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except config.ConfigException as exc:
        print(f"error: kubeconfig: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
