# The user interface of the project. Every target depends on `setup`, which builds .venv from
# nothing (installing uv into it with pip) and is a no-op once the environment matches pyproject.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_LINK_MODE := copy
STAMP := $(VENV)/.synced
MANIFESTS := pyproject.toml $(wildcard libs/*/pyproject.toml services/*/pyproject.toml) \
	before/pyproject.toml infra/launcher/pyproject.toml bench/pyproject.toml

.PHONY: setup test test-fast lint up up-before clean

setup: $(STAMP)

$(STAMP): $(MANIFESTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --all-packages --group dev --quiet
	@touch $@

## Everything CI runs: lint, then the whole suite against real PostgreSQL and Redis it starts itself.
test: setup lint
	$(BIN)/python -m pytest

## Quick feedback: the suite without the slow end-to-end and bench-smoke parts.
test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

lint: setup
	$(BIN)/ruff check libs services infra bench tests
	$(BIN)/ruff format --check libs services
	$(BIN)/mypy

## Run the after layout in the foreground on http://127.0.0.1:8000 (Ctrl-C stops everything).
up: setup
	$(BIN)/python -m stack_launcher up --layout after

## Run the before layout (14 services) in the foreground on http://127.0.0.1:8000.
up-before: setup
	$(BIN)/python -m stack_launcher up --layout before

# The benchmark, the study tools and the reliability run keep their targets beside their code.
include bench/bench.mk
include tools/study.mk
include tests/reliability.mk

clean:
	rm -rf $(VENV) .stack .pytest_cache .mypy_cache .ruff_cache
