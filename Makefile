# tui-desk: the two commands of the quick start, and the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)  ## build the demo queue and open the console on it
	$(BIN)/tui-desk demo

test: $(STAMP)  ## run the whole suite
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)  ## print the performance table (see README)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info bench/out
