"""Shell completion for `kubectl-kco` and for kubectl's own plugin completion (`kubectl_complete-kco`).

kubectl runs `kubectl_complete-kco ARGS...` with the words typed after `kubectl kco` and reads Cobra's
`__complete` answer: one candidate a line, then `:DIRECTIVE` (4: do not fall back to file names).
The scripts for bash and zsh ask the same function through `kubectl-kco __complete`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

NO_FILE_COMPLETION = 4
VERBS = ("status", "restart", "pause", "resume", "stop", "offsets", "completion")
OFFSETS_VERBS = ("list", "reset")
SHELLS = ("bash", "zsh")
# The verbs that name one Connector next.
NAMED = {"restart", "pause", "resume", "stop"}
GLOBAL_FLAGS = ("--kubeconfig", "--context", "-n", "--namespace", "-o", "--output")
FLAGS = {
    "status": ("-A", "--all-namespaces", "--cluster"),
    "restart": ("--tasks", "--failed"),
}
# Flags whose value is the next word: skipped when finding the verb and the positional arguments.
VALUED = {"--kubeconfig", "--context", "-n", "--namespace", "-o", "--output", "--cluster", "--timeout"}


def candidates(words: Sequence[str], names: Callable[[], list[str]]) -> list[str]:
    """What may come as the last of `words` (the word being typed, maybe empty); `names` lists Connectors."""
    *before, current = list(words) or [""]
    positional: list[str] = []
    skip = False
    for word in before:
        if skip:
            skip = False
        elif word in VALUED:
            skip = True
        elif not word.startswith("-"):
            positional.append(word)
    if skip:
        return ["json", "table"] if before[-1] in {"-o", "--output"} else []
    if current.startswith("-"):
        verb = positional[0] if positional else ""
        return [f for f in (*GLOBAL_FLAGS, *FLAGS.get(verb, ())) if f.startswith(current)]
    if not positional:
        options = list(VERBS)
    elif positional[0] == "completion" and len(positional) == 1:
        options = list(SHELLS)
    elif positional[0] == "offsets" and len(positional) == 1:
        options = list(OFFSETS_VERBS)
    elif (positional[0] in NAMED and len(positional) == 1) or (positional[0] == "offsets" and len(positional) == 2):
        options = names()
    else:
        options = []
    return [o for o in options if o.startswith(current)]


def cobra_answer(found: list[str]) -> str:
    return "\n".join([*found, f":{NO_FILE_COMPLETION}"]) + "\n"


_BASH = """# bash completion for kubectl-kco; source it: source <(kubectl-kco completion bash)
_kubectl_kco() {
    local IFS=$'\\n'
    local words=("${COMP_WORDS[@]:1:COMP_CWORD}")
    COMPREPLY=($(kubectl-kco __complete "${words[@]}" 2>/dev/null | grep -v '^:'))
}
complete -F _kubectl_kco kubectl-kco
"""

_ZSH = """#compdef kubectl-kco
# zsh completion for kubectl-kco; source it: source <(kubectl-kco completion zsh)
_kubectl_kco() {
    local -a found
    found=("${(@f)$(kubectl-kco __complete "${(@)words[2,CURRENT]}" 2>/dev/null | grep -v '^:')}")
    compadd -a found
}
compdef _kubectl_kco kubectl-kco
"""


def script(shell: str) -> str:
    return {"bash": _BASH, "zsh": _ZSH}[shell]
