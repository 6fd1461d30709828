"""The VAE encoder: it learns the case study's high-dimensional ``channel`` observations, feeds
TD3 (and DQN, PPO) its latent, pre-trains and freezes on request, resumes bit-identically
after SIGKILL, and refuses impossible settings in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_gai_parts import config
from train_support import (
    SMALL_UAV,
    killed_and_resumed_agents,
    metric_rows,
)

from gaidrl.enhance.vae_encoder import VAEEncoder
from gaidrl.envs import UAVNearFarVectorEnv
from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env
from gaidrl.train.evaluate import evaluate
from gaidrl.train.trainer import Trainer

VAE_PARTS = {"encoder": {"name": "vae", "params": {"latent_dim": 8, "hidden": [64, 64]}}}


def channel_observations(n: int) -> np.ndarray:
    env = UAVNearFarVectorEnv(16, **SMALL_UAV, obs_mode="channel")
    obs, _ = env.reset(seed=0)
    rng, rows = np.random.default_rng(0), [obs]
    while sum(len(r) for r in rows) < n:
        obs, *_ = env.step(rng.uniform(-1, 1, env.action_space.shape).astype(np.float32))
        rows.append(obs)
    return np.concatenate(rows)[:n]


def test_the_vae_loss_falls_on_channel_observations():
    data = torch.as_tensor(channel_observations(512))
    encoder = VAEEncoder(UAVNearFarVectorEnv(1, **SMALL_UAV, obs_mode="channel")
                         .single_observation_space, latent_dim=8, hidden=(128, 128),
                         generator=torch.Generator().manual_seed(0))  # fmt: skip
    assert data.shape[1] > 1000 and encoder.feature_dim == 8

    class Batch:
        obs = data

    first = encoder.extra_update(Batch)["vae_loss"]
    for _ in range(300):
        last = encoder.extra_update(Batch)["vae_loss"]
    with torch.no_grad():  # squared error per observation, summed over its values
        error = float((encoder.vae.reconstruct(data) - data).pow(2).sum(1).mean())
    mean_guess = float((data - data.mean(0)).pow(2).sum(1).mean())  # predicting the mean
    assert last < 0.8 * first
    # 8 latent values carry most of what tells the observations apart (0.65 of the mean's
    # error seen after 300 steps, 0.56 after 600)
    assert error < 0.75 * mean_guess, (error, mean_guess)
    assert encoder(data).shape == (512, 8) and not encoder(data).requires_grad


@pytest.mark.parametrize("algo", ["td3", "dqn", "ppo"])
def test_vae_encoder_feeds_the_algorithms_on_the_channel_observation(algo, tmp_path):
    data = config(algo, "gaidrl/UAVNearFar-v0", VAE_PARTS)
    data["env"]["kwargs"]["obs_mode"] = "channel"
    if algo != "td3":
        data["env"]["kwargs"]["action_mode"] = "discrete"
    if algo == "ppo":
        data["algo"]["params"] = {"n_steps": 32, "n_epochs": 2, "hidden": [32, 32]}
    run = load_config(data=data)
    trainer = Trainer.create(run, tmp_path / algo)
    vae = trainer.agent.encoder.vae
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    trainer.run()
    assert any(not torch.equal(before[k], v) for k, v in vae.state_dict().items())
    rows = metric_rows(tmp_path / algo)
    losses = [float(r["loss/encoder/vae_loss"]) for r in rows if r.get("loss/encoder/vae_loss")]
    assert losses and all(math.isfinite(v) for v in losses)
    env = make_env(run.env, num_envs=2)
    first = evaluate(trainer.agent, env, [7, 8]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [7, 8]).episodes["return"])
    trainer.close()


def test_pretraining_then_freezing_fixes_the_features(tmp_path):
    params = {"latent_dim": 4, "hidden": [32, 32], "pretrain_steps": 20, "freeze": True}
    parts = {"encoder": {"name": "vae", "params": params}}
    data = config("td3", "Pendulum-v1", parts, total_steps=200)
    trainer = Trainer.create(load_config(data=data), tmp_path / "run")
    encoder = trainer.agent.encoder
    trainer.run()
    assert encoder.pretrained and encoder.updates == 20  # pre-trained once, then frozen
    frozen = {k: v.clone() for k, v in encoder.vae.state_dict().items()}
    trainer.agent.update()
    assert all(torch.equal(frozen[k], v) for k, v in encoder.vae.state_dict().items())
    trainer.close()


def test_vae_encoder_run_killed_and_resumed_is_bit_identical(write_config, tmp_path):
    parts = {"encoder": {"name": "vae", "params": {"latent_dim": 4, "hidden": [32, 32],
                                                   "pretrain_steps": 5}}}  # fmt: skip
    data = config("td3", "Pendulum-v1", parts, total_steps=600, eval_every=300,
                  checkpoint_every=200, eval_episodes=1)  # fmt: skip
    a, b = killed_and_resumed_agents(write_config, tmp_path, data)
    assert "encoder.vae" in a["optimizers"]
    assert torch.equal(a["rng"]["parts"]["encoder"], b["rng"]["parts"]["encoder"])


@pytest.mark.parametrize(("algo", "params", "words"), [
    ("ppo", {"pretrain_steps": 10}, r"pre-trains on replayed warm-up data \(pretrain_steps\); "
                                    r"ppo has no replay buffer"),
    ("td3", {"freeze": True}, r"freeze needs pretrain_steps > 0"),
    ("td3", {"pretrain_steps": -1}, r"pretrain_steps must be an integer >= 0"),
])  # fmt: skip
def test_impossible_vae_settings_are_refused_in_one_line(algo, params, words):
    data = config(algo, "Pendulum-v1", {"encoder": {"name": "vae", "params": params}})
    if algo == "ppo":
        data["algo"]["params"] = {"n_steps": 32}
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))
