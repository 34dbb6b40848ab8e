"""What the operator loads to start: `cryptography` (some 8 MB resident) only once a cluster's REST TLS needs it.
A fresh interpreter each, since this test process has imported everything already."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _loaded_after(code: str) -> bool:
    probe = f"import sys\n{code}\nprint('cryptography' in sys.modules)"
    answer = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"PYTHONPATH": f"{ROOT / 'operator'}:{ROOT / 'worker'}"},
    )
    return answer.stdout.strip().splitlines()[-1] == "True"


def test_the_operator_and_its_handlers_import_without_cryptography() -> None:
    assert not _loaded_after("import connect_operator.__main__\nimport connect_operator.handlers.registry")


def test_a_cluster_without_rest_tls_loads_no_cryptography() -> None:
    cluster = (
        "from connect_operator.handlers import resttls\n"
        "from connect_operator.render.names import ClusterRef\n"
        "from connect_operator.api.v1alpha1.kafkaconnect import KafkaConnectSpec\n"
        "ref = ClusterRef('c', 'ns', 'uid')\n"
        "plain = KafkaConnectSpec.model_validate({'bootstrapServers': 'b:9092'})\n"
        "assert resttls.ensure(None, ref, plain, {}) is None\n"
        "assert resttls.served_fingerprint(None, ref, plain) is None\n"
        "assert resttls.renewal_due(None, ref, {}) is False\n"
    )
    assert not _loaded_after(cluster)
    assert _loaded_after(cluster + "from connect_operator.policy import resttls as policy"), "the probe can see it"
