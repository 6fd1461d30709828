"""The trainer with the real algorithms of gaidrl.agents: exact resume, in process and after
SIGKILL. Algorithms not written yet are skipped."""

from __future__ import annotations

import importlib.util
import inspect

import pytest
import torch
from train_support import SMALL_UAV, metric_rows, resume_and_finish, start_whole_and_killed_runs

from gaidrl.experiments.config import load_config
from gaidrl.experiments.registry import ALGORITHMS, algorithm_class
from gaidrl.train.checkpoint import load_checkpoint
from gaidrl.train.trainer import Trainer

# Small settings, given only where the algorithm takes them.
SMALL = {"buffer_size": 2000, "batch_size": 32, "learning_starts": 100, "hidden": [32, 32],
         "n_steps": 32, "n_epochs": 2, "train_freq": 1, "gradient_steps": 1}  # fmt: skip

CASES = [
    ("td3", "Pendulum-v1", {}),
    ("td3", "gaidrl/UAVNearFar-v0", {"action_mode": "continuous"}),
    ("ddpg", "Pendulum-v1", {}),
    ("sac", "Pendulum-v1", {}),
    ("sac", "gaidrl/UAVNearFar-v0", {"action_mode": "continuous"}),
    ("dqn", "CartPole-v1", {}),
    ("dqn", "gaidrl/UAVNearFar-v0", {"action_mode": "discrete"}),
    ("ppo", "CartPole-v1", {}),
    ("ppo", "gaidrl/UAVNearFar-v0", {"action_mode": "continuous"}),
    ("hybrid_ppo", "gaidrl/UAVNearFar-v0", {"action_mode": "hybrid"}),
]


def real_config(algo: str, env_id: str, env_kwargs: dict, **trainer) -> dict:
    module = ALGORITHMS[algo][0]
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not written yet")
    allowed = inspect.signature(algorithm_class(algo)).parameters
    params = {k: v for k, v in SMALL.items() if k in allowed}
    kwargs = {**SMALL_UAV, **env_kwargs} if env_id.startswith("gaidrl") else {}
    return {
        "seed": 5,
        "env": {"id": env_id, "num_envs": 2, "kwargs": kwargs},
        "algo": {"name": algo, "params": params},
        "trainer": {"total_steps": 400, "eval_every": 200, "eval_episodes": 2,
                    "checkpoint_every": 200, "log_every": 100, "tensorboard": False,
                    "oracle_reference": False, **trainer},
    }  # fmt: skip


def final_modules(run_dir):
    return load_checkpoint(run_dir / "checkpoints" / "final.pt")["agent"]["modules"]


@pytest.mark.parametrize(("algo", "env_id", "env_kwargs"), CASES,
                         ids=[f"{a}-{e.split('/')[-1]}" for a, e, _ in CASES])  # fmt: skip
def test_real_agent_resume_in_process(algo, env_id, env_kwargs, tmp_path):
    data = real_config(algo, env_id, env_kwargs)
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    Trainer.create(load_config(data=data), whole).run()
    Trainer.create(load_config(data=data, overrides=["trainer.total_steps=200"]), parts).run()
    Trainer.resume(parts, load_config(data=data)).run()
    assert metric_rows(whole) == metric_rows(parts)
    assert metric_rows(whole, "eval.csv") == metric_rows(parts, "eval.csv")
    a, b = final_modules(whole), final_modules(parts)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert int(metric_rows(whole)[-1]["updates"]) > 0  # it did learn, not only warm up


def test_td3_sigkill_then_resume(write_config, tmp_path):
    data = real_config("td3", "Pendulum-v1", {}, total_steps=1200, eval_every=600,
                       checkpoint_every=300, log_every=150, eval_episodes=1)  # fmt: skip
    data["env"]["num_envs"] = 1
    unbroken, whole, broken = start_whole_and_killed_runs(write_config(data), tmp_path)
    assert load_checkpoint(broken / "checkpoints" / "last.pt")["trainer"]["step"] == 300
    resume_and_finish(unbroken, broken)
    assert metric_rows(whole) == metric_rows(broken)
    assert metric_rows(whole, "eval.csv") == metric_rows(broken, "eval.csv")
    a, b = final_modules(whole), final_modules(broken)
    for key in a:
        assert torch.equal(a[key], b[key]), key
