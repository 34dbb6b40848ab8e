"""Completion for `kubectl kco`: what comes next after the typed words, and Cobra's answer kubectl reads."""

from __future__ import annotations

import pytest

from connect_operator.kubectl import completion

pytestmark = pytest.mark.unit


def names() -> list[str]:
    return ["orders", "audit", "other"]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ([""], list(completion.VERBS)),
        (["re"], ["restart", "resume"]),
        (["pause", ""], ["orders", "audit", "other"]),
        (["restart", "--tasks", "o"], ["orders", "other"]),
        (["-n", "team-a", "stop", "a"], ["audit"]),  # a flag's value is not taken for the verb
        (["pause", "orders", ""], []),  # one name only
        (["offsets", ""], ["list", "reset"]),
        (["offsets", "reset", ""], ["orders", "audit", "other"]),
        (["completion", ""], ["bash", "zsh"]),
        (["status", "-o", ""], ["json", "table"]),
        (["status", "--c"], ["--context", "--cluster"]),
        (["restart", "orders", "--f"], ["--failed"]),
        (["status", ""], []),
    ],
)
def test_candidates(words: list[str], expected: list[str]) -> None:
    assert completion.candidates(words, names) == expected


def test_names_are_listed_only_where_a_name_is_due() -> None:
    asked: list[bool] = []

    def counting() -> list[str]:
        asked.append(True)
        return []

    completion.candidates(["status", ""], counting)
    completion.candidates([""], counting)
    assert asked == []


def test_the_answer_ends_with_the_no_file_directive() -> None:
    assert completion.cobra_answer(["list", "reset"]) == "list\nreset\n:4\n"
    assert completion.cobra_answer([]) == ":4\n"


@pytest.mark.parametrize("shell", completion.SHELLS)
def test_the_scripts_ask_the_plugin_itself(shell: str) -> None:
    script = completion.script(shell)
    assert "kubectl-kco __complete" in script
    assert ("complete -F" if shell == "bash" else "compdef") in script
