"""Rack awareness, the deciding half: which worker Pod needs its rack, and what the rack is.

Workers have no Kubernetes API access, so they cannot read their Node. The operator reads it for
them and copies the label into a Pod annotation, which the init container reads through a
downward-API volume. A Pod waits (its init step polls, then fails and is restarted) until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connect_operator.render import names


@dataclass(frozen=True)
class ReadNode:
    """The Pod is scheduled and has no rack yet: read this Node's label."""

    node: str
    topology_key: str


@dataclass(frozen=True)
class Annotate:
    """Give the Pod its rack."""

    value: str

    def patch(self) -> dict[str, Any]:
        return {"metadata": {"annotations": {names.RACK_ANNOTATION: self.value}}}


@dataclass(frozen=True)
class Unresolved:
    """The Node cannot tell the rack; the Pod waits. `message` is for the KafkaConnect's Events."""

    node: str
    topology_key: str
    message: str


def next_step(annotations: Mapping[str, str], node_name: str | None) -> ReadNode | None:
    """What to do for a worker Pod; None: nothing (not rack-aware, not scheduled yet, or already done).

    A rack once given is kept: the init container has already written it into the worker's config.
    """
    topology_key = annotations.get(names.RACK_KEY_ANNOTATION)
    if not topology_key or not node_name or annotations.get(names.RACK_ANNOTATION):
        return None
    return ReadNode(node_name, topology_key)


def resolve(step: ReadNode, node_labels: Mapping[str, str] | None, pod: str) -> Annotate | Unresolved:
    """The rack from the Node's labels (None: the Node does not exist)."""
    if node_labels is None:
        return Unresolved(step.node, step.topology_key, f"Pod {pod} is bound to Node {step.node}, which is gone")
    value = node_labels.get(step.topology_key, "")
    if value:
        return Annotate(value)
    return Unresolved(
        step.node,
        step.topology_key,
        f"Node {step.node} has no label {step.topology_key}, so Pod {pod} has no rack and waits (its init "
        "container retries); label the Node, or set spec.rack.topologyKey to a label the Nodes have",
    )
