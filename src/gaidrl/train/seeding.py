"""One seed per run reaches python ``random``, numpy, torch (CPU and CUDA) and the envs.

The RNG states are also captured and restored as plain data so a checkpoint can carry them.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

# Keeps the evaluation envs' layouts apart from the training envs' while both derive from
# the one run seed.
EVAL_SEED_OFFSET = 1_000_003


def seed_everything(seed: int) -> None:
    """Seed python, numpy's legacy global generator and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (libraries still draw from it)
    torch.manual_seed(seed)  # also seeds every CUDA device


def train_env_seed(seed: int) -> int:
    """Seed of the training vector env's first reset; sub-env i uses this + i."""
    return seed


def eval_env_seeds(seed: int, episodes: int) -> list[int]:
    """Seeds of the evaluation episodes: the same layouts at every evaluation of a run."""
    return [seed + EVAL_SEED_OFFSET + i for i in range(episodes)]


def capture_rng_state() -> dict[str, Any]:
    """States of python, numpy-global and torch generators as checkpoint-safe data."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()  # noqa: NPY002
    version, py_state, gauss = random.getstate()
    state: dict[str, Any] = {
        "python": {"version": version, "state": list(py_state), "gauss": gauss},
        "numpy": {
            "kind": kind,
            "keys": keys,
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },  # fmt: skip
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back what :func:`capture_rng_state` returned."""
    py = state["python"]
    random.setstate((py["version"], tuple(py["state"]), py["gauss"]))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"], n["pos"], n["has_gauss"], n["cached"]))  # noqa: NPY002
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """Bit-generator state of a numpy ``Generator`` as a plain dict."""
    return rng.bit_generator.state


def set_generator_state(rng: np.random.Generator, state: dict[str, Any]) -> None:
    rng.bit_generator.state = state
