"""Secret files read by Kafka's own Java code (kafka-clients of the Connect runtime), as a worker reads them."""

from __future__ import annotations

import subprocess
from pathlib import Path

from connect_worker.runtime import ConnectRuntime

_SOURCE = Path(__file__).parent / "java" / "KafkaSecretFiles.java"


def _run(runtime: ConnectRuntime, *args: str) -> subprocess.CompletedProcess[str]:
    # Java 11+ runs a single source file directly; the runtime's libs hold kafka-clients and its logging.
    classpath = str(runtime.home / "libs" / "*")
    return subprocess.run(
        [runtime.java, "-cp", classpath, str(_SOURCE), *args], capture_output=True, text=True, timeout=120, check=False
    )


def load_pem_keystore(runtime: ConnectRuntime, keystore: Path) -> tuple[bool, str]:
    """Whether a Kafka client with `ssl.keystore.type=PEM` on `keystore` can be made, and Kafka's answer."""
    done = _run(runtime, "keystore", str(keystore))
    lines = [line for line in done.stdout.splitlines() if not line.startswith("[")]  # log4j lines aside
    return done.returncode == 0 and "loaded" in lines, "\n".join(lines) or done.stderr[-2000:]


def resolve_directory_placeholder(runtime: ConnectRuntime, directory: Path, key: str) -> bytes:
    """The value `${dir:DIRECTORY:KEY}` resolves to in a worker: DirectoryConfigProvider's own reading."""
    done = _run(runtime, "dir", str(directory), key)
    if done.returncode != 0:
        raise AssertionError(f"DirectoryConfigProvider failed: {done.stdout}{done.stderr[-2000:]}")
    return bytes.fromhex(done.stdout.strip().splitlines()[-1])
