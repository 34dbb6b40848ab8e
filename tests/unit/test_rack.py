"""Which worker Pods get a rack, and which: the deciding half of rack awareness, exhaustively."""

from __future__ import annotations

import pytest

from connect_operator.render import names, rack

pytestmark = pytest.mark.unit

KEY = "topology.kubernetes.io/zone"
AWARE = {names.RACK_KEY_ANNOTATION: KEY}


@pytest.mark.parametrize(
    ("annotations", "node", "expected"),
    [
        ({}, "n1", None),  # not rack-aware
        ({names.RACK_KEY_ANNOTATION: ""}, "n1", None),
        (AWARE, None, None),  # not scheduled yet
        (AWARE, "", None),
        ({**AWARE, names.RACK_ANNOTATION: "zone-a"}, "n1", None),  # done; the worker has read it
        (AWARE, "n1", rack.ReadNode("n1", KEY)),
        ({**AWARE, names.RACK_ANNOTATION: ""}, "n1", rack.ReadNode("n1", KEY)),
        ({names.RACK_KEY_ANNOTATION: "example.com/room", "other": "x"}, "n2", rack.ReadNode("n2", "example.com/room")),
    ],
)
def test_next_step(annotations: dict[str, str], node: str | None, expected: rack.ReadNode | None) -> None:
    assert rack.next_step(annotations, node) == expected


def test_the_nodes_label_becomes_the_pods_rack_annotation() -> None:
    outcome = rack.resolve(rack.ReadNode("n1", KEY), {KEY: "eu-west-1b", "other": "x"}, "w-0")
    assert outcome == rack.Annotate("eu-west-1b")
    assert isinstance(outcome, rack.Annotate)
    assert outcome.patch() == {"metadata": {"annotations": {"kco.dev/rack": "eu-west-1b"}}}


@pytest.mark.parametrize("labels", [{}, {KEY: ""}, {"topology.kubernetes.io/region": "eu"}])
def test_a_node_without_the_label_leaves_the_pod_waiting_with_a_message_naming_node_label_and_pod(
    labels: dict[str, str],
) -> None:
    outcome = rack.resolve(rack.ReadNode("n1", KEY), labels, "w-0")
    assert isinstance(outcome, rack.Unresolved)
    assert (outcome.node, outcome.topology_key) == ("n1", KEY)
    assert "Node n1 has no label topology.kubernetes.io/zone" in outcome.message
    assert "Pod w-0" in outcome.message and "spec.rack.topologyKey" in outcome.message


def test_a_node_that_is_gone_leaves_the_pod_waiting() -> None:
    outcome = rack.resolve(rack.ReadNode("n1", KEY), None, "w-0")
    assert isinstance(outcome, rack.Unresolved) and "Node n1, which is gone" in outcome.message
