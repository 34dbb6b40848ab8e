"""Single values: YAML scalars as the strings Connect keeps, placeholders, and names Kubernetes accepts."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from connect_operator.render.names import CONFIG_PROVIDERS

# Kubernetes object names for Connectors: a DNS-1123 label (lower case, digits, '-', at most 63).
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Strimzi's KubernetesSecretConfigProvider: ${secrets:<namespace>/<secret>:<key>}, the whole value.
_STRIMZI_SECRET = re.compile(r"^\$\{secrets:(?P<namespace>[^/:}]+)/(?P<secret>[^/:}]+):(?P<key>[^}]+)\}$")


class NotAScalar(ValueError):
    """A value Connect could not hold as one string (a map, or null)."""


def connect_string(value: object) -> str:
    """The string Connect would store for a YAML or JSON value, keeping its meaning.

    YAML 1.1 reads `true`, `3306` and `1.5e3` as typed values; Connect reads strings. A float is written
    in plain decimal (PyYAML's own repr would give `7.776e+09`, which Connect's Long parser refuses) and
    a whole float without its `.0`, since the number meant is the same. Lists become Connect's comma lists.
    """
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NotAScalar(f"{value} is not a number Connect can read")
        text = format(Decimal(repr(value)), "f")
        return text.removesuffix(".0") if text.endswith(".0") else text
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return ",".join(connect_string(item) for item in value)
    raise NotAScalar("null" if value is None else f"a {type(value).__name__}")


def refused_placeholder(text: str) -> str | None:
    """The provider of a placeholder this operator refuses in plain values (its own workers' providers)."""
    for provider in CONFIG_PROVIDERS:
        if f"${{{provider}:" in text:
            return provider
    return None


def strimzi_secret_ref(text: str) -> tuple[str, str, str] | None:
    """(namespace, Secret, key) of a whole-value Strimzi `${secrets:ns/name:key}` placeholder."""
    found = _STRIMZI_SECRET.match(text)
    return (found["namespace"], found["secret"], found["key"]) if found else None


def is_dns_label(name: str) -> bool:
    return bool(_DNS_LABEL.match(name))


def dns_name(name: str) -> str:
    """A DNS-1123 label for a connector name Kubernetes would refuse: lower case, runs of others as '-'."""
    safe = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:63].strip("-")
    return safe or "connector"
