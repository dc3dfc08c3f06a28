# dagforge developer commands. Every target bootstraps .venv on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TORCH  := torch==2.13.0

.PHONY: setup test lint train-full full-pipeline bench-setup bench-linear clean

setup: $(STAMP)

# torch first, pinned: any other torch spec pulls CUDA wheels on this machine.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check $(wildcard src tests benchmarks scripts)

test: setup lint
	$(BIN)/python -m pytest -n 2 tests

# The GNN learner on configs/train-full.yaml; run directory runs/train-full/.
train-full: setup
	$(BIN)/python scripts/train_full_model.py --config configs/train-full.yaml

# The main job: simulated linear and nonlinear sets and Sachs x linear, MLP and GNN
# models, evaluated beside the baselines; prints where the HTML summary is.
full-pipeline: setup
	$(BIN)/dagforge run configs/full-pipeline.yaml

# Peers for the benchmarks (dagma, causal-learn, gcastle): the optional "bench" extra.
bench-setup: setup
	$(BIN)/python -m pip install -q -e ".[bench]"

# The whole linear grid (hours on 2 cores; resumable: finished cells are skipped).
bench-linear: bench-setup
	$(BIN)/python benchmarks/linear.py run
	$(BIN)/python benchmarks/linear.py big

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
