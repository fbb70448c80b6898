# Two entry points: `make demo` (set up, start the stack, run the reference scenario)
# and `make test` (set up, lint, type-check, run every test against real services: the
# whole suite on the embedded ledger, then every integration and end-to-end test again
# on a real Fabric network).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The ledger of `make demo`: embedded (default, quick) or fabric (a real Fabric network).
LEDGER ?= embedded

FRONTENDS := frontends
FRONTEND_SOURCES := $(shell find $(FRONTENDS)/src $(FRONTENDS)/public $(FRONTENDS)/hpa $(FRONTENDS)/pa $(FRONTENDS)/ops -type f 2>/dev/null)
# Debian's Chromium drives the browser tests (a test tool's own browser download fails here).
CHROMIUM ?= /usr/bin/chromium

.PHONY: setup demo test bench down chromium

setup: $(VENV)/.installed $(FRONTENDS)/dist/.built chromium

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

# Exactly package-lock.json's versions, then the production build of the three web apps.
$(FRONTENDS)/node_modules/.installed: $(FRONTENDS)/package.json $(FRONTENDS)/package-lock.json
	cd $(FRONTENDS) && npm ci --no-audit --no-fund
	touch $@

$(FRONTENDS)/dist/.built: $(FRONTENDS)/node_modules/.installed $(FRONTEND_SOURCES) $(FRONTENDS)/vite.config.ts $(FRONTENDS)/tsconfig.json
	cd $(FRONTENDS) && npm run build
	touch $@

# Installed when missing, as root (as `curex up` does for PostgreSQL); otherwise say how.
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			DEBIAN_FRONTEND=noninteractive apt-get update -q && \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
		else \
			echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; \
		fi; \
	fi

demo: setup
	$(BIN)/curex up --ledger $(LEDGER)
	$(BIN)/curex demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	cd $(FRONTENDS) && npm run typecheck && npm test
	$(BIN)/pytest
	CUREX_LEDGER=fabric $(BIN)/pytest tests/integration tests/e2e

bench: setup
	$(BIN)/curex up
	$(BIN)/curex bench pipeline

down: setup
	$(BIN)/curex down
