"""Private keys in the PEM form Kafka's Java PEM keystore reads: PKCS#8.

Kafka's `ssl.keystore.type=PEM` loader accepts only `BEGIN PRIVATE KEY` (PKCS#8) and `BEGIN ENCRYPTED
PRIVATE KEY`; librdkafka (the operator's admin client) also takes PKCS#1 `BEGIN RSA PRIVATE KEY`, which
is cert-manager's default RSA encoding. An unencrypted PKCS#1 key is the inner value of a PKCS#8 one,
so converting it is a re-wrapping of its DER bytes, with no cryptography library: the same key, the same
certificate, for both sides. Keys in any other legacy form are refused, naming the form.
"""

from __future__ import annotations

import base64
import binascii
import re

from connect_worker.errors import InitError

# AlgorithmIdentifier { rsaEncryption (1.2.840.113549.1.1.1), NULL }, as RFC 8017 A.1 has it.
_RSA_ALGORITHM = bytes.fromhex("300d06092a864886f70d0101010500")
_VERSION_0 = bytes.fromhex("020100")
_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_PKCS8_LABELS = frozenset({"PRIVATE KEY", "ENCRYPTED PRIVATE KEY"})


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _pem(label: str, der: bytes) -> str:
    text = base64.b64encode(der).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


def rsa_pkcs1_to_pkcs8(pkcs1_der: bytes) -> bytes:
    """PrivateKeyInfo { version 0, rsaEncryption, OCTET STRING { RSAPrivateKey } } (RFC 5208)."""
    return _tlv(0x30, _VERSION_0 + _RSA_ALGORITHM + _tlv(0x04, pkcs1_der))


def to_pkcs8(text: str, source: str) -> str:
    """`text` (a PEM file holding one private key) with that key as PKCS#8; other blocks kept as they are.

    `source` names the file in errors. An encrypted PKCS#1 key (`Proc-Type: 4,ENCRYPTED`) or an EC/DSA
    legacy key is refused: converting those needs the passphrase or the key's curve, and Kafka would not
    load them either.
    """
    converted: list[str] = []
    keys = 0
    for match in _BLOCK.finditer(text):
        label, body = match.group(1), match.group(2)
        if not label.endswith("PRIVATE KEY"):
            converted.append(match.group(0).strip() + "\n")
            continue
        keys += 1
        if label in _PKCS8_LABELS:
            converted.append(match.group(0).strip() + "\n")
        elif label == "RSA PRIVATE KEY" and "Proc-Type:" not in body:
            try:
                der = base64.b64decode("".join(body.split()), validate=True)
            except binascii.Error as exc:
                raise InitError(f"{source}: the RSA PRIVATE KEY block is not valid base64: {exc}") from exc
            if not der.startswith(b"\x30"):  # an RSAPrivateKey is a SEQUENCE
                raise InitError(f"{source}: the RSA PRIVATE KEY block is not a DER RSAPrivateKey")
            converted.append(_pem("PRIVATE KEY", rsa_pkcs1_to_pkcs8(der)))
        else:
            form = "an encrypted PKCS#1 key" if label == "RSA PRIVATE KEY" else f"a {label} block"
            raise InitError(
                f"{source} holds {form}, which Kafka's PEM keystore cannot load: store the key as PKCS#8 "
                "(BEGIN PRIVATE KEY; cert-manager: spec.privateKey.encoding: PKCS8)"
            )
    if keys != 1:
        raise InitError(f"{source} holds {keys} private keys: the keystore needs exactly one")
    return "".join(converted)
