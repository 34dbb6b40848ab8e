"""Local HTTP servers on 127.0.0.1 for plugin downloads: a folder served as files, and a forwarding proxy.

Each runs in a thread of its own and is shut down when its `with` block ends.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class ServedFolder:
    url: str
    root: Path
    requested: list[str] = field(default_factory=list)  # the paths asked for, in order


@dataclass
class ForwardProxy:
    url: str
    # The request targets it was asked for, in order: absolute URLs, as a client sends them to a proxy.
    requested: list[str] = field(default_factory=list)


@contextlib.contextmanager
def _serving(handler: Any, tls: tuple[Path, Path] | None = None) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@contextlib.contextmanager
def serve_folder(root: Path, tls: tuple[Path, Path] | None = None) -> Iterator[ServedFolder]:
    """`tls`: (certificate, key) files to serve HTTPS with."""
    root.mkdir(parents=True, exist_ok=True)
    served = ServedFolder("", root)

    class Files(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server dispatches to
            served.requested.append(self.path)
            super().do_GET()

        def log_message(self, *_: Any) -> None:  # the test's output, not the server's access log
            pass

    with _serving(functools.partial(Files, directory=str(root)), tls) as url:
        served.url = url
        yield served


@contextlib.contextmanager
def forward_proxy() -> Iterator[ForwardProxy]:
    """A plain-HTTP forward proxy: fetches each absolute URL it is asked for (itself without a proxy)."""
    proxy = ForwardProxy("")
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    class Forwarding(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # the name http.server dispatches to
            proxy.requested.append(self.path)
            try:
                with direct.open(self.path, timeout=10) as answer:
                    status, body = answer.status, answer.read()
            except urllib.error.HTTPError as exc:
                status, body = exc.code, b""
            except (urllib.error.URLError, ValueError) as exc:
                status, body = 502, str(exc).encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    with _serving(Forwarding) as url:
        proxy.url = url
        yield proxy
