"""Secrets as the workers read them (Kafka's own Java code) and as the operator's admin client does (librdkafka).

Each Secret key is a file, as the kubelet mounts it; the init step builds the worker's PEM keystore from
them, a real JVM loads it with Kafka's PEM keystore, and librdkafka is given the same Secret values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient

from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec
from connect_operator.policy import kafkaconnect as policy
from connect_operator.policy.secrets import SecretRead
from connect_operator.render import kafkaclient, names, workerconfig
from connect_worker import podinit, properties, runtime, settings
from tests.support import keys
from tests.support.kafka_java import load_pem_keystore, resolve_directory_placeholder

pytestmark = pytest.mark.contract

MTLS = {"type": "tls", "certificateAndKey": {"secretName": "client"}}
SCRAM = {"type": "scram-sha-512", "username": "connect", "passwordSecret": {"secretName": "user", "key": "password"}}


@pytest.fixture(scope="module")
def connect_runtime() -> runtime.ConnectRuntime:
    return runtime.locate(settings.cache_dir(), settings.kafka_home())


def _mounted(root: Path, secret: str, data: dict[str, bytes]) -> Path:
    """A Secret as the kubelet mounts it: one file per key, in a folder named after the Secret."""
    folder = root / secret
    folder.mkdir(parents=True)
    for key, value in data.items():
        (folder / key).write_bytes(value)
    return folder


@pytest.mark.parametrize("encoding", ["pkcs1", "pkcs8"])
def test_a_client_key_of_either_encoding_loads_in_kafkas_pem_keystore_and_in_librdkafka(
    encoding: keys.Encoding, connect_runtime: runtime.ConnectRuntime, tmp_path: Path
) -> None:
    key = keys.rsa_key()
    key_pem, cert_pem = keys.key_pem(key, encoding), keys.self_signed(key)
    secret = _mounted(tmp_path / "kafka-auth", "client", {"tls.key": key_pem.encode(), "tls.crt": cert_pem.encode()})
    template = tmp_path / "template" / "worker.properties"
    template.parent.mkdir()
    template.write_text(properties.render({"group.id": "g"}))
    keystore = tmp_path / "config" / Path(workerconfig.KEYSTORE_FILE).name
    # The init step as the worker Pod's init container runs it (its arguments as rendered, paths local).
    podinit.run(
        podinit.InitRequest(
            template=template,
            output=tmp_path / "config" / "worker.properties",
            plugin_dir=tmp_path / "plugins",
            client_cert=secret / "tls.crt",
            client_key=secret / "tls.key",
            keystore=keystore,
            env={"POD_IP": "127.0.0.1"},
        )
    )
    loaded, answer = load_pem_keystore(connect_runtime, keystore)
    assert loaded, f"Kafka's PEM keystore refused the {encoding} key the init step wrote:\n{answer}"

    # The operator's admin client: the Secret's values as they are, through the same config builder.
    spec = KafkaConnectSpec.model_validate({"bootstrapServers": "127.0.0.1:9", "authentication": MTLS})
    uses = kafkaclient.secret_uses(spec)
    reads = {"client": SecretRead("client", "uid", {"tls.key": key_pem.encode(), "tls.crt": cert_pem.encode()})}
    values = policy.kafka_secret_values(uses, reads)
    assert isinstance(values, dict)
    config = kafkaclient.admin_config(spec, values)
    assert config["ssl.key.pem"] == key_pem
    # librdkafka parses the key and certificate when the client is made: a key it cannot read fails here.
    AdminClient({"bootstrap.servers": "127.0.0.1:9", "log_level": 0, **config})


def test_the_admin_client_gets_the_password_bytes_the_workers_placeholder_resolves_to(
    connect_runtime: runtime.ConnectRuntime, tmp_path: Path
) -> None:
    spec = KafkaConnectSpec.model_validate({"bootstrapServers": "127.0.0.1:9", "authentication": SCRAM})
    uses = kafkaclient.secret_uses(spec)
    jaas = workerconfig.worker_properties(spec, "c")["sasl.jaas.config"]
    assert f'password="${{{names.WORKER_CONFIG_PROVIDER}:/mnt/kco/kafka-auth/user:password}}"' in jaas
    for password in (b"p\xc3\xa4ss word ", b"hunter2"):
        folder = _mounted(tmp_path / password.hex(), "user", {"password": password})
        resolved = resolve_directory_placeholder(connect_runtime, folder, "password")
        values = policy.kafka_secret_values(uses, {"user": SecretRead("user", "uid", {"password": password})})
        assert isinstance(values, dict)
        assert kafkaclient.admin_config(spec, values)["sasl.password"].encode() == resolved == password

    # A trailing newline: the workers would send it (DirectoryConfigProvider keeps it), so it is refused.
    folder = _mounted(tmp_path / "newline", "user", {"password": b"hunter2\n"})
    assert resolve_directory_placeholder(connect_runtime, folder, "password") == b"hunter2\n"
    refused = policy.kafka_secret_values(uses, {"user": SecretRead("user", "uid", {"password": b"hunter2\n"})})
    assert isinstance(refused, tuple) and refused[0] == "KafkaSecretInvalid"
    assert "Secret user key password ends with a line break" in refused[1] and "hunter2" not in refused[1]
