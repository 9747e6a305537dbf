# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test soak bench lint clean

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

# Long fault-injection soaks of the live harvesters (more answers, seeds and fault rates than
# the one `make test` runs): tests/test_soak.py, marker `soak`.
soak: $(STAMP)
	$(BIN)/python -m pytest -q -m soak

# Scale benchmarks on synthetic dump-shaped data: `make bench SIZES=1e5,1e6` for a quick run.
SIZES ?= 1e5,1e6,1e7
LINK_SIZES ?= 1e5,1e6
ASSESS_SIZES ?= 1e6,1e7
# 1e7 needs about 35 GB of free disk (input, database and reports): PIPELINE_SIZES=1e5,1e6,1e7
PIPELINE_SIZES ?= 1e5,1e6
bench: $(STAMP)
	$(BIN)/python -m bench --sizes $(SIZES)
	$(BIN)/python -m bench.harvest
	$(BIN)/python -m bench.link --sizes $(LINK_SIZES)
	$(BIN)/python -m bench.assess --sizes $(ASSESS_SIZES)
	$(BIN)/python -m bench.pipeline --sizes $(PIPELINE_SIZES)

lint: $(STAMP)
	$(BIN)/ruff check preservation tests bench
	$(BIN)/ruff format --check preservation tests bench

clean:
	rm -rf $(VENV) preservation.duckdb reports/*.html reports/*.csv reports/*.json
