"""Certificates and keys for a loopback control plane, made with the openssl command line."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    service_account_key: Path
    service_account_pub: Path


def create(directory: Path) -> Pki:
    """A CA, a serving certificate for 127.0.0.1/localhost signed by it, and a service-account key pair."""
    directory.mkdir(parents=True, exist_ok=True)
    pki = Pki(
        ca_cert=directory / "ca.crt",
        ca_key=directory / "ca.key",
        serving_cert=directory / "apiserver.crt",
        serving_key=directory / "apiserver.key",
        service_account_key=directory / "sa.key",
        service_account_pub=directory / "sa.pub",
    )
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "30",
        "-subj",
        "/CN=kco-local-ca",
        "-keyout",
        pki.ca_key,
        "-out",
        pki.ca_cert,
    )
    extensions = directory / "san.ext"
    extensions.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n"
    )
    csr = directory / "apiserver.csr"
    _openssl(
        "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=kube-apiserver", "-keyout", pki.serving_key, "-out", csr
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        csr,
        "-CA",
        pki.ca_cert,
        "-CAkey",
        pki.ca_key,
        "-CAcreateserial",
        "-days",
        "30",
        "-extfile",
        extensions,
        "-out",
        pki.serving_cert,
    )
    _openssl("genrsa", "-out", pki.service_account_key, "2048")
    _openssl("rsa", "-in", pki.service_account_key, "-pubout", "-out", pki.service_account_pub)
    return pki


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)
