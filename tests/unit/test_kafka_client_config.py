"""The operator's own Kafka client config for TLS and SASL clusters: every auth type, and no secret shown."""

from __future__ import annotations

from typing import Any

import pytest

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.policy import kafkaconnect as policy
from connect_operator.policy.secrets import SecretRead
from connect_operator.render import kafkaclient, workerconfig
from connect_operator.render.kafkaclient import SecretUse

pytestmark = pytest.mark.unit

CA1, CA2 = "-----BEGIN CERTIFICATE-----\nca1\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\nca2"
CERT, KEY = "-----BEGIN CERTIFICATE-----\nclient\n", "-----BEGIN PRIVATE KEY-----\nkey\n"
VALUES = {("ca", "ca.crt"): CA1, ("other-ca", "root.pem"): CA2, ("client", "tls.crt"): CERT}
# A trailing space is part of a password like any other character: passed on as it is.
VALUES |= {("client", "tls.key"): KEY, ("pw", "password"): "s3cr3t-pa55 "}
TLS = {"trustedCertificates": [{"secretName": "ca"}, {"secretName": "other-ca", "certificate": "root.pem"}]}
MTLS = {"type": "tls", "certificateAndKey": {"secretName": "client"}}


def spec(**fields: Any) -> KafkaConnectSpec:
    return KafkaConnectSpec.model_validate({"bootstrapServers": "kafka:9093", **fields})


def sasl(kind: str) -> dict[str, Any]:
    return {"type": kind, "username": "connect", "passwordSecret": {"secretName": "pw", "key": "password"}}


def test_plaintext_needs_no_secret() -> None:
    assert kafkaclient.secret_uses(spec()) == ()
    assert kafkaclient.admin_config(spec(), {}) == {"security.protocol": "PLAINTEXT"}


def test_tls_trusts_every_certificate_as_one_pem_bundle() -> None:
    assert kafkaclient.secret_uses(spec(tls=TLS)) == (
        SecretUse("ca", "ca.crt", "spec.tls.trustedCertificates[0]"),
        SecretUse("other-ca", "root.pem", "spec.tls.trustedCertificates[1]"),
    )
    assert kafkaclient.admin_config(spec(tls=TLS), VALUES) == {
        "security.protocol": "SSL",
        "ssl.ca.pem": CA1 + CA2 + "\n",
    }


@pytest.mark.parametrize("tls", [TLS, None])
def test_tls_client_authentication_passes_certificate_and_key_as_pem(tls: dict[str, Any] | None) -> None:
    config = kafkaclient.admin_config(spec(tls=tls, authentication=MTLS), VALUES)
    assert config["security.protocol"] == "SSL"
    assert (config["ssl.certificate.pem"], config["ssl.key.pem"]) == (CERT, KEY)
    assert ("ssl.ca.pem" in config) == (tls is not None), "without spec.tls: the system's CAs, as for the workers"
    uses = kafkaclient.secret_uses(spec(authentication=MTLS))
    assert uses == (
        SecretUse("client", "tls.crt", "spec.authentication.certificateAndKey"),
        SecretUse("client", "tls.key", "spec.authentication.certificateAndKey"),
    )


@pytest.mark.parametrize(
    ("kind", "mechanism"), [("scram-sha-256", "SCRAM-SHA-256"), ("scram-sha-512", "SCRAM-SHA-512"), ("plain", "PLAIN")]
)
@pytest.mark.parametrize(("tls", "protocol"), [(TLS, "SASL_SSL"), (None, "SASL_PLAINTEXT")])
def test_sasl_passes_mechanism_username_and_the_password_verbatim(
    kind: str, mechanism: str, tls: dict[str, Any] | None, protocol: str
) -> None:
    wanted = spec(tls=tls, authentication=sasl(kind))
    config = kafkaclient.admin_config(wanted, VALUES)
    assert config["security.protocol"] == protocol == workerconfig.worker_properties(wanted, "c")["security.protocol"]
    assert (config["sasl.mechanism"], config["sasl.username"], config["sasl.password"]) == (
        mechanism,
        "connect",
        "s3cr3t-pa55 ",
    )
    password = SecretUse("pw", "password", "spec.authentication.passwordSecret", password=True)
    assert password in kafkaclient.secret_uses(wanted)
    assert not any(k.startswith("ssl.certificate") or k == "ssl.key.pem" for k in config)


def test_the_admin_client_and_the_workers_agree_on_the_protocol_for_every_combination() -> None:
    for tls in (TLS, None):
        for auth in (None, MTLS, sasl("plain"), sasl("scram-sha-256"), sasl("scram-sha-512")):
            wanted = spec(tls=tls, authentication=auth)
            config = kafkaclient.admin_config(wanted, VALUES)
            assert config["security.protocol"] == workerconfig.worker_properties(wanted, "c")["admin.security.protocol"]


def test_every_needed_secret_key_is_what_the_builder_reads() -> None:
    wanted = spec(tls=TLS, authentication=MTLS)
    needed = {(u.secret, u.key) for u in kafkaclient.secret_uses(wanted)}
    kafkaclient.admin_config(wanted, {k: v for k, v in VALUES.items() if k in needed})
    for missing in needed:
        with pytest.raises(KeyError):
            kafkaclient.admin_config(wanted, {k: v for k, v in VALUES.items() if k in needed - {missing}})


def test_messages_name_secret_key_and_field_never_a_value() -> None:
    use = SecretUse("pw", "password", "spec.authentication.passwordSecret")
    absent = policy.kafka_secret_values([use], {"pw": SecretRead.not_found("pw")})
    assert absent == (
        "KafkaSecretMissing",
        "Secret pw not found (spec.authentication.passwordSecret); the operator and the workers need it to reach Kafka",
    )
    no_key = policy.kafka_secret_values([use], {"pw": SecretRead("pw", "uid", {"other": b"hunter2"})})
    assert isinstance(no_key, tuple)
    assert no_key[1].startswith("Secret pw has no key password (spec.authentication.passwordSecret)")
    assert "hunter2" not in no_key[1]


def test_redact_hides_every_secret_value_a_library_might_echo() -> None:
    config = kafkaclient.admin_config(spec(tls=TLS, authentication=sasl("plain")), VALUES)
    echoed = f"failed with password s3cr3t-pa55 and CA {config['ssl.ca.pem']}"
    redacted = kafkaclient.redact(echoed, config)
    assert "s3cr3t-pa55" not in redacted and "ca1" not in redacted
    assert "<sasl.password redacted>" in redacted and "<ssl.ca.pem redacted>" in redacted
    assert kafkaclient.redact("cannot reach Kafka at kafka:9093", config) == "cannot reach Kafka at kafka:9093"


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_sasl_password_ending_with_a_line_break_is_refused_naming_secret_key_and_field(ending: str) -> None:
    uses = kafkaclient.secret_uses(spec(authentication=sasl("scram-sha-512")))
    found = policy.kafka_secret_values(uses, {"pw": SecretRead("pw", "uid", {"password": f"hunter2{ending}".encode()})})
    assert found == (
        "KafkaSecretInvalid",
        "Secret pw key password ends with a line break, which the workers would send as part of the password "
        "(spec.authentication.passwordSecret); the operator and the workers need it to reach Kafka",
    )
    assert policy.kafka_secret_values(uses, {"pw": SecretRead("pw", "uid", {"password": b"hunter2 "})}) == {
        ("pw", "password"): "hunter2 "
    }


def test_pem_values_ending_with_a_newline_are_not_refused() -> None:
    uses = kafkaclient.secret_uses(spec(tls=TLS, authentication=MTLS))
    reads = {
        name: SecretRead(name, "uid", {key: value.encode() for (s, key), value in VALUES.items() if s == name})
        for name in ("ca", "other-ca", "client")
    }
    found = policy.kafka_secret_values(uses, reads)
    assert isinstance(found, dict) and found[("ca", "ca.crt")] == CA1
