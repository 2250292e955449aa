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

.PHONY: setup setup-browser demo serve seed test test-unit test-sqlite test-pg test-browser test-clock lint openapi openapi-check bench-inventory bench-spatial bench-routing bench-orders bench-web bench-members bench-marketing clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

# Front-end files (ECharts) come from the npm registry at set-up and are served locally.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed node_modules/.installed

## make setup-browser: Debian's Chromium and CJK fonts for the browser tests (apt, as root or through sudo)
setup-browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi "noto.*cjk"; then :; else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi
	@chromium --version

## make demo: install, migrate, seed the Shanghai demo network, serve on 127.0.0.1:8000 (with the outbox relay)
demo: setup
	$(O2O) migrate --noinput
	$(O2O) seed-demo
	@$(O2O) demo-info --host $(HOST) --port $(PORT)
	@# Beside the server: the outbox relay (points, tiers, coupons back, pickup messages), the notification
	@# triggers and the group-deal expiry every minute, and the sender (local simulators: see /hq/notifications);
	@# all stop together.
	@bash -c 'trap "kill 0" EXIT; mkdir -p var; $(O2O) relay-outbox --loop --interval 2 >var/relay.log 2>&1 & \
	  (while true; do $(O2O) run-triggers >>var/triggers.log 2>&1; $(O2O) expire-groups >>var/groups.log 2>&1; \
	   sleep 60; done) & \
	  $(O2O) send-notifications --loop >var/notify.log 2>&1 & \
	  $(O2O) runserver $(HOST):$(PORT) --noreload'

## make test: the whole suite (SQLite, then PostgreSQL: required, never skipped)
test: setup lint openapi-check test-sqlite test-pg test-browser

lint: setup
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check src tests bench scripts

test-unit: setup
	$(PYTEST) tests/unit -p no:django

# The suites run on TEST_WORKERS processes (pytest-xdist; each its own test database: test_<name>_gw0, gw1...;
# TEST_WORKERS=0 runs in this process). The PostgreSQL race tests take turns across workers (tests/conftest.py).
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --durations=15

test-sqlite: setup
	$(PYTEST) $(XDIST) tests/unit tests/integration tests/e2e -m "not postgres"

## make test-clock AT="2026-12-02 20:30:00": the SQLite suite with the clock set to AT, Shanghai time (libfaketime,
## installed with apt when missing). Business rules read the time of day (cut-offs, night surcharges, pickup
## hours, coupon validity), so a test that mixes a fixed clock with the wall clock passes at some hours only.
AT ?= 2026-12-02 20:30:00
test-clock: setup
	@command -v faketime >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq faketime >/dev/null; }
	TZ=Asia/Shanghai faketime -f "@$(AT)" $(PYTEST) $(XDIST) tests/unit tests/integration tests/e2e -m "not postgres"

## make test-browser: Playwright drives Chromium through the storefront, the store console and HQ pages
test-browser: setup setup-browser
	$(PYTEST) tests/browser -p no:django -W "ignore:Unknown config option"

test-pg: setup
	O2O_REQUIRE_PG=1 $(WITH_PG) --db o2o_test -- $(PYTEST) $(XDIST) tests/integration tests/e2e

openapi: setup
	$(O2O) export-openapi docs/openapi.json

openapi-check: setup
	$(O2O) export-openapi --check docs/openapi.json

bench-inventory: setup
	$(WITH_PG) --db o2o_bench -- $(PY) bench/inventory.py

## make bench-orders: the app under gunicorn on PostgreSQL, 32 HTTP clients placing and paying orders for 60 s
bench-orders: setup
	$(WITH_PG) --db o2o_bench_orders -- $(PY) bench/orders.py

## make bench-web: the storefront pages' server render time on the seeded demo (SQLite); goal p95 < 100 ms
BENCH_WEB_VAR := $(CURDIR)/var/bench-web
bench-web: setup
	O2O_VAR_DIR=$(BENCH_WEB_VAR) $(O2O) migrate --noinput >/dev/null
	@if [ ! -f $(BENCH_WEB_VAR)/.seeded ]; then \
	  O2O_VAR_DIR=$(BENCH_WEB_VAR) $(O2O) seed-demo && touch $(BENCH_WEB_VAR)/.seeded; fi
	O2O_VAR_DIR=$(BENCH_WEB_VAR) $(PY) bench/web.py

## make bench-members: profile tags on CDNOW + Complete Journey, CLV holdout, 32 concurrent points redeemers (PostgreSQL)
bench-members: setup
	$(WITH_PG) --db o2o_bench_members -- $(PY) bench/members.py

## make bench-marketing: 64 concurrent coupon claimers (one hot campaign vs many), over-issue check, pricing engine
bench-marketing: setup
	$(WITH_PG) --db o2o_bench_marketing -- $(PY) bench/marketing.py

bench-spatial: setup
	$(PY) bench/bench_spatial.py

## make bench-routing [ARGS="--scarcity medium --orders 5000 --stores file.csv --crs bd09"]: routing policies vs the bound
bench-routing: setup
	$(O2O) bench routing $(ARGS)

clean:
	rm -rf var/*.sqlite3* .pytest_cache .hypothesis test-artifacts
