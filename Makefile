# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/preservation run --db preservation.duckdb --out reports

test: $(STAMP)
	$(BIN)/ruff check preservation tests bench
	$(BIN)/python -m pytest -q

# Scale benchmarks on synthetic dump-shaped data: `make bench SIZES=1e5,1e6` for a quick run.
SIZES ?= 1e5,1e6,1e7
LINK_SIZES ?= 1e5,1e6
ASSESS_SIZES ?= 1e6,1e7
bench: $(STAMP)
	$(BIN)/python -m bench --sizes $(SIZES)
	$(BIN)/python -m bench.harvest
	$(BIN)/python -m bench.link --sizes $(LINK_SIZES)
	$(BIN)/python -m bench.assess --sizes $(ASSESS_SIZES)

lint: $(STAMP)
	$(BIN)/ruff check preservation tests bench
	$(BIN)/ruff format --check preservation tests bench

clean:
	rm -rf $(VENV) preservation.duckdb reports/*.html reports/*.csv reports/*.json
