# Casework: two commands do everything.
#   make run   install, migrate, load the demo authority if empty, and serve on 127.0.0.1:$PORT
#   make test  every check: lint, types, assets, unit and integration tests (SQLite, and
#              PostgreSQL when TEST_DATABASE_URL is set), browser tests
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PORT ?= 8000
# uv is the only thing installed outside the project; `python3 -m uv` works right after a
# pip install even when pip's script folder is not on PATH.
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
MANAGE := $(UV) run --locked python manage.py
CHROMIUM ?= /usr/bin/chromium

.PHONY: help uv deps dev-deps migrate demo static run test lint types assets-check \
        test-sqlite test-postgres browser bench screenshots clean

help:
	@echo "make run    install, migrate, load the demo and serve on http://127.0.0.1:$(PORT)"
	@echo "make test   lint, types, tests on SQLite (and PostgreSQL if TEST_DATABASE_URL), browser tests"

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

run: demo static
	@echo "Casework is starting on http://127.0.0.1:$(PORT)/ (Ctrl+C stops it; your data stays in var/)"
	@DEBUG=true $(MANAGE) runserver 127.0.0.1:$(PORT)

lint: dev-deps
	@$(UV) run --locked ruff check .
	@$(UV) run --locked ruff format --check .

types: dev-deps
	@$(UV) run --locked mypy .

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

test-sqlite: dev-deps browser
	@echo "== tests on SQLite =="
	@env -u DATABASE_URL $(UV) run --locked pytest

test-postgres: dev-deps
	@if [ -n "$${TEST_DATABASE_URL:-}" ]; then \
	  echo "== tests on PostgreSQL =="; \
	  DATABASE_URL="$$TEST_DATABASE_URL" $(UV) run --locked pytest -m "not browser"; \
	else \
	  echo "TEST_DATABASE_URL is not set: skipping the PostgreSQL run (CI sets it)."; \
	fi

test: lint types assets-check test-sqlite test-postgres
	@echo "All checks passed."

# Regenerate the README's screenshots from a throwaway copy of the demo.
screenshots: dev-deps browser
	@$(UV) run --locked python scripts/screenshots.py

bench:
	@echo "Benchmarks arrive with the council-scale issue; nothing to run yet." >&2; exit 1

clean:
	rm -rf var/static .pytest_cache .mypy_cache .ruff_cache
