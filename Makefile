# dagforge developer commands. Every target bootstraps .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: setup test test-interop lint train-full full-pipeline bench-setup bench-sdcd \
	bench-linear bench-nonlinear bench-interventional bench-discrete bench-readme clean

setup: $(STAMP)

# torch first, pinned: any other torch spec pulls CUDA wheels on this machine.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev,report,parquet]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check $(wildcard src tests benchmarks scripts)

test: setup lint
	$(BIN)/python -m pytest -n 2 tests

# dagforge's exports read by DoWhy, pydot and causal-learn (the interop extra; DoWhy pins
# an older scipy, so run it after `make test`): a missing library fails instead of skipping.
test-interop: setup
	$(BIN)/python -m pip install -q -e ".[interop]"
	DAGFORGE_REQUIRE_INTEROP=1 $(BIN)/python -m pytest -m interop tests/test_interop.py

# The GNN learner on configs/train-full.yaml; run directory runs/train-full/.
train-full: setup
	$(BIN)/python scripts/train_full_model.py --config configs/train-full.yaml

# The main job: simulated linear and nonlinear sets and Sachs x linear, MLP and GNN
# models, evaluated beside the baselines; prints where the HTML summary is.
full-pipeline: setup
	$(BIN)/dagforge run configs/full-pipeline.yaml

# Peers for the benchmarks (dagma, causal-learn, gcastle, gies, pgmpy): the "bench" extra.
bench-setup: setup
	$(BIN)/python -m pip install -q -e ".[bench]"

# SDCD pins numpy 1.26 and pandas 1.5 (ours are newer): its own venv, called by
# benchmarks/interventional.py as a subprocess. wandb (an SDCD dependency) imports
# pkg_resources, gone from setuptools 70.
SDCD_VENV := .venv-sdcd
bench-sdcd: $(SDCD_VENV)/.installed
$(SDCD_VENV)/.installed:
	test -d $(SDCD_VENV) || $(PYTHON) -m venv $(SDCD_VENV)
	$(SDCD_VENV)/bin/python -m pip install -q $(TORCH)
	$(SDCD_VENV)/bin/python -m pip install -q "sdcd==0.1.4" "setuptools<70"
	touch $@

# Interventional data: simulated sets and Sachs, beside GIES and SDCD (hours on 2 cores;
# resumable: finished cells are skipped).
bench-interventional: bench-setup bench-sdcd
	$(BIN)/python benchmarks/interventional.py run
	$(BIN)/python benchmarks/interventional.py sachs
	$(BIN)/python benchmarks/interventional.py report

# The whole linear grid (hours on 2 cores; resumable: finished cells are skipped; add
# `--redo dagforge ...` to measure recorded cells again).
bench-linear: bench-setup
	$(BIN)/python benchmarks/linear.py run
	$(BIN)/python benchmarks/linear.py big

# MLP-SEM data and Sachs beside DAGMA-MLP and gCastle (hours; resumable).
bench-nonlinear: bench-setup
	$(BIN)/python benchmarks/nonlinear.py run
	$(BIN)/python benchmarks/nonlinear.py sachs

# Discrete networks beside pgmpy, PC and GES, then mixed data (about 1.5 hours; resumable).
bench-discrete: bench-setup
	$(BIN)/python benchmarks/discrete.py run
	$(BIN)/python benchmarks/discrete.py mixed
	$(BIN)/python benchmarks/discrete.py report

# Put the tables of the records into README.md (each names the commits that measured it).
bench-readme: setup
	$(BIN)/python benchmarks/readme.py

clean:
	rm -rf $(VENV) $(SDCD_VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
