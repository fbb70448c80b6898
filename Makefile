# Two entry points: `make demo` (set up, start the stack, run the reference scenario)
# and `make test` (set up, lint, type-check, run every test against real services).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench down

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/curex up
	$(BIN)/curex demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/pytest

bench: setup
	$(BIN)/curex up
	$(BIN)/curex bench pipeline

down: setup
	$(BIN)/curex down
