"""Tiny sweeps: TD3 on Pendulum-v1 with small networks, a few hundred env steps per trial."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

TINY_RUN = {
    "seed": 0,
    "env": {"id": "Pendulum-v1", "num_envs": 1},
    "algo": {"name": "td3", "params": {"hidden": [32, 32], "batch_size": 32,
                                      "learning_starts": 100, "buffer_size": 5000}},
    "trainer": {"total_steps": 300, "eval_every": 150, "eval_episodes": 1,
                "checkpoint_every": 100, "log_every": 100, "tensorboard": False},
}  # fmt: skip

# One torch thread in every process these tests start (sweep and tune workers cap theirs by
# it): a sweep run in the test and one run through the CLI then train alike, bit for bit,
# however pytest was called, and the suite's processes do not oversubscribe the machine.
os.environ["OMP_NUM_THREADS"] = "1"


def write_sweep(folder: Path, **spec) -> Path:
    """A sweep over the tiny run config in ``folder``: two variants, two seeds."""
    folder.mkdir(parents=True, exist_ok=True)
    run = folder / "run.yaml"
    run.write_text(yaml.safe_dump(TINY_RUN))
    data = {"name": "tiny", "config": str(run), "seeds": 2,
            "evaluation": {"episodes": 2, "seed0": 5000},
            "variants": {"plain": {}, "quantile": {"set": {"parts.critic.name": "quantile"}}},
            } | spec  # fmt: skip
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def sweep_file(tmp_path):
    """``sweep_file(**spec_keys) -> path`` of :func:`write_sweep` in the test's folder."""
    return lambda **spec: write_sweep(tmp_path, **spec)


PROJECT = Path(__file__).resolve().parents[2]


def start_cli(command: str, spec: Path, out: Path) -> subprocess.Popen:
    """``gaidrl sweep|tune SPEC --out OUT`` in a child process, one worker, no progress bar."""
    return subprocess.Popen(
        [sys.executable, "-m", "gaidrl.cli", command, str(spec), "--out", str(out),
         "--workers", "1", "--no-progress"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        preexec_fn=_default_sigint,  # as at a terminal, also when pytest runs in the background
    )  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 600.0) -> None:
    """Poll until ``predicate()``; the timeout only catches a hung child (a busy machine,
    e.g. the suite on 2 processes beside other work, may take minutes)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the command ended early:\n{proc.stdout.read()}")
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the command")
        time.sleep(0.05)
