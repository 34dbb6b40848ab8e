"""`python -m connect_operator`: the operator, configured from the environment (see settings.py)."""

from __future__ import annotations

import os

from connect_operator import runner
from connect_operator.settings import OperatorSettings

if __name__ == "__main__":
    runner.run(
        OperatorSettings.from_env(),
        liveness_endpoint=os.environ.get("KCO_LIVENESS_ENDPOINT", "http://0.0.0.0:8080/healthz"),
    )
