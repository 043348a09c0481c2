# Taskscore — the one entry point for people and CI. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
LOCAL := .local

export API_HOST ?= 127.0.0.1
export API_PORT ?= 8000
export WEB_HOST ?= 127.0.0.1
export WEB_PORT ?= 3000
export DJANGO_ORIGIN ?= http://$(API_HOST):$(API_PORT)
export WEB_ORIGIN ?= http://$(WEB_HOST):$(WEB_PORT)
export NEXT_TELEMETRY_DISABLED := 1
CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH
# The serving processes and manage.py default to production settings; a developer's machine
# chooses the local ones for what `make` starts (not exported: pytest chooses its own), and
# readable log lines instead of production's JSON (honcho interleaves five processes' output).
LOCAL_SETTINGS := DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-config.settings.local} \
	LOG_FORMAT=$${LOG_FORMAT:-text}

PY_STAMP := $(VENV)/.installed
NPM_STAMP := frontend/node_modules/.installed
FRONTEND_BUILD := frontend/.next/BUILD_ID
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/package-lock.json frontend/next.config.ts frontend/tsconfig.json

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# ------------------------------------------------------------------------------ install
# System programs (python3-venv, Node.js with npm, the servers, chromium): scripts/system-deps.sh
# installs Debian's packages when run as root, or says which to install (docs/operations.md).
$(PY_STAMP): backend/requirements.txt backend/requirements-dev.txt backend/requirements-nodeps.txt
	@test -x $(PY) || PYTHON=$(PYTHON) scripts/system-deps.sh install python node
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; set PYTHON=python3.x")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r backend/requirements-dev.txt
	@# Packages whose declared dependencies we do not use (torch, a model hub): see docs/decisions/0003
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r backend/requirements-nodeps.txt
	@touch $@

$(NPM_STAMP): frontend/package.json frontend/package-lock.json
	@scripts/system-deps.sh install node
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.PHONY: install
install: $(PY_STAMP) $(NPM_STAMP) ## Create .venv and install Python and npm dependencies (when missing)

.PHONY: browser
browser: ## Install Debian's chromium, and the redis-server and pg_dump the tests start, when missing (as root; else say what to install)
	@CHROMIUM_PATH="$(CHROMIUM_PATH)" scripts/system-deps.sh install browser test-tools

$(FRONTEND_BUILD): $(NPM_STAMP) $(FRONTEND_SOURCES)
	cd frontend && npm run build --silent
	@touch $@

.PHONY: build
build: $(FRONTEND_BUILD) ## Build the Next.js app (when its sources changed)

# ------------------------------------------------------------------------------ run
.PHONY: services
services: ## Make sure Postgres and Redis answer (starts project-local ones if none runs; installs missing server packages as root)
	@scripts/services.sh ensure

.PHONY: services-stop
services-stop: ## Stop the project-local Postgres/Redis started by `make services`
	@scripts/services.sh stop

.PHONY: bare-debian-check
bare-debian-check: ## As root: `make run`, then `make test`, in a new Debian 12 root (debootstrap) with its own network namespace (an hour or more)
	scripts/bare-debian-check.sh check

.PHONY: migrate
migrate: $(PY_STAMP) services ## Apply database migrations
	cd backend && $(LOCAL_SETTINGS) ../$(PY) manage.py migrate --no-input -v 0

.PHONY: run
run: install build migrate ## Start the whole stack (web app, API, worker, beat); Ctrl-C stops it
	@cd backend && $(LOCAL_SETTINGS) ../$(PY) manage.py demo --state ../$(LOCAL)/demo.json
	@echo "Web app:  $(WEB_ORIGIN)    API: $(DJANGO_ORIGIN)/api/v2/docs"
	$(LOCAL_SETTINGS) $(VENV)/bin/honcho -f Procfile -d . start -c worker=$${WORKER_PROCESSES:-2}

# ------------------------------------------------------------------------------ quality
.PHONY: fmt
fmt: $(PY_STAMP) ## Format Python code
	cd backend && ../$(VENV)/bin/ruff format . && ../$(VENV)/bin/ruff check --fix .

.PHONY: openapi
openapi: $(PY_STAMP) $(NPM_STAMP) ## Regenerate the committed v2 OpenAPI file, the frontend's types and limits, and the docs' error table
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.test ../$(PY) manage.py openapi --api v2 --output openapi/v2.json
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.test ../$(PY) manage.py problems --write ../docs/api.md
	cd frontend && npm run --silent gen:api

.PHONY: lint
lint: $(PY_STAMP) $(NPM_STAMP) ## ruff, mypy, import-linter, drift checks (OpenAPI, error table), the migration linter, tsc, ESLint, shellcheck
	cd backend && ../$(VENV)/bin/ruff check . ../bench && ../$(VENV)/bin/ruff format --check . ../bench
	cd backend && ../$(VENV)/bin/mypy .
	cd backend && ../$(VENV)/bin/lint-imports --no-cache
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.test ../$(PY) manage.py openapi --api v2 --check openapi/v2.json
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.test ../$(PY) manage.py problems --check ../docs/api.md
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.test ../$(PY) manage.py lintmigrations
	cd backend && DJANGO_SETTINGS_MODULE=config.settings.production MAIL_OUTBOX_DIR= \
	  DJANGO_SECRET_KEY=check-deploy-only-$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  STRIPE_SECRET_KEY=check-deploy-only-$$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  STRIPE_WEBHOOK_SECRET=check-deploy-only-$$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	  ../$(PY) manage.py check --deploy --fail-level WARNING
	cd frontend && npm run --silent typecheck
	cd frontend && npm run --silent lint
	$(VENV)/bin/shellcheck scripts/*.sh

# ------------------------------------------------------------------------------ test
.PHONY: hooks
hooks: $(PY_STAMP) ## Install the git pre-commit hooks (ruff, OpenAPI regeneration, ESLint, shellcheck)
	$(VENV)/bin/pre-commit install

.PHONY: test
test: install browser services lint build test-frontend test-backend ## Install what is missing, start what is down, run every test

.PHONY: test-backend
# Two test processes (pytest-xdist), each test module whole in one of them (its module-scoped
# worker, server and fault fixtures stay together): each has its own test database, queue, cache
# prefixes, ports and throwaway Redis for fault tests, so they cannot meet.
test-backend: $(PY_STAMP) services ## pytest: unit, API, real-worker integration and browser (e2e) tests, two at a time
	cd backend && ../$(PY) -m pytest -n 2 --dist loadfile

.PHONY: test-fast
test-fast: $(PY_STAMP) services ## The quick loop: unit and API tests on Postgres and Redis (no worker, browser, fuzzing or slow races), two at a time
	cd backend && ../$(PY) -m pytest -m "not integration and not e2e and not slow" -n 2 --reuse-db -q

.PHONY: test-frontend
test-frontend: $(NPM_STAMP) ## vitest unit tests of the web app
	cd frontend && npm test --silent

# ------------------------------------------------------------------------------ benchmarks
.PHONY: bench-scoring
bench-scoring: $(PY_STAMP) services ## Scoring throughput vs Little's law with a 0.2–2.0 s fake AI (JSON last line)
	$(PY) bench/scoring.py

.PHONY: bench-scoring-job
bench-scoring-job: $(PY_STAMP) services ## One scoring job's CPU and SQL statements in-process, with its profile (JSON last line)
	$(PY) bench/scoring_job.py

.PHONY: bench-instructions
bench-instructions: $(PY_STAMP) services ## CPU instructions per API request and per scoring job in-process, counted by callgrind: exact across noisy machines (JSON last line)
	$(PY) bench/instructions.py

.PHONY: bench-api
bench-api: $(PY_STAMP) services ## API req/s and p50/p99 under open-model load vs a bare endpoint; polling clients; AI hang isolation (JSON last line)
	$(PY) bench/api.py

.PHONY: bench-rbac
bench-rbac: $(PY_STAMP) services ## Cached permission check vs a raw Redis GET; stale grants across processes (JSON last line)
	$(PY) bench/rbac.py

.PHONY: bench-judge
bench-judge: $(PY_STAMP) ## The offline judge's time per assessment vs a bare MiniLM encode (JSON last line)
	$(PY) bench/judge.py

.PHONY: bench-scale
bench-scale: $(PY_STAMP) services ## API reads with 1,000,000 tasks in an org vs 10,000 (its own database; JSON last line)
	$(PY) bench/scale.py

.PHONY: chaos
chaos: $(PY_STAMP) services ## 2,000 tasks while workers are SIGKILLed, Redis restarts and the AI fails (JSON last line)
	$(PY) bench/chaos.py

.PHONY: chaos-billing
chaos-billing: $(PY_STAMP) services ## 5,000+ signed Stripe events, duplicated, shuffled, with web workers SIGKILLed (JSON last line)
	$(PY) bench/chaos_billing.py

.PHONY: chaos-cluster
chaos-cluster: $(PY_STAMP) services ## 5,000 tasks via two APIs and three worker nodes on RabbitMQ while a node, RabbitMQ and Redis restart (JSON last line)
	@CELERY_BROKER_URL=$${CHAOS_CLUSTER_BROKER_URL:-amqp://guest:guest@127.0.0.1:5672//} scripts/services.sh ensure
	$(PY) bench/chaos_cluster.py

.PHONY: soak
soak: $(PY_STAMP) services ## 10 min of browsing, submissions and webhooks from locust, a worker and a Redis restart midway: 5xx, lost tasks, RSS growth (JSON last line)
	$(PY) bench/soak.py

.PHONY: backup-drill
backup-drill: $(PY_STAMP) services ## Dump, restore into a new database, compare every table (JSON last line)
	$(PY) bench/backup_drill.py

# Each benchmark in turn (one JSON line each; a failing one stops the rest, as it should).
.PHONY: bench
bench: ## Every benchmark and fault run in turn: scoring, api, instructions, rbac, judge, scale, chaos, chaos-billing, lighthouse
	$(MAKE) bench-scoring
	$(MAKE) bench-api
	$(MAKE) bench-instructions
	$(MAKE) bench-rbac
	$(MAKE) bench-judge
	$(MAKE) bench-scale
	$(MAKE) chaos
	$(MAKE) chaos-billing
	$(MAKE) lighthouse

# ------------------------------------------------------------------------------ the offline judge
.PHONY: train-judge
train-judge: $(PY_STAMP) ## Rebuild the judge's weights from its labelled tasks (reproducible; never reads the held-out split)
	cd backend && ../$(PY) -m taskscore.integrations.ai.judge.train

.PHONY: calibrate
calibrate: $(PY_STAMP) ## Every offline provider on the held-out split: one JSON line per provider and rubric
	cd backend && ../$(PY) -m taskscore.integrations.ai.judge.calibrate

.PHONY: lighthouse
lighthouse: $(PY_STAMP) build browser services ## Lighthouse on the tasks, a task, members and billing pages, logged in (JSON last line; LIGHTHOUSE_PRESET=desktop)
	$(PY) bench/lighthouse.py

.PHONY: clean
clean: ## Remove build output and caches (keeps .venv, node_modules and .local)
	rm -rf frontend/.next backend/.pytest_cache backend/.mypy_cache backend/.ruff_cache
