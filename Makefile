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
# is installed too, so the peer benchmark's smoke test runs instead of being skipped, and
# the ray and tune extras, so the sweep tests of both backends and of tuning run in CI, and
# the mujoco extra, so the shipped Hopper-v5 config is built by the config test.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH)
	$(BIN)/pip install --quiet -e ".[dev,peers,ray,tune,mujoco]"
	touch $(STAMP)

# The paper's experiment at a smoke-sized budget (about 10 minutes on 2 cores), then its
# report: runs/demo/report.html. One torch thread per trial; the folder is rewritten each time.
demo: setup
	rm -rf runs/demo
	OMP_NUM_THREADS=1 $(BIN)/gaidrl reproduce paper --quick --out runs/demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The suite is spread over TEST_WORKERS processes (pytest-xdist), test by test; tests that
# share a module fixture carry one xdist_group mark, so it is built once. One torch thread
# each, so they do not oversubscribe.
TEST_WORKERS ?= 2
test: setup lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

bench: setup
	$(BIN)/python benchmarks/env_throughput.py

clean:
	rm -rf $(VENV) runs .pytest_cache
