"""Helpers shared by the trainer tests: tiny configs, running the CLI, comparing runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.logging import read_csv

HERE = Path(__file__).resolve().parent
TINY = "tinyagent:TinyAgent"
WALL_CLOCK = ("time_s", "steps_per_s")  # the only columns allowed to differ between runs

# Case study made small: fewer antennas (Rayleigh distance about 86 m) and short episodes.
SMALL_UAV = {"n_antennas": 128, "episode_length": 20, "action_mode": "continuous"}


def config_dict(env_id: str = "Pendulum-v1", **trainer) -> dict:
    kwargs = dict(SMALL_UAV) if env_id == "gaidrl/UAVNearFar-v0" else {}
    return {
        "seed": 3,
        "env": {"id": env_id, "num_envs": 2, "kwargs": kwargs},
        "algo": {"name": TINY, "params": {"learning_starts": 64}},
        "trainer": {"total_steps": 600, "eval_every": 200, "eval_episodes": 2,
                    "checkpoint_every": 200, "log_every": 100, "tensorboard": False,
                    "oracle_reference": False, **trainer},
    }  # fmt: skip


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"  # tiny networks: threads cost more than they give
    return env


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gaidrl.cli", *args],
        capture_output=True, text=True, env=cli_env(), timeout=timeout,
    )  # fmt: skip


def spawn_cli(*args: str, module: str = "gaidrl.cli", **env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env() | env,
    )  # fmt: skip


def start_whole_and_killed_runs(config_path, tmp_path):
    """The same run twice side by side: ``whole`` left alone, ``broken`` killed with SIGKILL
    just before it writes its second checkpoint (``pause_at_second_checkpoint``: a fixed
    point, whatever the machine's speed). Returns (whole's process, whole, broken)."""
    common = ["--config", str(config_path), "--no-progress"]
    whole, broken = tmp_path / "whole", tmp_path / "broken"
    unbroken = spawn_cli("train", *common, "--out", str(whole))
    flag = tmp_path / "paused"
    proc = spawn_cli("train", *common, "--out", str(broken),
                     module="pause_at_second_checkpoint", GAIDRL_PAUSE_FLAG=str(flag))  # fmt: skip
    deadline = time.monotonic() + 120
    while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert flag.exists(), "the run never reached its second checkpoint: " + (
        proc.stderr.read().decode() if proc.poll() is not None else "timed out"
    )
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, (
        "the run ended before it could be killed: " + proc.stderr.read().decode()
    )
    return unbroken, whole, broken


def resume_and_finish(unbroken: subprocess.Popen, broken: Path) -> None:
    """Resume the killed run to its end and wait for the uninterrupted one."""
    result = run_cli("train", "--resume", str(broken), "--no-progress")
    assert result.returncode == 0, result.stderr
    assert unbroken.wait(timeout=120) == 0, unbroken.stderr.read().decode()


def metric_rows(run_dir, name="metrics.csv"):
    _, rows = read_csv(run_dir / name)
    return [{k: v for k, v in row.items() if k not in WALL_CLOCK} for row in rows]


def assert_same_run(a, b):
    assert metric_rows(a) == metric_rows(b)
    assert metric_rows(a, "eval.csv") == metric_rows(b, "eval.csv")
    sa = load_checkpoint(a / "checkpoints" / "final.pt")
    sb = load_checkpoint(b / "checkpoints" / "final.pt")
    assert sa["trainer"]["step"] == sb["trainer"]["step"]
    for key, value in sa["agent"]["model"].items():
        assert torch.equal(value, sb["agent"]["model"][key]), key
    for key, value in sa["agent"]["buffer"].items():
        np.testing.assert_array_equal(value, sb["agent"]["buffer"][key])


def killed_and_resumed_agents(write_config, tmp_path, data: dict) -> tuple[dict, dict]:
    """Run config ``data`` whole and SIGKILLed-then-resumed side by side; assert the same
    metrics and final modules, and return both final agent states for further checks."""
    unbroken, whole, broken = start_whole_and_killed_runs(write_config(data), tmp_path)
    resume_and_finish(unbroken, broken)
    assert metric_rows(whole) == metric_rows(broken)
    assert metric_rows(whole, "eval.csv") == metric_rows(broken, "eval.csv")
    a = load_checkpoint(whole / "checkpoints" / "final.pt")["agent"]
    b = load_checkpoint(broken / "checkpoints" / "final.pt")["agent"]
    for key in a["modules"]:
        assert torch.equal(a["modules"][key], b["modules"][key]), key
    assert_same_nested(a["optimizers"], b["optimizers"], "optimizers")
    return a, b


def assert_same_nested(a, b, where: str) -> None:
    """Two saved states (dicts and lists of tensors, arrays and numbers) are equal, bit for bit."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        for key in a:
            assert_same_nested(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_nested(x, y, f"{where}[{i}]")
    elif isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert a == b, where
