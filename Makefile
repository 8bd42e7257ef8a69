# `make demo` and `make test` each create .venv if needed, install the pinned set, and run.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared/data

.PHONY: demo test test-fast lint install dataset default-model default-classifier bench onnx clean

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

# The training dataset: CelebA (human labels) + LFW (labels from its predicted attributes,
# examples/lfw_labels.py) prepped into DATA, windows cut through the canvas (the face's mesh).
# About 2.5 minutes on 2 cores.
DATA ?= out/data
$(DATA)/.complete: $(STAMP)
	mkdir -p out
	$(PY) examples/lfw_labels.py $(SHARED)/lfw/manifest.csv out/lfw_labels.csv
	$(VENV)/bin/mustache prep $(SHARED)/celeba/images --out $(DATA) \
		--celeba-attrs $(SHARED)/celeba/list_attr_celeba_staged.txt
	$(VENV)/bin/mustache prep $(SHARED)/lfw/images --out $(DATA) --labels out/lfw_labels.csv
	touch $@

dataset: $(DATA)/.complete

# The guide: a second mustache classifier (another seed, the mask as a 4th channel) whose
# verdict joins the generator's loss; `mustache eval` judges with the shipped one instead.
# 3-9 minutes on 2 cores (9 with other work beside it).
GUIDE ?= out/guide.pt
$(GUIDE): $(DATA)/.complete
	$(VENV)/bin/mustache train-classifier $(DATA) --out $(GUIDE) \
		--epochs 14 --samples 6000 --batch 64 --lr 2e-3 --holdout 0.2 --drop-noisy 0.1 --fake-negatives 0.15 \
		--use-mask --seed 1 --device cpu --threads 2

# The shipped generator: the default preset on DATA (10% of people held out by name hash),
# guided (weight 4), exported as the small apply-only file mustache/weights/default.pt.
# 750 steps, 6-9 minutes on 2 cores: `mustache eval` ranked step 750 best of a 2,500-step
# run (later steps paint fainter mustaches; earlier ones flat blobs). The learning rate is
# constant after warm-up, so a 750-step run is that run's step 750. Then `make onnx`.
RUN ?= out/runs/default
STEPS ?= 750
default-model: $(DATA)/.complete $(GUIDE)
	$(VENV)/bin/mustache train --data $(DATA) --preset default --steps $(STEPS) --seed 0 \
		--guide $(GUIDE) --guide-weight 4 --checkpoint-every 250 --out $(RUN)
	$(PY) examples/export_model.py $(RUN) mustache/weights/default.pt

# The shipped mustache-ness classifier: trained on the prepped CelebA + LFW dataset (DATA), also
# evaluated on held-out LFW clean-shaven men vs mustached men (labels from LFW's predictions).
# The shipped file was trained on flat windows (a dataset prepped before the canvas window:
# its prep config has no canvas_window); DATA is now cut through the canvas, so this target
# makes a canvas-window classifier (it cuts its own windows the same way wherever it is used).
default-classifier: $(DATA)/.complete
	mkdir -p out
	awk -F, 'NR == 1 {print "file,label"} NR > 1 && $$3 > 0.5 && $$4 > 0.5 {print $$1 ",mustache"} \
		NR > 1 && $$3 > 0.5 && $$4 < 0.05 && $$5 < 0.05 && $$6 > 0.9 {print $$1 ",clean"}' \
		$(SHARED)/lfw/manifest.csv > out/lfw_men.csv
	$(VENV)/bin/mustache train-classifier $(DATA) --out mustache/weights/classifier.pt \
		--epochs 14 --samples 6000 --batch 64 --lr 2e-3 --holdout 0.2 --drop-noisy 0.1 --fake-negatives 0.15 \
		--eval-labels out/lfw_men.csv --seed 0 --device cpu --threads 2

# The shipped generator and classifier as ONNX files for `apply` without torch
# (mustache/learn/runtime.py, OpenCV's DNN module): rerun and commit the .onnx and .onnx.json files
# after retraining a .pt (an export whose .pt changed is ignored: torch runs the .pt).
onnx: $(STAMP)
	$(PY) -m mustache.learn.onnx_export mustache/weights

clean:
	rm -rf $(VENV) out
