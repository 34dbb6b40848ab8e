"""Reading topics back in tests."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer


def read_all(bootstrap: str, topic: str, want: int, timeout: float = 60) -> list[Any]:
    """Every message of `topic`, read until `want` have come and the topic stays quiet for a second."""
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": f"reader-{topic}-{time.time()}", "auto.offset.reset": "earliest"}
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    deadline, quiet_since = time.monotonic() + timeout, None
    try:
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
                quiet_since = None
            elif len(messages) >= want:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 1.0:
                    break
    finally:
        consumer.close()
    return messages
