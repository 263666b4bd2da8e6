# make run: set up, migrate, load the demo, start the mail sink and listener, serve on http://127.0.0.1:5000
# make test: the same set-up, then the whole suite (SQLite, then PostgreSQL when one answers)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app portal
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_USER ?= postgres
CHROMIUM ?= /usr/bin/chromium
DOVECOT ?= /usr/sbin/dovecot

.PHONY: run test setup translations migrate demo lint chromium dovecot postgres test-sqlite test-postgres bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed translations

translations: $(BIN)/.installed
	$(BIN)/pybabel -q compile -f -d portal/translations

migrate: setup
	PORTAL_ENV=development $(FLASK) db upgrade

demo: migrate
	PORTAL_ENV=development $(FLASK) demo

# The mail sink (SMTP on 127.0.0.1:8025, the default SMTP_PORT) and the mail listener (SMTP on
# 127.0.0.1:2525: mail to the support addresses becomes tickets) run beside the server and stop
# with it; what the demo sends lands in instance/mail-sink (admins see it at /admin/mail).
run: demo
	@echo "Serving on http://127.0.0.1:5000  (demo logins above, password portal-demo)"
	PORTAL_ENV=development $(FLASK) mail sink & sink=$$!; \
	PORTAL_ENV=development $(FLASK) mail receive & receiver=$$!; \
	trap 'kill $$sink $$receiver 2>/dev/null; wait $$sink $$receiver' EXIT; \
	trap 'exit 130' INT TERM; \
	PORTAL_ENV=development PORTAL_SCHEDULER=on $(FLASK) run --host 127.0.0.1 --port 5000

# Browser tests drive Debian's Chromium; install it when it is missing.
chromium:
	@test -x $(CHROMIUM) || { echo "Installing Debian's chromium for the browser tests..."; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null; }

# The IMAP tests (tests/portal/mail/imap) start their own Dovecot; install it when it is missing.
dovecot:
	@test -x $(DOVECOT) || { echo "Installing Debian's dovecot-imapd for the IMAP tests..."; \
	  (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q dovecot-imapd) >/dev/null; }

# Start the local PostgreSQL server when it is installed but not answering.
postgres:
	@command -v pg_isready >/dev/null && { pg_isready -q -h $(PG_HOST) -p $(PG_PORT) || \
	  { command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1 && \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -1) main start \
	    >/dev/null 2>&1; sleep 2; }; } || true

# The two runs share nothing (their own databases, instance folders and ports), so they run
# side by side: one core each. Each run's output is printed whole when it ends.
test: setup chromium dovecot postgres
	$(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite:
	@echo "== Test suite on SQLite (with browser tests) =="
	$(BIN)/python -m pytest -q

test-postgres:
	@if command -v pg_isready >/dev/null && pg_isready -q -h $(PG_HOST) -p $(PG_PORT); then \
	  db=portal_test_$$$$; \
	  echo "== Test suite again on PostgreSQL ($(PG_HOST):$(PG_PORT), database $$db) =="; \
	  psql -q -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) -d postgres -c "CREATE DATABASE $$db" || exit 1; \
	  DATABASE_URL=postgresql://$(PG_USER)@$(PG_HOST):$(PG_PORT)/$$db \
	    $(BIN)/python -m pytest -q -m "not browser"; status=$$?; \
	  psql -q -h $(PG_HOST) -p $(PG_PORT) -U $(PG_USER) -d postgres -c "DROP DATABASE $$db WITH (FORCE)"; \
	  exit $$status; \
	else \
	  echo "== PostgreSQL SKIPPED: no server answers at $(PG_HOST):$(PG_PORT) =="; \
	fi

lint: setup
	$(BIN)/ruff check portal kb tests bench
	$(BIN)/ruff format --check portal kb tests bench

bench: demo
	$(BIN)/python bench/pages.py
