"""The REST listener's certificates when the operator issues them: a CA of the cluster's own, one leaf.

One leaf serves every worker and the operator, as server and as client (both extended key usages): a
follower forwarding a write to the leader presents the same certificate the leader serves, and each
side accepts the other because it chains to the cluster's CA. Pods are replaced at will, so the leaf
names the Service, never a Pod; the workers' forwarding client does not check host names (it dials the
leader's Pod IP) and relies on the CA alone, which signs nothing but this one cluster's leaf.

`plan` decides, from what the two Secrets hold now and the time, what to write: nothing, a new leaf,
or a new CA and leaf. Keys are made here (randomness, no I/O); the shell only reads and writes Secrets.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from connect_operator.render import names

LEAF_LIFETIME = datetime.timedelta(days=90)
CA_LIFETIME = datetime.timedelta(days=3650)
# Renewed once two thirds of the lifetime have passed (cert-manager's default): a month of margin for a
# leaf, years for the CA, so an operator down for days still renews in time.
RENEW_AT_FRACTION = 2 / 3
# Clocks of the API server, the nodes and the operator may disagree: valid a little before it was made.
BACKDATE = datetime.timedelta(minutes=5)

CA_CERT, CA_KEY = names.REST_CA_CERT, names.REST_CA_KEY
TLS_CERT, TLS_KEY = names.REST_TLS_CERT, names.REST_TLS_KEY


@dataclass(frozen=True)
class Issued:
    """What the two Secrets should hold: the CA (never mounted) and the leaf with the CA's certificate."""

    ca: dict[str, bytes]
    leaf: dict[str, bytes]


def rotation_due(not_before: datetime.datetime, not_after: datetime.datetime, now: datetime.datetime) -> bool:
    """True once two thirds of [not_before, not_after] have passed, or before it starts (a clock jumped back)."""
    if now < not_before or now >= not_after:
        return True
    return now >= not_before + (not_after - not_before) * RENEW_AT_FRACTION


def service_names(service: str, namespace: str) -> tuple[str, ...]:
    """Every name a client inside the cluster may dial the Service by."""
    return (service, f"{service}.{namespace}", f"{service}.{namespace}.svc", f"{service}.{namespace}.svc.cluster.local")


def plan(
    ca: Mapping[str, bytes] | None,
    leaf: Mapping[str, bytes] | None,
    names: tuple[str, ...],
    now: datetime.datetime,
) -> Issued | None:
    """None when both Secrets are current; otherwise what to write (a new CA makes a new leaf too)."""
    ca_pair = _pair(ca, CA_CERT, CA_KEY)
    if ca_pair is None or rotation_due(*_validity(ca_pair[0]), now):
        ca_pair = _issue_ca(names[0], now)
        return _issued(ca_pair, _issue_leaf(ca_pair, names, now))
    leaf_pair = _pair(leaf, TLS_CERT, TLS_KEY)
    if leaf_pair is None or not _current_leaf(leaf_pair[0], leaf or {}, ca_pair[0], names, now):
        return _issued(ca_pair, _issue_leaf(ca_pair, names, now))
    return None


def issue_leaf(
    ca: Mapping[str, bytes], names: tuple[str, ...], now: datetime.datetime, key: _Key | None = None
) -> dict[str, bytes]:
    """A leaf from the CA a Secret holds, valid from `now` (for `key`, else a new one): what `plan` writes."""
    pair = _pair(ca, CA_CERT, CA_KEY)
    if pair is None:
        raise ValueError("not a CA this module issued")
    return _issued(pair, _issue_leaf(pair, names, now, key)).leaf


def fingerprint(cert_pem: bytes) -> str:
    """SHA-256 of the leaf certificate's DER (public): in the config hash, so a new leaf rolls the workers."""
    try:
        der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    except ValueError:
        der = cert_pem
    return hashlib.sha256(der).hexdigest()


_Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
_Pair = tuple[x509.Certificate, _Key]


def _pair(data: Mapping[str, bytes] | None, cert_key: str, key_key: str) -> _Pair | None:
    """The certificate and key a Secret holds, None when absent or not what this module writes."""
    if not data or cert_key not in data or key_key not in data:
        return None
    try:
        cert = x509.load_pem_x509_certificate(data[cert_key])
        key = serialization.load_pem_private_key(data[key_key], password=None)
    except (ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) or key.public_key() != cert.public_key():
        return None
    return cert, key


def _validity(cert: x509.Certificate) -> tuple[datetime.datetime, datetime.datetime]:
    return cert.not_valid_before_utc, cert.not_valid_after_utc


def _current_leaf(
    cert: x509.Certificate,
    data: Mapping[str, bytes],
    ca: x509.Certificate,
    names: tuple[str, ...],
    now: datetime.datetime,
) -> bool:
    if rotation_due(*_validity(cert), now) or cert.issuer != ca.subject:
        return False
    if data.get(CA_CERT) != ca.public_bytes(serialization.Encoding.PEM):
        return False
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    return set(sans.get_values_for_type(x509.DNSName)) == set(names)


def _issue_ca(common_name: str, now: datetime.datetime) -> _Pair:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _common_name(f"{common_name} CA"))])
    cert = (
        _builder(name, name, key, now, CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _issue_leaf(ca: _Pair, names: tuple[str, ...], now: datetime.datetime, key: _Key | None = None) -> _Pair:
    ca_cert, ca_key = ca
    key = key or ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _common_name(names[0]))])
    cert = (
        _builder(subject, ca_cert.subject, key, now, LEAF_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return cert, key


def _common_name(text: str) -> str:
    # X.509 caps a common name at 64 characters; a KafkaConnect's name may be longer. Clients match the SANs.
    return text[:64]


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    key: _Key,
    now: datetime.datetime,
    life: datetime.timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + life)
    )


def _pem(pair: _Pair) -> tuple[bytes, bytes]:
    cert, key = pair
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def _issued(ca: _Pair, leaf: _Pair) -> Issued:
    ca_cert, ca_key = _pem(ca)
    leaf_cert, leaf_key = _pem(leaf)
    return Issued(
        ca={CA_CERT: ca_cert, CA_KEY: ca_key},
        leaf={TLS_CERT: leaf_cert, TLS_KEY: leaf_key, CA_CERT: ca_cert},
    )
