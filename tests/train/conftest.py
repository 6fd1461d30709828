"""Fixtures of the trainer tests (helpers live in train_support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tiny networks run faster on one thread (and two test processes share 2 cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def write_config(tmp_path):
    def write(data: dict, name: str = "run.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data))
        return path

    return write
