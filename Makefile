# The two commands of the README: `make run` and `make test`. Both create .venv,
# install the pinned requirements, and start a private PostgreSQL and Redis when
# DATABASE_URL / REDIS_URL are not set.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: run test fuzz browser-check lint format bench migrations clean

$(STAMP): requirements/base.txt requirements/dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m devstack run

test: $(STAMP)
	$(PY) -m devstack test $(PYTEST_ARGS)

# Schemathesis over the whole API once per role, against a real server (tests/fuzz): minutes,
# so apart from `make test`. FUZZ_EXAMPLES sets the budget per operation and mode.
fuzz: $(STAMP)
	MANIFEST_FUZZ=1 $(PY) -m devstack test $(PYTEST_ARGS) tests/fuzz

# The admin, the public pages and the API docs in headless Chromium under the
# Content-Security-Policy (tests/browser). Needs Debian's chromium and node; installs the pinned
# playwright-core from tests/browser/package-lock.json. `make test` skips these without it.
browser-check: $(STAMP)
	npm ci --prefix tests/browser --no-audit --no-fund
	MANIFEST_BROWSER_CHECK=1 $(PY) -m devstack test -p no:xdist tests/browser

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) -m bench rls --json
	$(PY) -m bench api-overhead --json
	$(PY) -m bench auth-overhead --json
	$(PY) -m bench orders-list --json
	$(PY) -m bench documents --json
	$(PY) -m bench quote --json
	$(PY) -m bench escrow --json

migrations: $(STAMP)
	$(PY) -m devstack exec -- $(PY) manage.py makemigrations

clean:
	rm -rf $(VENV) var
