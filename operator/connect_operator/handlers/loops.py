"""What the per-cluster sync loops and the Connector handlers share: wakes, and deletions done in Connect.

Everything here lives on kopf's one event loop, so plain dicts and asyncio events need no locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass
class Loops:
    """What the sync loops and the Connector handlers share (one event loop: kopf's)."""

    wakers: dict[str, asyncio.Event] = field(default_factory=dict)
    # "namespace/cluster" → names in Connect whose Connector may drop its finalizer: deleted from Connect.
    deleted: dict[str, set[str]] = field(default_factory=dict)
    # Set (and replaced) each time a sync adds to `deleted`, so the delete handlers waiting look again.
    _deletions: dict[str, asyncio.Event] = field(default_factory=dict)

    def wake(self, namespace: str, cluster: str) -> None:
        self.wakers.setdefault(f"{namespace}/{cluster}", asyncio.Event()).set()

    def mark_deleted(self, key: str, names: Iterable[str]) -> None:
        self.deleted.setdefault(key, set()).update(names)
        if signal := self._deletions.pop(key, None):
            signal.set()

    def take_deleted(self, key: str, name: str) -> bool:
        """Whether a sync deleted `name` from Connect (once: a Connector of that name made later starts over)."""
        if name in self.deleted.get(key, ()):
            self.deleted[key].discard(name)
            return True
        return False

    async def wait_deleted(self, key: str, name: str, within: float, rewake_every: float = 5.0) -> bool:
        """Await a sync deleting `name`, waking the loop again now and then; False after `within` seconds.
        Awaited, not retried: a mass delete of Connectors then costs no API call per Connector per retry."""
        namespace, cluster = key.split("/", 1)
        deadline = asyncio.get_running_loop().time() + within
        while not self.take_deleted(key, name):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                return False
            self.wake(namespace, cluster)
            signal = self._deletions.setdefault(key, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(signal.wait(), timeout=min(left, rewake_every))
        return True
