# Two entry points: `make demo` (set up, start the stack, run the reference scenario)
# and `make test` (set up, lint, type-check, run every test against real services: the
# whole suite on the embedded ledger, then every integration and end-to-end test again
# on a real Fabric network).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The ledger of `make demo`: embedded (default, quick) or fabric (a real Fabric network).
LEDGER ?= embedded

.PHONY: setup demo test bench down

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/curex up --ledger $(LEDGER)
	$(BIN)/curex demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/pytest
	CUREX_LEDGER=fabric $(BIN)/pytest tests/integration tests/e2e

bench: setup
	$(BIN)/curex up
	$(BIN)/curex bench pipeline

down: setup
	$(BIN)/curex down
