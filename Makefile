# Crisis Desk. The two commands a new user needs:  make demo  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
export DJANGO_SETTINGS_MODULE ?= crisisdesk.settings_test

.PHONY: setup demo test lint typecheck pytest bench clean

$(STAMP): pyproject.toml requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

setup: $(STAMP)

## make demo: migrate, load the demo weekday at MECC, print the logins, serve on 127.0.0.1:$(PORT)
demo: setup
	PORT=$(PORT) $(BIN)/crisisdesk demo --port $(PORT)

## make test: lint, type-check and every test (on DATABASE_URL; SQLite by default)
test: setup lint typecheck pytest

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest -q

## make bench: load and latency benchmarks; results in bench/results/
bench: setup
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.analytics
	$(BIN)/python -m bench.staffing
	$(BIN)/python -m bench.directory
	$(BIN)/python -m bench.audit

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
