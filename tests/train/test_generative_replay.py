"""Generative replay: generated transitions make up exactly the configured share of a batch,
never touch the real buffer, imitate a known system, train TD3 on Pendulum and the case study,
resume bit-identically after SIGKILL, and bad settings are refused in one line."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from test_gai_parts import config
from train_support import (
    killed_and_resumed_agents,
    metric_rows,
)

from gaidrl.data.replay import ReplayBuffer
from gaidrl.enhance.generative_replay import GenerativeReplay
from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env
from gaidrl.train.trainer import Trainer

A = np.array([[0.9, 0.1, 0.0], [0.0, 0.8, 0.2], [0.1, 0.0, 0.7]], np.float32)


def linear_system(rng: np.random.Generator, n: int):
    """Transitions of s' = A s + 0.5 a, r = -|s|^2, with 5 % terminal."""
    s = rng.normal(size=(n, 3)).astype(np.float32)
    a = rng.uniform(-1, 1, (n, 1)).astype(np.float32)
    return s, a, -(s**2).sum(1), s @ A.T + 0.5 * a, rng.uniform(size=n) < 0.05, np.zeros(n, bool)


def filled(model: str = "diffusion", ratio: float = 0.5, **kw) -> GenerativeReplay:
    buffer = ReplayBuffer(4000, gym.spaces.Box(-np.inf, np.inf, (3,), np.float32),
                          gym.spaces.Box(-1, 1, (1,), np.float32), seed=0)  # fmt: skip
    settings = dict(min_real=1000, refit_every=10**6, fit_steps=600, pool_size=1000,
                    hidden=(64, 64)) | kw  # fmt: skip
    replay = GenerativeReplay(buffer, 3, 1, model=model, ratio=ratio,
                              generator=torch.Generator().manual_seed(0), **settings)  # fmt: skip
    rng = np.random.default_rng(0)
    for _ in range(10):
        replay.add(*linear_system(rng, 100))
    return replay


@pytest.mark.parametrize("model", ["diffusion", "gan"])
def test_mixed_share_is_the_ratio_and_the_real_buffer_is_never_written(model):
    replay = filled(model, ratio=0.25, fit_steps=50)
    assert replay.fits == 1 and len(replay) == 1000
    stored = {k: getattr(replay.buffer, k).copy() for k in ("obs", "next_obs", "action",
                                                             "reward", "terminated")}  # fmt: skip
    for size in (256, 100, 7):
        batch = replay.sample(size)
        assert len(batch) == size
        assert int(batch.synthetic.sum()) == round(0.25 * size)
        assert bool((batch.synthetic[: size - round(0.25 * size)] == 0).all())
        assert set(batch.terminated.unique().tolist()) <= {0.0, 1.0}
        batch.obs.mul_(0)  # a caller scribbling on a batch cannot reach the stored rows
    assert replay.extra_update(batch)["synthetic_fraction"] == round(0.25 * 7) / 7
    replay.fit()  # a re-fit writes the pool, not the buffer
    for key, value in stored.items():
        np.testing.assert_array_equal(getattr(replay.buffer, key), value, err_msg=key)


def test_no_synthetic_rows_before_the_first_fit():
    buffer = ReplayBuffer(100, gym.spaces.Box(-1, 1, (3,)), gym.spaces.Box(-1, 1, (1,)), seed=0)
    replay = GenerativeReplay(buffer, 3, 1, min_real=50, fit_steps=5, pool_size=10)
    replay.add(*linear_system(np.random.default_rng(1), 20))
    assert replay.fits == 0 and float(replay.sample(16).synthetic.sum()) == 0


def test_generated_transitions_follow_the_known_dynamics():
    replay = filled("diffusion", ratio=0.5)
    batch = replay.sample(512)
    fake = batch.synthetic.bool()
    predicted = batch.obs[fake] @ torch.as_tensor(A).T + 0.5 * batch.action[fake]
    error = float((batch.next_obs[fake] - predicted).pow(2).mean())
    spread = float(batch.next_obs[~fake].var())
    # seen: about 0.001 of the spread of s' after 600 fitting steps
    assert error < 0.05 * spread, (error, spread)
    assert math.isfinite(replay.fidelity["fidelity_mmd"]) and replay.fidelity["real_mmd"] >= 0


REPLAY = {"replay": {"name": "generative",
                     "params": {"fit_steps": 20, "pool_size": 128, "hidden": [32, 32],
                                "refit_every": 100, "ratio": 0.5}}}  # fmt: skip


@pytest.mark.parametrize("env_id", ["Pendulum-v1", "gaidrl/UAVNearFar-v0"])
def test_td3_trains_with_generative_replay(env_id, tmp_path):
    run = load_config(data=config("td3", env_id, REPLAY))
    trainer = Trainer.create(run, tmp_path / "run")
    before = {k: v.clone() for k, v in trainer.agent.critic.state_dict().items()}
    trainer.run()
    replay = trainer.agent.replay
    assert replay.fits >= 2 and len(replay) == len(replay.buffer)  # re-fitted as it goes
    assert any(not torch.equal(before[k], v) for k, v in trainer.agent.critic.state_dict().items())
    rows = metric_rows(tmp_path / "run")
    fractions = [float(r["loss/replay/synthetic_fraction"]) for r in rows
                 if r.get("loss/replay/synthetic_fraction")]  # fmt: skip
    assert fractions and fractions[-1] == 0.5
    assert all(
        math.isfinite(float(r["loss/critic_loss"])) for r in rows if r.get("loss/critic_loss")
    )
    trainer.close()


def test_generative_replay_run_killed_and_resumed_is_bit_identical(write_config, tmp_path):
    data = config("td3", "Pendulum-v1", REPLAY, total_steps=600, eval_every=300,
                  checkpoint_every=200, eval_episodes=1)  # fmt: skip
    a, _ = killed_and_resumed_agents(write_config, tmp_path, data)
    assert "replay.model" in a["optimizers"]
    assert any(k.startswith("replay.pool") for k in a["modules"])


@pytest.mark.parametrize(("algo", "env_id", "params", "words"), [
    ("td3", "Pendulum-v1", {"ratio": 1.0}, r"ratio \(the synthetic share of a batch\) must be"),
    ("td3", "Pendulum-v1", {"model": "vae"}, r"model must be one of diffusion, gan"),
    ("td3", "Pendulum-v1", {"fit_steps": 0}, r"fit_steps must be a positive integer"),
    ("dqn", "CartPole-v1", {}, r"transitions of flat Box observations and Box actions"),
])  # fmt: skip
def test_impossible_generative_replays_are_refused_in_one_line(algo, env_id, params, words):
    data = config(algo, env_id, {"replay": {"name": "generative", "params": params}})
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))
