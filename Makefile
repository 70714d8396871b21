# Two commands for a fresh Debian/Ubuntu machine (see README):
#   make demo   install everything, build the demo data on SQLite, serve it on :8000
#   make test   install everything, run the whole test suite
# DATABASE_URL selects PostgreSQL for either, e.g. postgres://postgres@127.0.0.1:5432/relief

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

# PostgreSQL's pg_dump/pg_restore for `manage.py backup` and `restore`. They must be at least
# the server's version: Debian 12's postgresql-client is 15, like its server; for another
# server version set e.g. PG_CLIENT=postgresql-client-16 (from apt.postgresql.org).
PG_CLIENT ?= postgresql-client

# Debian package names: WeasyPrint's Pango, HarfBuzz's subsetter (fast font embedding),
# a CJK font for Chinese PDFs, Chromium for the browser tests, gettext for translations,
# the PostgreSQL client programs for backups.
SYSTEM_PACKAGES := python3-venv python3-dev libpango-1.0-0 libpangoft2-1.0-0 \
	libharfbuzz-subset0 fonts-noto-cjk chromium gettext $(PG_CLIENT)

.PHONY: demo test install system-packages venv bench-install load-test messages check clean

# DEBUG is off unless set (config/settings.py); the demo is the one place it is on.
demo: export DEBUG = 1
demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo "Open http://$(HOST):$(PORT)/ (admin: http://$(HOST):$(PORT)/admin/)"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(VENV)/bin/pytest $(PYTEST_ARGS)

install: system-packages venv

system-packages:
	@bash scripts/install-system-packages $(SYSTEM_PACKAGES)

# The stamp makes a second `make test` skip pip when nothing it depends on changed.
venv: $(VENV)/.install-stamp

$(VENV)/.install-stamp: pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c requirements.lock -e ".[test,prod]"
	touch $@

# The load test's tool (locust, the optional 'bench' group), kept out of the plain install.
bench-install: $(VENV)/.bench-stamp

$(VENV)/.bench-stamp: $(VENV)/.install-stamp
	$(PIP) install --quiet -c requirements.lock -e ".[test,prod,bench]"
	touch $@

# Issue 12's load test in its small form (what CI runs) on its own PostgreSQL database, which
# it re-creates and drops; the full form and its figures: bench/RESULTS.md.
LOAD_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/relief_load_ci
load-test: install bench-install
	LOAD_DATABASE_URL=$(LOAD_DATABASE_URL) $(PY) bench/load/run.py --ci

# Regenerate translation catalogs after changing user-facing strings, then translate and
# commit locale/ (the compiled .mo files ship with the code).
messages: install
	$(PY) manage.py makemessages --locale zh_Hans --no-obsolete --ignore '$(VENV)/*'
	$(PY) manage.py compilemessages --locale zh_Hans --ignore '$(VENV)/*'

check: export DEBUG = 1
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check --fail-level WARNING
	$(PY) manage.py makemigrations --check --dry-run
	@bash scripts/check-translations

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache
