# `make dev` runs the local mode; `make test` runs every check. Both install what they need first.
BIN := .venv/bin

.PHONY: dev test test-e2e setup lint typecheck layers pytest clean

.venv/.installed: pyproject.toml scripts/setup.sh
	bash scripts/setup.sh

setup: .venv/.installed

dev: setup
	$(BIN)/kco dev

test: setup lint typecheck layers pytest

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# What mypy checks, and where it finds the packages, is in pyproject.toml ([tool.mypy]).
typecheck:
	$(BIN)/mypy

layers:
	$(BIN)/lint-imports

# One process per tier (see tests/conftest.py): the tiers wait on Connect rebalances more than on CPU.
pytest:
	$(BIN)/pytest -n 3 --dist loadgroup

# Just the whole-loop tests: the local control plane with real worker Pods (the pod runner).
test-e2e: setup
	$(BIN)/pytest -m e2e tests/kube

clean:
	rm -rf .venv .cache .mypy_cache .pytest_cache .ruff_cache
