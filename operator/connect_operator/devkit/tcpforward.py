"""A TCP forward from an address Pods can reach to a loopback-only server (the kube-apiserver).

The apiserver stays on 127.0.0.1, where every other client of the devkit finds it; the node's kubelet,
kube-proxy and the Pods (through the `kubernetes` Service) reach it on the host's end of the node's
veth. Bytes pass through untouched: TLS is end to end.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class TcpForward:
    def __init__(self, listen: tuple[str, int], target: tuple[str, int]) -> None:
        self.listen, self.target = listen, target
        self._server = socket.create_server(listen, reuse_port=False)
        self._server.settimeout(0.5)
        self._stopping = threading.Event()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name=f"forward-{listen[1]}", daemon=True)

    def __enter__(self) -> TcpForward:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._server.close()
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                accepted, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                accepted.close()
                continue
            upstream.settimeout(None)
            accepted.settimeout(None)
            pair = _Pair(accepted, upstream)
            with self._lock:
                self._open.update((accepted, upstream))
            for source, sink in ((accepted, upstream), (upstream, accepted)):
                threading.Thread(target=self._pump, args=(pair, source, sink), daemon=True).start()

    def _pump(self, pair: _Pair, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)
            if pair.one_side_done():
                with self._lock:
                    self._open.difference_update(pair.sockets)
                for sock in pair.sockets:
                    sock.close()


class _Pair:
    """Both directions of one forwarded connection: the second pump to finish closes the sockets."""

    def __init__(self, *sockets: socket.socket) -> None:
        self.sockets = sockets
        self._pumps_left = 2
        self._lock = threading.Lock()

    def one_side_done(self) -> bool:
        with self._lock:
            self._pumps_left -= 1
            return self._pumps_left == 0
