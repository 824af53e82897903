# One-command entry points. `make run` and `make test` work on a fresh machine
# with Python 3.11+, make and node/npm; they install from the lock files.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FRONT_STAMP := frontend/node_modules/.installed
PIP_FLAGS := --disable-pip-version-check -q

.PHONY: run test test-py test-front check format install frontend bench bench-quick soak clean

$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install $(PIP_FLAGS) -r requirements/lock.txt > $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	$(BIN)/pip install $(PIP_FLAGS) --no-deps -e . >> $(VENV)/pip.log 2>&1 || (cat $(VENV)/pip.log; exit 1)
	$(BIN)/python -c "import atarys, flask, sqlalchemy, googleapiclient"
	touch $(STAMP)

install: $(STAMP)

$(FRONT_STAMP): frontend/package-lock.json frontend/package.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $(FRONT_STAMP)

frontend: $(FRONT_STAMP)
	cd frontend && npm run build

PORT ?= 5000

## Run the app in demo mode: embedded SQLite + embedded Google emulator with sample contacts.
## `make run PORT=8080` serves on another port.
run: install frontend
	$(BIN)/atarys serve --demo --port $(PORT)

## Run the whole test suite (Python on SQLite, and PostgreSQL when ATARYS_TEST_POSTGRES_URL is set; front-end unit tests).
test: install $(FRONT_STAMP)
	cd frontend && npm run build && npm test
	$(BIN)/pytest

test-py: install
	$(BIN)/pytest

## Lint, format check and strict typing.
check: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: install
	$(BIN)/python -m bench.run

bench-quick: install
	$(BIN)/python -m bench.run --quick

clean:
	rm -rf $(VENV) frontend/node_modules src/atarys/static

## Adversarial soak (not in CI): the sync state machine's deep profile (batches of 25
## examples of up to 40 steps, every fault, a fresh random seed per batch) until SOAK_SECONDS
## per database (default 600), on SQLite and PostgreSQL; one line per batch, then the
## examples, steps and clean syncs explored; a failure prints its seed (replay:
## ATARYS_HYPOTHESIS_PROFILE=deep ATARYS_HYPOTHESIS_SEED=<seed>).
SOAK_SECONDS ?= 600
soak: install
	PYTHONUNBUFFERED=1 ATARYS_HYPOTHESIS_PROFILE=deep ATARYS_HYPOTHESIS_SECONDS=$(SOAK_SECONDS) ATARYS_TEST_POSTGRES_URL=$${ATARYS_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -q -s -p no:cacheprovider tests/sync/test_state_machine.py
