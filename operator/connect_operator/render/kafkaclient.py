"""The operator's own Kafka client config (the AdminClient that ensures the internal topics), TLS and SASL.

The workers read Secrets from mounted files; the operator reads them from the Kubernetes API and hands
librdkafka PEM text directly (ssl.ca.pem, ssl.certificate.pem, ssl.key.pem), so nothing secret is ever
written to disk. Messages name a Secret and a key, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.render import workerconfig

# The config keys whose values come from Secrets: what `redact` hides.
SECRET_KEYS = frozenset({"ssl.ca.pem", "ssl.certificate.pem", "ssl.key.pem", "sasl.password"})


@dataclass(frozen=True)
class SecretUse:
    """One Secret key the admin client needs, and the spec field that references it (for messages)."""

    secret: str
    key: str
    field: str
    password: bool = False  # read by `policy.secrets.password`: refused with a trailing line break


def secret_uses(spec: KafkaConnectSpec) -> tuple[SecretUse, ...]:
    uses: list[SecretUse] = []
    if spec.tls:
        for i, cert in enumerate(spec.tls.trusted_certificates):
            uses.append(SecretUse(cert.secret_name, cert.certificate, f"spec.tls.trustedCertificates[{i}]"))
    auth = spec.authentication
    if auth is not None and auth.certificate_and_key is not None and auth.type == "tls":
        pair = auth.certificate_and_key
        uses.append(SecretUse(pair.secret_name, pair.certificate, "spec.authentication.certificateAndKey"))
        uses.append(SecretUse(pair.secret_name, pair.key, "spec.authentication.certificateAndKey"))
    if auth is not None and auth.password_secret is not None and auth.type != "tls":
        ref = auth.password_secret
        uses.append(SecretUse(ref.secret_name, ref.key, "spec.authentication.passwordSecret", password=True))
    return tuple(uses)


def problem_message(use: SecretUse, detail: str) -> str:
    """`detail` ("Secret s not found", ...) with the field that references it and why it matters."""
    return f"{detail} ({use.field}); the operator and the workers need it to reach Kafka"


def admin_config(spec: KafkaConnectSpec, values: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """librdkafka settings beyond bootstrap.servers; `values`: (Secret, key) → text, for every `secret_uses`."""
    config = {"security.protocol": workerconfig.security_protocol(spec)}
    if spec.tls and spec.tls.trusted_certificates:
        # librdkafka reads every certificate of a PEM bundle in ssl.ca.pem.
        config["ssl.ca.pem"] = "".join(
            values[(c.secret_name, c.certificate)].strip() + "\n" for c in spec.tls.trusted_certificates
        )
    auth = spec.authentication
    if auth is None:
        return config
    if auth.type == "tls" and auth.certificate_and_key is not None:
        pair = auth.certificate_and_key
        config["ssl.certificate.pem"] = values[(pair.secret_name, pair.certificate)]
        config["ssl.key.pem"] = values[(pair.secret_name, pair.key)]
    elif auth.type in workerconfig.SASL_MECHANISMS and auth.password_secret is not None:
        ref = auth.password_secret
        config["sasl.mechanism"] = workerconfig.SASL_MECHANISMS[auth.type]
        config["sasl.username"] = auth.username or ""
        # Verbatim: the workers' JAAS placeholder resolves to the file's exact bytes (see policy.secrets.password).
        config["sasl.password"] = values[(ref.secret_name, ref.key)]
    return config


def redact(text: str, config: Mapping[str, str]) -> str:
    """`text` (a client error, say) with any secret value of `config` replaced, should a library echo one."""
    for key in SECRET_KEYS:
        value = config.get(key, "").strip()
        if value:
            text = text.replace(value, f"<{key} redacted>")
    return text
