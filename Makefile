# `make dev` runs the local mode; `make test` runs every check. Both install what they need first.
BIN := .venv/bin
# The folder operator/ would shadow the standard library's `operator` for `python -m` run here.
export PYTHONSAFEPATH := 1
TYPECHECK_ROOT := .cache/typecheck

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

# mypy cannot follow the editable install's name mapping, so it reads the folders through links
# named like the import packages.
typecheck:
	@mkdir -p $(TYPECHECK_ROOT)
	@ln -sfn ../../operator $(TYPECHECK_ROOT)/connect_operator
	@ln -sfn ../../worker $(TYPECHECK_ROOT)/connect_worker
	MYPYPATH=$(TYPECHECK_ROOT) $(BIN)/mypy -p connect_operator -p connect_worker
	MYPYPATH=$(TYPECHECK_ROOT) $(BIN)/mypy tests bench

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
