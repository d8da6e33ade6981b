# The README's commands. Every target that runs code first makes sure the
# virtual environment and the Debian packages it needs exist.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RUNTIME := $(VENV)/.runtime-stamp
# axe-core, the accessibility checker the browser tests inject (from the npm registry)
AXE := $(VENV)/node_modules/axe-core/axe.min.js
# GrowthBook's JavaScript SDK, the oracle of the SDK conformance tests (npm registry)
GBJS := $(VENV)/node_modules/@growthbook/growthbook/package.json
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: setup system-deps test lint format typecheck demo bench clean

setup: $(STAMP) system-deps $(AXE) $(GBJS)

# Reinstall when the package metadata changes; pip and uv come from PyPI.
# The demo needs only the runtime dependencies; the suite adds the test and
# Spark extras (about twice the size) on top.
$(RUNTIME): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "Setting up $(VENV): tinylift and its runtime dependencies (first run only) ..."
	@$(PY) -m pip install -q --upgrade pip uv
	@$(VENV)/bin/uv pip install --python $(PY) -e .
	@touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	@echo "Adding the test extras (Spark, PostgreSQL driver, linters; first run only) ..."
	@$(VENV)/bin/uv pip install --python $(PY) -e ".[test]"
	@touch $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

# one install for both (npm drops packages a later --no-save install does not name)
NPM_TEST_PACKAGES := axe-core@4 @growthbook/growthbook@1

$(GBJS) $(AXE): | system-deps
	@echo "Fetching axe-core and GrowthBook's JavaScript SDK for the tests (first run only) ..."
	@npm install --silent --no-save --no-audit --no-fund --prefix $(VENV) $(NPM_TEST_PACKAGES)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports --no-cache

format: $(STAMP)
	$(VENV)/bin/ruff check --fix src tests benchmarks
	$(VENV)/bin/ruff format src tests benchmarks

typecheck: $(STAMP)
	$(VENV)/bin/mypy

test: setup lint typecheck
	$(VENV)/bin/pytest

demo: $(RUNTIME)
	$(VENV)/bin/tinylift demo

bench: setup
	@$(VENV)/bin/uv pip install -q --python $(PY) -e ".[test,bench]"
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache tinylift-demo
