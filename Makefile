# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/preservation run --db preservation.duckdb --out reports

test: $(STAMP)
	$(BIN)/ruff check preservation tests
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check preservation tests
	$(BIN)/ruff format --check preservation tests

clean:
	rm -rf $(VENV) preservation.duckdb reports/*.html reports/*.csv reports/*.json
