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
        # 10.96.0.1 is the `kubernetes` Service: the address in-cluster clients (the operator in a Pod) dial.
        "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes.default.svc,"
        "DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n"
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
    issue(pki, directory, "apiserver-kubelet-client", "/CN=kube-apiserver-kubelet-client")
    _openssl("genrsa", "-out", pki.service_account_key, "2048")
    _openssl("rsa", "-in", pki.service_account_key, "-pubout", "-out", pki.service_account_pub)
    return pki


def issue(pki: Pki, directory: Path, name: str, subject: str, ips: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A certificate and key signed by the control plane's CA: a client one (the subject's CN is the user,
    each O a group), or a serving one when `ips` are given. Returns (certificate, key)."""
    cert, key, csr, ext = (directory / f"{name}.{suffix}" for suffix in ("crt", "key", "csr", "ext"))
    usage = "serverAuth" if ips else "clientAuth"
    ext.write_text(
        (f"subjectAltName={','.join(f'IP:{ip}' for ip in ips)}\n" if ips else "") + f"extendedKeyUsage={usage}\n"
    )
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", key, "-out", csr)
    _openssl(
        "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key, "-CAcreateserial",
        "-days", "30", "-extfile", ext, "-out", cert,
    )  # fmt: skip
    return cert, key


def kubelet_client(pki: Pki) -> tuple[Path, Path]:
    """What the apiserver presents to kubelets (logs, exec, port-forward)."""
    return pki.ca_cert.parent / "apiserver-kubelet-client.crt", pki.ca_cert.parent / "apiserver-kubelet-client.key"


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=60)
