# `make demo` and `make test` each create .venv if needed, install the pinned set, and run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared/data

.PHONY: demo test test-fast lint install default-model default-classifier bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) examples/demo.py

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not data"

lint: $(STAMP)
	$(VENV)/bin/ruff check mustache data_prep tests examples benchmarks

bench: $(STAMP)
	$(PY) benchmarks/prep.py

clean:
	rm -rf $(VENV) out
