"""What an import carried, what it could not, and why: the conversions return these, the CLI prints them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class NotUnderstood(ValueError):
    """An input whose shape is none of the known ones: nothing can be converted from it."""


@dataclass(frozen=True)
class Finding:
    """One field of the input: `dropped` when its meaning is lost, otherwise a note on how it was carried."""

    source: str  # e.g. "KafkaConnector my-source", "file.json"
    field: str  # the input's field, e.g. "spec.config.tasks.max"
    reason: str  # why, and what to do instead
    dropped: bool = True

    def line(self) -> str:
        kind = "not carried" if self.dropped else "note"
        return f"{self.source}: {kind}: {self.field}: {self.reason}"


@dataclass
class Converted:
    """The manifests made from one input document, and the findings on the way."""

    manifests: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def drop(self, source: str, path: str, reason: str) -> None:
        self.findings.append(Finding(source, path, reason))

    def note(self, source: str, path: str, reason: str) -> None:
        self.findings.append(Finding(source, path, reason, dropped=False))

    def extend(self, other: Converted) -> None:
        self.manifests.extend(other.manifests)
        self.findings.extend(other.findings)

    @property
    def anything_dropped(self) -> bool:
        return any(f.dropped for f in self.findings)
