"""`python -m connect_operator`: the operator, configured from the environment (see settings.py)."""

from __future__ import annotations

from connect_operator import runner
from connect_operator.settings import OperatorSettings

if __name__ == "__main__":
    runner.run(OperatorSettings.from_env())
