# Family-Contact Review: `make run` serves the demo, `make test` runs the suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | cksum | cut -d' ' -f1)
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379/0
# The suite uses its own Redis database so that a running worker is not disturbed.
TEST_REDIS_URL ?= $(shell echo '$(REDIS_URL)' | sed -E 's#/[0-9]*$$##')/15
PORT ?= 8000
# `make test` runs these again on SQLite, the `make run` default, without what only PostgreSQL has
# (tests marked postgresql_only). The SQLite test database lives in memory; SQLITE_PATH only keeps the
# demo's db.sqlite3 out of reach.
TEST_SQLITE_PATH ?= /tmp/family-contact-review-test.sqlite3
# Without DATABASE_URL the settings read a demo's .env.demo: set (empty) what it holds, so it lends the tests nothing.
SQLITE_NO_DEMO_ENV := DEMO_SKIP_MFA= AUDIT_SIGNING_KEY= AUDIT_PUBLIC_KEY= GATEWAY_WEBHOOK_SECRET=
SQLITE_TESTS := $(addprefix tests/collections_app/messaging/,test_escalation_ladder.py test_escalation_pauses.py \
	test_message_enqueue.py test_outbox_relay.py test_contact_gate_at_hand_off.py test_contact_gate_rules.py) \
	tests/collections_app/team/test_team_snapshots.py \
	$(addprefix tests/audit/,test_sealing.py test_verify_audit.py test_seal_refuses_a_damaged_frontier.py \
	test_vouched_transaction_ids_wrap.py test_merkle.py test_proofs.py test_signed_notes.py test_consistency_proofs.py \
	test_verify_incremental.py test_archives.py)
# Tests and benchmarks run with production defaults (DEBUG off) and a throwaway key.
# `make test` also sets REQUIRE_BROWSER=1 (a missing Chromium fails the browser test instead of skipping it)
# and HYPOTHESIS_PROFILE=ci (the same property-test examples on every run; see tests/conftest.py).
TEST_ENV := DEBUG=0 DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) SECRET_KEY=test-only-secret-key-not-for-production

.PHONY: run test bench lint messages venv services browser check-deploy

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

venv: $(STAMP)

# Compiled translation catalogues are build output; gettext provides msgfmt.
messages:
	@command -v msgfmt >/dev/null || { apt-get update -qq && apt-get install -y -qq gettext >/dev/null; } \
		|| { echo "msgfmt (gettext) is missing and could not be installed" >&2; exit 2; }
	@for po in locale/*/LC_MESSAGES/django.po; do msgfmt --check -o "$${po%.po}.mo" "$$po" || exit 2; done

run: venv messages
	$(PY) -m config.demo_launcher --port $(PORT)

services:
	@bash .ci/services.sh

browser:
	@bash .ci/browser.sh

test: venv messages services browser check-deploy
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run -v 0
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_ENV) REQUIRE_BROWSER=1 HYPOTHESIS_PROFILE=ci $(VENV)/bin/pytest
	$(TEST_ENV) HYPOTHESIS_PROFILE=ci env -u DATABASE_URL -u TEST_DB_NAME SQLITE_PATH=$(TEST_SQLITE_PATH) \
		$(SQLITE_NO_DEMO_ENV) $(VENV)/bin/pytest -q -m "not postgresql_only" $(SQLITE_TESTS)

bench: venv messages services
	$(TEST_ENV) $(PY) bench/run_all.py

# Django's deployment checklist under production-like settings.
check-deploy: venv
	DEBUG=0 ALLOWED_HOSTS=review.example.com SECRET_KEY="$$(head -c 48 /dev/urandom | base64)" \
		DATABASE_URL=$(DATABASE_URL) $(PY) manage.py check --deploy --fail-level WARNING

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
