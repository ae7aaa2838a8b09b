# Pier — `make help` lists the targets. Every target installs what it needs first.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= .pier
PYTEST := $(BIN)/pytest -p no:cacheprovider
# Debian packages the data plane and its tests use; installed when one is missing.
# haproxy: the amphorae; nginx-light + libnginx-mod-stream: UDP listeners; iputils-ping: PING
# health monitors; wrk: the data-plane benchmark.
APT_PACKAGES := haproxy nginx-light libnginx-mod-stream iputils-ping wrk iproute2 nftables curl

.PHONY: help install run demo bench-dataplane bench-density bench-heartbeat lint fmt typecheck check test test-unit test-db test-integration test-e2e conformance golden bench-api clean

help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	  if [ -n "$$missing" ]; then apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv with Pier and its test tools (pinned in pyproject.toml)

run: $(STAMP) ## run Pier all-in-one on 127.0.0.1:9876 (SQLite in .pier)
	$(BIN)/pier up --data-dir $(DATA_DIR)

demo: $(STAMP) ## the walk-through for real: Pier, two web servers, the openstack CLI, traffic
	$(BIN)/pier demo

fmt: $(STAMP) ## format the code
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP) ## mypy --strict on src
	$(BIN)/mypy

check: lint typecheck test-unit ## lint + typecheck + unit tests

test-unit: $(STAMP) ## unit tests (in-process app, SQLite)
	$(PYTEST) -q tests/unit

test-integration: $(STAMP) ## real processes: haproxy/nginx with traffic, the agent over mTLS, heartbeats
	$(PYTEST) -q tests/integration --ignore=tests/integration/db

golden: $(STAMP) ## rewrite tests/unit/amphora/golden from the renderer (review the diff)
	PIER_UPDATE_GOLDEN=1 $(PYTEST) -q tests/unit/amphora

test-db: $(STAMP) ## migrations and the API tests on PostgreSQL and MariaDB
	$(PYTEST) -q tests/integration/db
	PIER_TEST_DATABASE=postgresql $(PYTEST) -q tests/unit/api
	PIER_TEST_DATABASE=mariadb $(PYTEST) -q tests/unit/api

test-e2e: $(STAMP) ## pier up + the real openstack CLI, openstacksdk and Ansible
	$(PYTEST) -q tests/e2e

conformance: $(STAMP) ## tempest API suite vs pier up (CONFORMANCE_REGEX=, CONFORMANCE_RBAC=advanced|keystone_default_roles)
	bash tests/conformance/run.sh

test: $(STAMP) ## every test: lint, types, unit, databases, end to end, conformance
	$(MAKE) --no-print-directory lint typecheck
	$(MAKE) --no-print-directory -j3 --output-sync=target conformance test-db test-e2e test-unit test-integration

bench-dataplane: $(STAMP) ## data-plane benchmark: Pier's VIP vs hand-written HAProxy vs direct (wrk)
	$(BIN)/python bench/dataplane/run.py

bench-density: $(STAMP) ## density benchmark: 100, 500 and 1,000 load balancers on this host
	$(BIN)/python bench/density/run.py

bench-failover: $(STAMP) ## kill an LB's HAProxy, then its agent, under load: outage and lost requests
	$(BIN)/python bench/failover/run.py

bench-heartbeat: $(STAMP) ## heartbeats verified and processed per second on one core
	$(BIN)/python bench/heartbeat/run.py

bench-api: $(STAMP) ## API benchmark: Pier vs a real Octavia, side by side
	$(BIN)/python bench/api/run.py --start

clean: ## remove the venv and local data
	rm -rf $(VENV) $(DATA_DIR) .mypy_cache .ruff_cache
