# o2o: the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
O2O := $(VENV)/bin/o2o
PYTEST := $(PY) -m pytest
WITH_PG := $(PY) scripts/with_postgres.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup demo serve seed test test-unit test-sqlite test-pg lint openapi openapi-check bench-inventory bench-spatial bench-routing bench-orders clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

setup: $(VENV)/.installed

## make demo: install, migrate, seed the Shanghai demo network, serve on 127.0.0.1:8000
demo: setup
	$(O2O) migrate --noinput
	$(O2O) seed-demo
	@$(O2O) demo-info --host $(HOST) --port $(PORT)
	$(O2O) runserver $(HOST):$(PORT) --noreload

## make test: the whole suite (SQLite, then PostgreSQL: required, never skipped)
test: setup lint openapi-check test-sqlite test-pg

lint: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check src tests bench scripts

test-unit: setup
	$(PYTEST) tests/unit -p no:django

test-sqlite: setup
	$(PYTEST) tests/unit tests/integration tests/e2e -m "not postgres"

test-pg: setup
	O2O_REQUIRE_PG=1 $(WITH_PG) --db o2o_test -- $(PYTEST) tests/integration tests/e2e

openapi: setup
	$(O2O) export-openapi docs/openapi.json

openapi-check: setup
	$(O2O) export-openapi --check docs/openapi.json

bench-inventory: setup
	$(WITH_PG) --db o2o_bench -- $(PY) bench/inventory.py

## make bench-orders: the app under gunicorn on PostgreSQL, 32 HTTP clients placing and paying orders for 60 s
bench-orders: setup
	$(WITH_PG) --db o2o_bench_orders -- $(PY) bench/orders.py

bench-spatial: setup
	$(PY) bench/bench_spatial.py

## make bench-routing [ARGS="--scarcity medium --orders 5000 --stores file.csv --crs bd09"]: routing policies vs the bound
bench-routing: setup
	$(O2O) bench routing $(ARGS)

clean:
	rm -rf var/*.sqlite3* .pytest_cache .hypothesis
