# diarist: `make run` serves, `make test` checks. Both bootstrap .venv from pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test coverage lint typecheck bench fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/diarist serve

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/mypy tests
	$(BIN)/mypy bench

# SIZE=small (default, a few minutes) or SIZE=large (100 x 1,000 entries, then 1 M entries).
SIZE ?= small

bench: $(STAMP)
	$(BIN)/python -m bench.analysis --entries 400
	$(BIN)/python -m bench.load --size $(SIZE)
	$(BIN)/python -m bench.search --repeats 30
	$(BIN)/python -m bench.imports --entries $(if $(filter large,$(SIZE)),100000,20000)
	$(BIN)/python -m bench.web --entries 1000
	$(BIN)/python -m bench.reminders --reminders 10000
	$(BIN)/python -m bench.audit
	$(BIN)/python -m bench.crash
	$(BIN)/python -m bench.vault
	$(BIN)/python -m bench.backups --entries $(if $(filter large,$(SIZE)),1000000,100000)

test: lint typecheck
	$(BIN)/pytest --durations=15

# The same suite measured by coverage (about 40 % slower: kept out of make test's ten minutes).
coverage: lint typecheck
	$(BIN)/pytest --cov --cov-report=term --durations=15

# The API walk of make test, long: FUZZ_EXAMPLES generated cases per operation (400: about
# 25,000 requests, 5 minutes). Prints requests, 5xx and failures by kind; fails if any.
FUZZ_EXAMPLES ?= 400

fuzz: $(STAMP)
	DIARIST_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest -q -p no:cacheprovider tests/test_fuzz.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage*
