# Two commands for a fresh machine: `make demo` and `make test`.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
TORCH   := torch==2.13.0

.PHONY: setup demo test lint bench clean

setup: $(STAMP)

# The pinned CPU torch goes in first so the package's torch range is already met
# (an unpinned torch would pull a multi-GB CUDA build). The peers extra (Stable-Baselines3)
# is installed too, so the peer benchmark's smoke test runs instead of being skipped.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[dev,peers]"
	touch $(STAMP)

# Small networks train faster on one thread; the demo folder is rewritten each time.
demo: setup
	rm -rf runs/demo
	OMP_NUM_THREADS=1 $(BIN)/python -m gaidrl.demo --out runs/demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: setup lint
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python benchmarks/env_throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
