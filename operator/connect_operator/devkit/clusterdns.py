"""The cluster DNS of the local node: `<service>.<namespace>.svc.cluster.local` → the Service's ClusterIP.

No registry reachable here carries CoreDNS, so the devkit answers the one question Pods ask it: a
Service's name. It reads the Service from the apiserver (cached for a second) and answers A records
only; every other name gets NXDOMAIN at once (there is no upstream to forward to), AAAA gets an empty
answer so resolvers do not wait for it. UDP only, as glibc asks first and these answers are small.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_TYPE_A, _TYPE_AAAA, _CLASS_IN = 1, 28, 1
_NXDOMAIN, _NOERROR, _FORMERR = 3, 0, 1
_TTL_SECONDS = 5

ServiceLookup = Callable[[str, str], "list[str]"]
"""(namespace, service name) → its IPv4 addresses (the ClusterIP, or the endpoints of a headless one)."""


@dataclass(frozen=True)
class Question:
    query_id: int
    flags: int
    name: str
    qtype: int
    qclass: int
    raw_question: bytes


def parse(packet: bytes) -> Question:
    """The first question of a DNS query (RFC 1035 §4.1); ValueError when it is not one."""
    if len(packet) < 12:
        raise ValueError("shorter than a DNS header")
    query_id, flags, questions = struct.unpack("!HHH", packet[:6])
    if questions < 1:
        raise ValueError("no question")
    labels, offset = [], 12
    while True:
        if offset >= len(packet):
            raise ValueError("name runs past the packet")
        length = packet[offset]
        offset += 1
        if length == 0:
            break
        if length > 63:
            raise ValueError("compressed or oversized label in a question")
        labels.append(packet[offset : offset + length].decode("ascii", errors="replace"))
        offset += length
    if offset + 4 > len(packet):
        raise ValueError("question type and class missing")
    qtype, qclass = struct.unpack("!HH", packet[offset : offset + 4])
    return Question(query_id, flags, ".".join(labels).lower(), qtype, qclass, packet[12 : offset + 4])


def service_of(name: str, domain: str) -> tuple[str, str] | None:
    """(namespace, service) when `name` is `<service>.<namespace>.svc.<domain>`, else None."""
    suffix = f".svc.{domain}"
    if not name.endswith(suffix):
        return None
    parts = name[: -len(suffix)].split(".")
    return (parts[1], parts[0]) if len(parts) == 2 and all(parts) else None


def answer(question: Question, addresses: list[str] | None) -> bytes:
    """The response: A records for `addresses`; None means the name does not exist."""
    recursion_desired = question.flags & 0x0100
    code = _NXDOMAIN if addresses is None else _NOERROR
    records = addresses if question.qtype == _TYPE_A and question.qclass == _CLASS_IN else []
    flags = 0x8000 | 0x0400 | recursion_desired | code  # response, authoritative
    header = struct.pack("!HHHHHH", question.query_id, flags, 1, len(records or []), 0, 0)
    body = bytearray(header + question.raw_question)
    for address in records or []:
        # 0xC00C: a pointer to the name in the question, which starts right after the header.
        body += struct.pack("!HHHIH", 0xC00C, _TYPE_A, _CLASS_IN, _TTL_SECONDS, 4) + socket.inet_aton(address)
    return bytes(body)


def respond(packet: bytes, lookup: ServiceLookup, domain: str) -> bytes | None:
    try:
        question = parse(packet)
    except ValueError:
        if len(packet) >= 2:
            return struct.pack("!HHHHHH", struct.unpack("!H", packet[:2])[0], 0x8000 | _FORMERR, 0, 0, 0, 0)
        return None
    target = service_of(question.name, domain)
    if target is None:
        return answer(question, None)
    addresses = lookup(*target)
    return answer(question, addresses or None)


class ClusterDns:
    """`with ClusterDns(address, lookup):` serves on `address`:53/udp until the block ends."""

    def __init__(self, address: str, lookup: ServiceLookup, domain: str = "cluster.local", port: int = 53) -> None:
        self.address, self.port, self.domain = address, port, domain
        self._lookup = _Cached(lookup)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.bind((address, port))
        self._socket.settimeout(0.5)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="cluster-dns", daemon=True)
        self.queries = 0

    def __enter__(self) -> ClusterDns:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._socket.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                packet, peer = self._socket.recvfrom(512)
            except TimeoutError:
                continue
            except OSError:
                return
            self.queries += 1
            with contextlib.suppress(Exception):  # one bad lookup must not end the server
                response = respond(packet, self._lookup, self.domain)
                if response is not None:
                    self._socket.sendto(response, peer)


class _Cached:
    """A second of caching: a resolver asks for A and AAAA, over each search domain, in a burst."""

    def __init__(self, lookup: ServiceLookup, seconds: float = 1.0) -> None:
        self._lookup, self._seconds = lookup, seconds
        self._entries: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def __call__(self, namespace: str, name: str) -> list[str]:
        now = time.monotonic()
        cached = self._entries.get((namespace, name))
        if cached and now - cached[0] < self._seconds:
            return cached[1]
        addresses = self._lookup(namespace, name)
        self._entries[(namespace, name)] = (now, addresses)
        return addresses
