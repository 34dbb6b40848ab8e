# `make dev` runs the local mode; `make test` runs every check. Both install what they need first.
BIN := .venv/bin

.PHONY: dev test test-e2e setup lint typecheck layers pytest images lock clean

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

# Two processes, balanced by load; the images, the real node and kind in one of them (tests/conftest.py).
# Two, not three: on 2 cores a third process of JVMs starved the others into timeouts now and then.
pytest:
	$(BIN)/pytest -n 2 --dist loadgroup

# Just the whole-loop tests: the local control plane with real worker Pods (the pod runner).
test-e2e: setup
	$(BIN)/pytest -m e2e tests/kube

# The operator, Connect worker and pause images as OCI archives, built here with buildah (cached by content).
images: setup
	$(BIN)/python -m connect_operator.devkit images

# requirements.lock: the operator image's runtime dependencies, pinned with hashes (tests/unit/test_dockerfile.py
# fails when pyproject.toml's dependencies and the lock disagree). Needs the network (PyPI).
lock: setup
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock pyproject.toml

clean:
	rm -rf .venv .cache .mypy_cache .pytest_cache .ruff_cache
