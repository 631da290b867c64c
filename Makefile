# The developer loop. `make demo` and `make test` create the virtual environment on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Extra arguments for pytest, e.g. make test PYTEST_ARGS='-m "not browser"'
PYTEST_ARGS ?=

.PHONY: demo test test-cluster lint messages benchmarks clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements.lock
	$(BIN)/python -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

## Load the synthetic demo program and serve it on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/salus demo

## Run the whole test suite (SQLite; set DATABASE_URL=postgres://... for PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --durations=15 $(PYTEST_ARGS)

## The optional Ray cluster path, with a real local Ray instance (installs requirements-cluster.lock)
test-cluster: $(STAMP)
	$(BIN)/python -m pip install --disable-pip-version-check -q -r requirements-cluster.lock -c requirements.lock
	SALUS_REQUIRE_RAY=1 $(BIN)/python -m pytest -m cluster tests/model

## Static checks, run by CI: ruff's lint rules and mypy's type check (with Django's stubs)
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy src

## Extract and compile translations (scripts/i18n.py)
messages: $(STAMP)
	$(BIN)/python scripts/i18n.py

## Print the speed and memory figures (see benchmarks/README.md)
benchmarks: $(STAMP)
	$(BIN)/python benchmarks/import_contacts.py
	$(BIN)/python benchmarks/indicators.py
	$(BIN)/python benchmarks/model.py
	$(BIN)/python benchmarks/load.py

clean:
	rm -rf $(VENV) salus-data
