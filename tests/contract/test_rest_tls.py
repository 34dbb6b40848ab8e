"""The REST API over HTTPS with client certificates required, on real Connect 3.9 workers.

The settings are the operator's (`workerconfig.rest_tls_properties`), the stores the init step's
(`podinit.write_rest_stores`), the certificate the operator's issuer's (`policy.resttls.plan`), and the
caller the operator's REST client: each piece as it runs in a cluster, on a Connect group of its own.
The certificate names only the Service, never 127.0.0.1, as in a cluster it names no Pod IP.
"""

from __future__ import annotations

import asyncio
import datetime
import http.client
import re
import ssl
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from connect_operator.connect.client import ConnectClient, RetryPolicy, Timeouts, TlsSettings
from connect_operator.connect.errors import ConnectError
from connect_operator.policy import resttls
from connect_operator.render import deployment, workerconfig
from connect_worker import podinit, settings
from connect_worker.testbed import ConnectCluster, Testbed
from tests.support.polling import poll_until

pytestmark = pytest.mark.contract

SERVICE = resttls.service_names("tls-connect-api", "ns")
SOURCE = "org.apache.kafka.connect.file.FileStreamSourceConnector"


@dataclass(frozen=True)
class Secured:
    cluster: ConnectCluster
    tls: TlsSettings


def _stores(folder: Path, issued: resttls.Issued) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for key, value in issued.leaf.items():
        (folder / key).write_bytes(value)
    keystore, truststore = folder / "rest-keystore.p12", folder / "rest-truststore.p12"
    tls = podinit.RestTls(folder / "tls.crt", folder / "tls.key", folder / "ca.crt", keystore, truststore)
    return {**workerconfig.rest_tls_properties(str(keystore), str(truststore)), **podinit.write_rest_stores(tls)}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    # A broker only: this module's own two workers are all the JVMs it needs.
    work = tmp_path_factory.mktemp("rest-tls")
    bed = Testbed(work, settings.cache_dir(), kafka_home=settings.kafka_home(), workers=0, group_id="tls-unused")
    bed.start()
    issued = resttls.plan(None, None, SERVICE, datetime.datetime.now(datetime.UTC))
    assert issued is not None
    cluster = bed.new_cluster("tls-group", _stores(work / "tls", issued), rest_scheme="https")
    try:
        cluster.start(2, timeout=180)
        leaf = issued.leaf
        tls = TlsSettings(
            ca_pem=leaf["ca.crt"].decode(),
            cert_pem=leaf["tls.crt"].decode(),
            key_pem=leaf["tls.key"].decode(),
            server_hostname=SERVICE[2],
        )
        yield Secured(cluster, tls)
    finally:
        cluster.stop()
        bed.stop()


def _client(url: str, tls: TlsSettings | None) -> ConnectClient:
    return ConnectClient(url, tls=tls, timeouts=Timeouts(connect=3, read=30), retry=RetryPolicy(attempts=8))


def _leader_url(cluster: ConnectCluster) -> str:
    """The leader's URL as the group's assignment names it (the log of any member)."""

    def found() -> str | None:
        for worker in cluster.workers:
            named = re.findall(r"leaderUrl='([^']+)'", worker.log_path.read_text())
            if named:
                return str(named[-1]).rstrip("/")
        return None

    return poll_until(found, 60, "a worker's log naming the group's leader URL")


def test_a_write_sent_to_the_follower_is_forwarded_to_the_leader_over_mutual_tls(secured: Secured) -> None:
    leader = _leader_url(secured.cluster)
    assert leader.startswith("https://"), leader  # rest.advertised.listener=https
    urls = [w.rest_url for w in secured.cluster.workers]
    assert leader in urls, (leader, urls)
    follower = next(url for url in urls if url != leader)
    config = {"connector.class": SOURCE, "file": "/dev/null", "topic": "tls-forwarded", "tasks.max": "1"}

    async def write_then_read() -> tuple[str, list[str]]:
        async with _client(follower, secured.tls) as rest:
            created = await rest.put_config("forwarded", config)
        async with _client(leader, secured.tls) as rest:
            return created.name, await rest.list_names()

    name, on_leader = asyncio.run(write_then_read())
    assert name == "forwarded"
    assert "forwarded" in on_leader
    follower_log = next(w for w in secured.cluster.workers if w.rest_url == follower).log_path.read_text()
    assert "SSLHandshakeException" not in follower_log


def test_a_client_without_a_certificate_is_refused(secured: Secured) -> None:
    url = secured.cluster.workers[0].rest_url
    anonymous = TlsSettings(ca_pem=secured.tls.ca_pem, server_hostname=secured.tls.server_hostname)

    async def read() -> None:
        async with ConnectClient(
            url, tls=anonymous, timeouts=Timeouts(connect=3, read=5), retry=RetryPolicy(1)
        ) as rest:
            await rest.server_info()

    with pytest.raises((ConnectError, aiohttp.ClientError, ssl.SSLError)):
        asyncio.run(read())


def test_a_client_certificate_from_another_ca_is_refused(secured: Secured, tmp_path: Path) -> None:
    stranger = resttls.plan(None, None, SERVICE, datetime.datetime.now(datetime.UTC))
    assert stranger is not None
    foreign = TlsSettings(
        ca_pem=secured.tls.ca_pem,
        cert_pem=stranger.leaf["tls.crt"].decode(),
        key_pem=stranger.leaf["tls.key"].decode(),
        server_hostname=secured.tls.server_hostname,
    )
    url = secured.cluster.workers[0].rest_url

    async def read() -> None:
        async with ConnectClient(url, tls=foreign, timeouts=Timeouts(connect=3, read=5), retry=RetryPolicy(1)) as rest:
            await rest.server_info()

    with pytest.raises((ConnectError, aiohttp.ClientError, ssl.SSLError)):
        asyncio.run(read())


def test_the_operator_client_verifies_the_service_name_and_reads(secured: Secured) -> None:
    url = secured.cluster.workers[0].rest_url

    async def read() -> str:
        async with _client(url, secured.tls) as rest:
            return (await rest.server_info()).version

    assert asyncio.run(read()).startswith("3.9")
    wrong_name = TlsSettings(
        ca_pem=secured.tls.ca_pem,
        cert_pem=secured.tls.cert_pem,
        key_pem=secured.tls.key_pem,
        server_hostname="someone-else.ns.svc",
    )

    async def read_as_someone_else() -> None:
        async with ConnectClient(url, tls=wrong_name, timeouts=Timeouts(connect=3, read=5), retry=RetryPolicy(1)) as r:
            await r.server_info()

    with pytest.raises((ConnectError, aiohttp.ClientError, ssl.SSLError)):
        asyncio.run(read_as_someone_else())


def test_plain_http_is_not_served_on_the_rest_port_and_the_probe_listener_answers(secured: Secured) -> None:
    worker = secured.cluster.workers[0]
    plain = worker.rest_url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, OSError)):
        urllib.request.urlopen(f"{plain}/", timeout=5).read()
    with urllib.request.urlopen(f"{worker.spec.health_url}/health", timeout=5) as answer:
        assert answer.status == 200


def test_the_exec_probe_script_passes_on_health_and_fails_on_any_other_answer(secured: Secured) -> None:
    """The Deployment's exec probe, as a kubelet runs it in the container, against a real worker's probe listener."""
    spec = secured.cluster.workers[0].spec
    assert spec.probe_port is not None

    def probe(port: int, path: str) -> int:
        argv = ["bash", "-c", deployment.PROBE_SCRIPT, "probe", spec.rest_host, str(port), path]
        return subprocess.run(argv, check=False, timeout=10, capture_output=True).returncode

    assert probe(spec.probe_port, "/health") == 0
    assert probe(spec.probe_port, "/") == 0
    assert probe(spec.probe_port, "/no-such-path") != 0  # a 404
    assert probe(spec.rest_port, "/health") != 0  # the TLS port answers no plain HTTP
