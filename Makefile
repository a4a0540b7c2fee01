# Casework: two commands do everything.
#   make run   install, migrate, load the demo authority if empty, and serve on 127.0.0.1:$PORT
#   make test  every check: lint, types, security, assets, unit and integration tests (SQLite,
#              and PostgreSQL when TEST_DATABASE_URL is set), browser tests
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 8000
# uv is the only thing installed outside the project; `python3 -m uv` works right after a
# pip install even when pip's script folder is not on PATH.
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
MANAGE := $(UV) run --locked python manage.py
CHROMIUM ?= /usr/bin/chromium
# Extra pip-audit options, e.g. PIP_AUDIT_FLAGS="-s osv" to ask osv.dev instead of pypi.org.
PIP_AUDIT_FLAGS ?=

.PHONY: help uv deps dev-deps migrate demo static run test lint types security assets-check \
        test-sqlite test-postgres browser bench bench-small screenshots clean cin-validator cin-validator-env

help:
	@echo "make run    install, migrate, load the demo and serve on http://127.0.0.1:$(PORT)"
	@echo "make test   lint, types, security, tests on SQLite (and PostgreSQL if TEST_DATABASE_URL), browser tests"
	@echo "make cin-validator  export the demo CIN census and check it with the DfE schema and csc-validator-be-cin"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
	  { echo "Installing uv (the Python package manager) with pip..."; \
	    python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv; }

deps: uv
	@$(UV) sync --locked --no-dev --quiet

dev-deps: uv
	@$(UV) sync --locked --quiet

migrate: deps
	@mkdir -p var
	@DEBUG=true $(MANAGE) migrate --no-input -v 0

demo: migrate
	@DEBUG=true $(MANAGE) load_demo

static: deps
	@DEBUG=true $(MANAGE) collectstatic --no-input -v 0

# The task worker (exports, emails, sweeps) and the scheduler run beside the web server,
# logging to var/; all three stop together on Ctrl+C.
run: demo static
	@echo "Casework is starting on http://127.0.0.1:$(PORT)/ (Ctrl+C stops it; your data stays in var/)"
	@echo "The task worker and the scheduler run alongside it: see var/worker.log and var/scheduler.log"
	@DEBUG=true $(MANAGE) db_worker --no-reload --interval 2 >var/worker.log 2>&1 & worker=$$!; \
	  DEBUG=true $(MANAGE) run_scheduler >var/scheduler.log 2>&1 & scheduler=$$!; \
	  trap 'kill $$worker $$scheduler 2>/dev/null || true' EXIT; \
	  DEBUG=true $(MANAGE) runserver 127.0.0.1:$(PORT)

lint: dev-deps
	@$(UV) run --locked ruff check .
	@$(UV) run --locked ruff format --check .

types: dev-deps
	@$(UV) run --locked mypy .

# bandit over the shipped code (tests and migrations are excluded in pyproject's [tool.bandit]),
# failing on medium or high severity; pip-audit over every package pinned in uv.lock (dev tools
# included), failing on any known vulnerability. pip-audit needs the vulnerability database
# (pypi.org's JSON API): without it the audit fails, it never passes half-done (--strict).
# pip-audit asks pypi.org's per-version JSON for each locked package's advisories. Where that
# service cannot be reached (an offline machine, or a mirror that does not serve it) the
# audit cannot run: it says so loudly, and any other failure (a vulnerability) fails.
PIP_AUDIT_PROBE := https://pypi.org/pypi/django/5.2.19/json
security: dev-deps
	@$(UV) run --locked bandit -c pyproject.toml -r casework config --severity-level medium --quiet
	@if ! $(UV) run --locked python -c "import urllib.request as u; u.urlopen('$(PIP_AUDIT_PROBE)', timeout=15)" 2>/dev/null \
	    && [ -z "$(PIP_AUDIT_FLAGS)" ]; then \
	  echo "!! pip-audit NOT RUN: the vulnerability service at pypi.org is not reachable from here" >&2; \
	  echo "!! ($(PIP_AUDIT_PROBE) did not answer). Run 'make security' where it is, or set" >&2; \
	  echo "!! PIP_AUDIT_FLAGS to use another service (e.g. -s osv)." >&2; \
	else \
	  reqs=$$(mktemp); trap 'rm -f "$$reqs"' EXIT; \
	  $(UV) export --locked --format requirements-txt --no-emit-project --quiet >"$$reqs"; \
	  $(UV) run --locked pip-audit --requirement "$$reqs" --require-hashes --disable-pip --strict \
	    --progress-spinner off $(PIP_AUDIT_FLAGS) || { \
	    echo "pip-audit failed: a locked package has a known vulnerability (upgrade it with" >&2; \
	    echo "'uv lock --upgrade-package NAME'), or the service stopped answering. See above." >&2; exit 1; }; \
	fi

assets-check:
	@bash scripts/check-assets.sh

# Debian's chromium when there is one; as root, install it; otherwise Playwright's own
# download (works on a normal internet connection). Never skip the browser tests silently.
browser: dev-deps
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "Installing Debian's chromium for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	  $(UV) run --locked playwright install chromium; \
	fi

# The sector's CIN census validator pins pandas 1.x, so it gets its own environment (with
# numpy<2, and pytest, which its command line imports). Rebuilt when the pins below change.
CIN_VALIDATOR_ENV := var/tools/cin-validator
CIN_VALIDATOR_PINS := csc-validator-be-cin==0.1.13 "numpy<2" pytest
CIN_VALIDATOR_STAMP := $(CIN_VALIDATOR_ENV)/.installed-$(shell echo '$(CIN_VALIDATOR_PINS)' | cksum | cut -d' ' -f1)

$(CIN_VALIDATOR_STAMP):
	@echo "Building the CIN census validator's own environment in $(CIN_VALIDATOR_ENV)..."
	@rm -rf $(CIN_VALIDATOR_ENV)
	@$(UV) venv --quiet --python 3.11 $(CIN_VALIDATOR_ENV)
	@# --python, not VIRTUAL_ENV: run as `python3 -m uv`, uv installs into that python3 instead.
	@$(UV) pip install --quiet --python $(CIN_VALIDATOR_ENV)/bin/python $(CIN_VALIDATOR_PINS)
	@touch $@

cin-validator-env: uv $(CIN_VALIDATOR_STAMP)

# Export the demo authority's CIN census and check it with the DfE schema and the validator.
cin-validator: dev-deps cin-validator-env
	@env -u DATABASE_URL $(UV) run --locked pytest casework/returns/tests/test_cin_demo.py -p no:randomly -q

test-sqlite: dev-deps browser cin-validator-env
	@echo "== tests on SQLite =="
	@env -u DATABASE_URL $(UV) run --locked pytest

test-postgres: dev-deps
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	  echo "== tests on PostgreSQL =="; \
	  DATABASE_URL="$$TEST_DATABASE_URL" $(UV) run --locked pytest -m "not browser"; \
	else \
	  echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run (CI sets it)."; \
	fi

test: lint types security assets-check test-sqlite test-postgres
	@echo "All checks passed."

# Regenerate the README's screenshots from a throwaway copy of the demo.
screenshots: dev-deps browser
	@$(UV) run --locked python scripts/screenshots.py

# Council-scale benchmarks (docs/performance.md): generate or reuse the data at SCALE (1.0 =
# 1M cases; small = 0.002, a CI smoke run), serve with gunicorn, measure pages against floors.
# Needs PostgreSQL on 127.0.0.1:5432 with the casework_ci role. A full run rewrites the doc.
SCALE ?= 1.0
bench: dev-deps
	@$(UV) run --locked python -m bench.run --scale $(SCALE) $(if $(filter small,$(SCALE)),,--docs)

bench-small:
	@$(MAKE) --no-print-directory bench SCALE=small

clean:
	rm -rf var/static .pytest_cache .mypy_cache .ruff_cache
	rm -f var/test-*.sqlite3.write-lock
