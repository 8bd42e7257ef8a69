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

# The shipped mustache-ness classifier: trained on the prepped CelebA + LFW dataset (DATA), also
# evaluated on held-out LFW clean-shaven men vs mustached men (labels from LFW's predictions).
DATA ?= ../data/full
default-classifier: $(STAMP)
	mkdir -p out
	awk -F, 'NR == 1 {print "file,label"} NR > 1 && $$3 > 0.5 && $$4 > 0.5 {print $$1 ",mustache"} \
		NR > 1 && $$3 > 0.5 && $$4 < 0.05 && $$5 < 0.05 && $$6 > 0.9 {print $$1 ",clean"}' \
		$(SHARED)/lfw/manifest.csv > out/lfw_men.csv
	$(VENV)/bin/mustache train-classifier $(DATA) --out mustache/weights/classifier.pt \
		--epochs 14 --samples 6000 --batch 64 --lr 2e-3 --holdout 0.2 --drop-noisy 0.1 \
		--eval-labels out/lfw_men.csv --seed 0 --device cpu --threads 2

clean:
	rm -rf $(VENV) out
