"""The init step's key conversion for Kafka's PEM keystore: PKCS#1 RSA keys become PKCS#8, others refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization

from connect_worker import pemkeys
from connect_worker.errors import InitError
from tests.support import keys

pytestmark = pytest.mark.unit


def test_a_pkcs1_rsa_key_becomes_exactly_the_pkcs8_encoding_of_the_same_key() -> None:
    key = keys.rsa_key()
    converted = pemkeys.to_pkcs8(keys.key_pem(key, "pkcs1"), "tls.key")
    # Byte for byte what a PKCS#8 serialiser makes of the key: same key, the form Kafka's loader reads.
    assert converted == keys.key_pem(key, "pkcs8")
    loaded = serialization.load_pem_private_key(converted.encode(), None)
    assert loaded.private_numbers() == key.private_numbers()  # type: ignore[union-attr]


def test_pkcs8_keys_and_certificates_pass_unchanged() -> None:
    key = keys.rsa_key()
    plain, cert = keys.key_pem(key, "pkcs8"), keys.self_signed(key)
    encrypted = keys.key_pem(key, "pkcs8", password=b"pw")
    assert pemkeys.to_pkcs8(plain, "tls.key") == plain
    assert pemkeys.to_pkcs8(encrypted, "tls.key") == encrypted
    # Text around the blocks (openssl's "Bag Attributes") is dropped; the blocks stay in order.
    assert pemkeys.to_pkcs8(f"Bag Attributes\n{cert}{plain}", "tls.key") == cert + plain


@pytest.mark.parametrize(
    ("pem", "names"),
    [
        (lambda: keys.key_pem(keys.rsa_key(), "pkcs1", password=b"pw"), "an encrypted PKCS#1 key"),
        (lambda: keys.key_pem(keys.ec_key(), "pkcs1"), "a EC PRIVATE KEY block"),
    ],
)
def test_legacy_keys_it_cannot_convert_are_refused_naming_file_and_form(pem: object, names: str) -> None:
    with pytest.raises(InitError) as refused:
        pemkeys.to_pkcs8(pem(), "/mnt/kco/kafka-auth/client/tls.key")  # type: ignore[operator]
    assert str(refused.value).startswith(f"/mnt/kco/kafka-auth/client/tls.key holds {names}")
    assert "PKCS#8" in str(refused.value)


def test_a_keystore_needs_exactly_one_private_key() -> None:
    key = keys.rsa_key()
    with pytest.raises(InitError, match="holds 0 private keys"):
        pemkeys.to_pkcs8(keys.self_signed(key), "tls.key")
    with pytest.raises(InitError, match="holds 2 private keys"):
        pemkeys.to_pkcs8(keys.key_pem(key, "pkcs8") * 2, "tls.key")
