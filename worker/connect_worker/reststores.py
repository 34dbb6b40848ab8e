"""PKCS#12 stores for Connect's HTTPS REST listener, from the PEM files of a kubernetes.io/tls Secret.

Kafka's own clients read PEM stores (`ssl.keystore.type=PEM`), but Connect's REST server and its
forwarding client hand the `listeners.https.ssl.*` settings to Jetty, which opens them with the JDK's
`KeyStore.getInstance(type)`: PKCS12 or JKS, never PEM. A truststore must carry Java's trusted-entry
attribute on each certificate, or the JDK loads it as empty; `serialize_java_truststore` writes that.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from connect_worker.errors import InitError

KEY_ALIAS = b"rest"


def keystore(key_pem: bytes, chain_pem: bytes, password: bytes, source: str) -> bytes:
    """The key (PKCS#1 or PKCS#8, as cert-manager and the operator write it) and its certificate chain."""
    key = _private_key(key_pem, source)
    chain = _certificates(chain_pem, source)
    protection = serialization.BestAvailableEncryption(password)
    return pkcs12.serialize_key_and_certificates(KEY_ALIAS, key, chain[0], chain[1:] or None, protection)


def truststore(ca_pem: bytes, password: bytes, source: str) -> bytes:
    """Every CA certificate of `ca_pem` as a trusted entry."""
    entries = [
        pkcs12.PKCS12Certificate(cert, f"ca-{index}".encode())
        for index, cert in enumerate(_certificates(ca_pem, source))
    ]
    return pkcs12.serialize_java_truststore(entries, serialization.BestAvailableEncryption(password))


_StorableKey = (
    rsa.RSAPrivateKey
    | dsa.DSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


def _private_key(pem: bytes, source: str) -> _StorableKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise InitError(f"{source}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, rsa.RSAPrivateKey | dsa.DSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise InitError(f"{source}: a {type(key).__name__} cannot go into a PKCS#12 keystore Java's TLS uses")
    return key


def _certificates(pem: bytes, source: str) -> list[x509.Certificate]:
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise InitError(f"{source}: no PEM certificate ({exc})") from exc
    return certificates
