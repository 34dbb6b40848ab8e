"""The worker Pod's init step against a real local HTTP server: jar, tgz and zip plugins, and clear failures."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from connect_operator.devkit import pki
from connect_worker import __main__ as worker_cli
from connect_worker import podinit, properties
from connect_worker.errors import InitError, PluginError
from connect_worker.ports import free_port
from tests.support import keys
from tests.support.polling import poll_until
from tests.support.served import forward_proxy, serve_folder

pytestmark = pytest.mark.contract


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A folder served over HTTP on a free loopback port."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def _sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def _artifacts(root: Path) -> dict[str, bytes]:
    jar = b"PK fake jar bytes"
    tgz_buffer = io.BytesIO()
    with tarfile.open(fileobj=tgz_buffer, mode="w:gz") as archive:
        entry = tarfile.TarInfo("lib/inside-tgz.jar")
        entry.size = 4
        archive.addfile(entry, io.BytesIO(b"data"))
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w") as bundle:
        bundle.writestr("lib/inside-zip.jar", b"data")
    files = {"plugin.jar": jar, "plugin.tgz": tgz_buffer.getvalue(), "plugin.zip": zip_buffer.getvalue()}
    for name, data in files.items():
        (root / name).write_bytes(data)
    return files


def _request(tmp_path: Path, plugins_json: str, **env: str) -> podinit.InitRequest:
    template = tmp_path / "template.properties"
    template.write_text(properties.render({"group.id": "g", "listeners": "http://:8083"}))
    return podinit.InitRequest(
        template=template,
        output=tmp_path / "out" / "worker.properties",
        plugin_dir=tmp_path / "plugins",
        plugins_json=plugins_json,
        env=env,
    )


def test_plugins_of_every_type_are_fetched_verified_and_unpacked(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    files = _artifacts(root)
    wanted = [
        {
            "name": "multi",
            "artifacts": [
                {"url": f"{url}/{name}", "sha512": _sha512(data), "type": name.rsplit(".", 1)[1]}
                for name, data in files.items()
            ],
        }
    ]
    final = podinit.run(_request(tmp_path, json.dumps(wanted), POD_IP="10.1.2.3"))
    plugin = tmp_path / "plugins" / "multi"
    assert (plugin / "plugin.jar").read_bytes() == files["plugin.jar"]
    assert (plugin / "lib" / "inside-tgz.jar").read_bytes() == b"data"
    assert (plugin / "lib" / "inside-zip.jar").read_bytes() == b"data"
    assert final["rest.advertised.host.name"] == "10.1.2.3"
    written = properties.parse((tmp_path / "out" / "worker.properties").read_text())
    assert written == {"group.id": "g", "listeners": "http://:8083", "rest.advertised.host.name": "10.1.2.3"}


def test_a_wrong_checksum_fails_naming_plugin_and_artifact(served: tuple[str, Path], tmp_path: Path) -> None:
    url, root = served
    _artifacts(root)
    wanted = [{"name": "jdbc", "artifacts": [{"url": f"{url}/plugin.jar", "sha512": "0" * 128, "type": "jar"}]}]
    with pytest.raises(PluginError, match=rf"plugin jdbc: artifact {url}/plugin.jar has sha512 [0-9a-f]+, but"):
        podinit.run(_request(tmp_path, json.dumps(wanted), POD_IP="10.0.0.1"))
    assert not list((tmp_path / "plugins" / "jdbc").iterdir()), "nothing unverified is left in plugin.path"


def test_an_unreachable_url_fails_naming_plugin_and_artifact_through_the_cli_and_its_termination_message(
    tmp_path: Path,
) -> None:
    url = f"http://127.0.0.1:{free_port()}/missing.jar"
    request = _request(tmp_path, "[]")
    plugins_json = json.dumps([{"name": "s3", "artifacts": [{"url": url, "sha512": "0" * 128, "type": "jar"}]}])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "connect_worker",
            "init",
            "--template",
            str(request.template),
            "--output",
            str(request.output),
            "--plugin-dir",
            str(request.plugin_dir),
            "--plugins",
            plugins_json,
            "--termination-message-path",
            str(tmp_path / "termination-log"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "POD_IP": "10.0.0.9"},
    )
    assert done.returncode == 2
    assert f"plugin s3: cannot download {url}" in done.stderr
    assert not request.output.exists()
    # What the kubelet hands the operator: the reason first, then the same message, on one line.
    written = (tmp_path / "termination-log").read_text()
    assert written.startswith(f"PluginInstallFailed: plugin s3: cannot download {url}: ") and written.count("\n") == 1


def _init_cli(tmp_path: Path, plugins_json: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir()
    request = _request(tmp_path, plugins_json)
    # The machine's own proxy settings must not decide where these downloads go.
    clean = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    command = [sys.executable, "-m", "connect_worker", "init", "--template", str(request.template)]
    command += ["--output", str(request.output), "--plugin-dir", str(request.plugin_dir), "--plugins", plugins_json]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=True, env={**clean, "POD_IP": "10.0.0.9", **env}
    )


def test_downloads_go_through_the_proxy_the_environment_names_unless_no_proxy_excludes_the_host(
    tmp_path: Path,
) -> None:
    with serve_folder(tmp_path / "www") as www, forward_proxy() as proxy:
        (www.root / "p.jar").write_bytes(b"jar bytes")
        artifact = {"url": f"{www.url}/p.jar", "sha512": _sha512(b"jar bytes"), "type": "jar"}
        plugins_json = json.dumps([{"name": "p", "artifacts": [artifact]}])

        _init_cli(tmp_path / "proxied", plugins_json, {"HTTP_PROXY": proxy.url})
        assert proxy.requested == [artifact["url"]], "the request went to the proxy, for the artifact's URL"
        assert (tmp_path / "proxied" / "plugins" / "p" / "p.jar").read_bytes() == b"jar bytes"

        _init_cli(tmp_path / "direct", plugins_json, {"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.1"})
        assert proxy.requested == [artifact["url"]] and www.requested == ["/p.jar", "/p.jar"]
        assert (tmp_path / "direct" / "plugins" / "p" / "p.jar").read_bytes() == b"jar bytes"


def test_missing_pod_ip_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InitError, match="POD_IP"):
        podinit.run(_request(tmp_path, "[]"))


def test_pem_stores_are_assembled(tmp_path: Path) -> None:
    ca1, ca2, cert, key = (tmp_path / n for n in ("ca1.pem", "ca2.pem", "tls.crt", "tls.key"))
    for path in (ca1, ca2):
        path.write_text(f"-----BEGIN {path.name}-----\n")
    # The keystore's key is parsed (a PKCS#1 one is converted for Java): a real key and certificate.
    private = keys.rsa_key()
    key.write_text(keys.key_pem(private, "pkcs8"))
    cert.write_text(keys.self_signed(private))
    request = _request(tmp_path, "[]", POD_IP="10.0.0.1")
    request = podinit.InitRequest(
        **{
            **vars(request),
            "trust": [ca1, ca2],
            "truststore": tmp_path / "ts.pem",
            "client_cert": cert,
            "client_key": key,
            "keystore": tmp_path / "ks.pem",
        }
    )
    podinit.run(request)
    assert (tmp_path / "ts.pem").read_text() == "-----BEGIN ca1.pem-----\n-----BEGIN ca2.pem-----\n"
    assert (tmp_path / "ks.pem").read_text() == key.read_text() + cert.read_text()


def _annotate(rack_file: Path, value: str) -> None:
    """What the kubelet does when the annotation appears: the file replaced whole, never half written."""
    staged = rack_file.with_name(".staged")
    staged.write_text(value)
    staged.replace(rack_file)


def test_the_init_step_waits_for_the_rack_annotation_then_writes_consumer_client_rack(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="connect_worker.podinit")
    rack_file = tmp_path / "rack" / "rack"
    rack_file.parent.mkdir()
    rack_file.write_text("")  # the kubelet's file for an annotation not set yet
    request = podinit.InitRequest(
        **{**vars(_request(tmp_path, "[]", POD_IP="10.0.0.7")), "rack_file": rack_file, "rack_poll_interval": 0.05}
    )
    outcome: dict[str, object] = {}
    thread = threading.Thread(target=lambda: outcome.update(final=podinit.run(request)), daemon=True)
    thread.start()

    poll_until(lambda: "rack annotation" in caplog.text, 10, "the init step waiting for its rack")
    assert thread.is_alive() and not request.output.exists(), "no worker config without the rack"
    _annotate(rack_file, "eu-west-1b")
    thread.join(10)

    assert not thread.is_alive()
    assert outcome["final"] == {
        "group.id": "g",
        "listeners": "http://:8083",
        "rest.advertised.host.name": "10.0.0.7",
        "consumer.client.rack": "eu-west-1b",
    }
    assert properties.parse(request.output.read_text())["consumer.client.rack"] == "eu-west-1b"


def test_no_rack_by_the_deadline_fails_naming_the_file_the_annotation_and_where_to_look(tmp_path: Path) -> None:
    rack_file = tmp_path / "rack" / "rack"  # not even created: the volume is missing
    request = podinit.InitRequest(
        **{
            **vars(_request(tmp_path, "[]", POD_IP="10.0.0.7")),
            "rack_file": rack_file,
            "rack_timeout": 0.3,
            "rack_poll_interval": 0.05,
        }
    )
    with pytest.raises(InitError, match=r"no rack after 0 s: .*rack is still empty.*kco\.dev/rack.*Warning Events"):
        podinit.run(request)
    assert not request.output.exists()


def test_the_init_cli_takes_the_rack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    request = _request(tmp_path, "[]")
    rack_file = tmp_path / "rack"
    rack_file.write_text("local-a")
    monkeypatch.setenv("POD_IP", "10.0.0.8")
    argv = ["init", "--template", str(request.template), "--output", str(request.output)]
    argv += ["--plugin-dir", str(request.plugin_dir), "--rack-file", str(rack_file), "--rack-timeout", "5"]
    assert worker_cli.main(argv) == 0
    assert properties.parse(request.output.read_text())["consumer.client.rack"] == "local-a"


def test_an_https_download_trusts_the_ca_bundle_that_ssl_cert_file_names(tmp_path: Path) -> None:
    keys = pki.create(tmp_path / "pki")  # a CA and a certificate for 127.0.0.1 signed by it
    with serve_folder(tmp_path / "www", tls=(keys.serving_cert, keys.serving_key)) as www:
        (www.root / "p.jar").write_bytes(b"jar bytes")
        artifact = {"url": f"{www.url}/p.jar", "sha512": _sha512(b"jar bytes"), "type": "jar"}
        plugins_json = json.dumps([{"name": "p", "artifacts": [artifact]}])

        with pytest.raises(subprocess.CalledProcessError) as refused:
            _init_cli(tmp_path / "untrusted", plugins_json, {})
        assert "CERTIFICATE_VERIFY_FAILED" in refused.value.stderr

        _init_cli(tmp_path / "trusted", plugins_json, {"SSL_CERT_FILE": str(keys.ca_cert)})
        assert (tmp_path / "trusted" / "plugins" / "p" / "p.jar").read_bytes() == b"jar bytes"
