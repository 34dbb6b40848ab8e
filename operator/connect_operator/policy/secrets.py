"""One rule for every Secret the operator reads: what counts as missing, what as unreadable, what as invalid.

The shell (`kube.secrets`) reads; these values say what was found. Values are taken verbatim, because the
workers read the mounted files verbatim (Kafka's DirectoryConfigProvider): whatever the operator would
trim, a worker would send. So a value that could only be meant trimmed (a password ending with a line
break) is refused rather than normalised on one side. Messages name a Secret and a key, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

Problem = Literal["missing", "unreadable", "invalid"]


@dataclass(frozen=True)
class SecretRead:
    """One Secret as read from the API: its decoded values, or why there are none."""

    name: str
    uid: str = ""
    data: Mapping[str, bytes] = field(default_factory=dict)
    # None: read. "not found": no such Secret (404). Otherwise the API's refusal, e.g. "403 Forbidden".
    error: str | None = None

    @classmethod
    def not_found(cls, name: str) -> SecretRead:
        return cls(name, error="not found")


@dataclass(frozen=True)
class KeyProblem:
    kind: Problem
    # "Secret s not found", "Secret s has no key k", "Secret s cannot be read (403 Forbidden)",
    # "Secret s key k ends with a line break"
    detail: str


def value(read: SecretRead, key: str) -> bytes | KeyProblem:
    """The value of `key`, or the problem: no Secret or no key is `missing`; an API refusal is `unreadable`."""
    if read.error == "not found":
        return KeyProblem("missing", f"Secret {read.name} not found")
    if read.error is not None:
        return KeyProblem("unreadable", f"Secret {read.name} cannot be read ({read.error})")
    if key not in read.data:
        return KeyProblem("missing", f"Secret {read.name} has no key {key}")
    return read.data[key]


def text(read: SecretRead, key: str) -> str | KeyProblem:
    """`value` as UTF-8 text, verbatim (no whitespace stripped: the workers read the mounted file as it is)."""
    found = value(read, key)
    if isinstance(found, KeyProblem):
        return found
    try:
        return found.decode()
    except UnicodeDecodeError:
        return KeyProblem("unreadable", f"Secret {read.name} key {key} is not UTF-8 text")


def password(read: SecretRead, key: str) -> str | KeyProblem:
    """`text`, refused as `invalid` when it ends with a line break (CR or LF).

    `echo pw > file; kubectl create secret --from-file` leaves one. Both sides use the value as is (the
    workers through a `${dir:...}` placeholder, the operator's admin client the same bytes): a trailing
    line break would be part of the password for both, which is almost never what was meant, and
    trimming it on one side only let the operator authenticate while the workers could not.
    """
    found = text(read, key)
    if isinstance(found, KeyProblem):
        return found
    if found.endswith(("\n", "\r")):
        return KeyProblem(
            "invalid",
            f"Secret {read.name} key {key} ends with a line break, which the workers would send as part of "
            "the password",
        )
    return found
