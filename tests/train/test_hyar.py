"""HyAR's latent action space: every discrete choice round-trips through the decoder, TD3
trains in it on the Platform-like task and on the case study's hybrid mode, a run resumes
bit-identically after SIGKILL, and impossible setups are refused in one line."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from test_gai_parts import config
from train_support import (
    killed_and_resumed_agents,
    metric_rows,
)

from gaidrl.enhance.hyar import HyARLatentAction
from gaidrl.experiments.config import ConfigError, load_config
from gaidrl.experiments.registry import build_agent, make_env
from gaidrl.train.evaluate import evaluate
from gaidrl.train.trainer import Trainer

HYAR = {"latent_action": {"name": "hyar", "params": {"pretrain_steps": 20, "hidden": [32, 32]}}}


def hybrid_config(algo: str, env_id: str, parts: dict, **trainer) -> dict:
    data = config(algo, env_id, parts, **trainer)
    if env_id == "gaidrl/Platform-v0":
        data["env"]["kwargs"] = {}
    elif env_id.startswith("gaidrl/UAV"):
        data["env"]["kwargs"]["action_mode"] = "hybrid"
    return data


def test_every_discrete_choice_round_trips_and_the_parameters_are_learned():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    part = HyARLatentAction(obs_dim=4, n_choices=5, param_dim=3, hidden=(64, 64), lr=1e-3,
                            generator=g)  # fmt: skip
    obs, next_obs = torch.randn(512, 4), torch.randn(512, 4)
    index = torch.arange(512) % 5
    params = torch.rand(512, 3, generator=g) * 1.6 - 0.8
    for _ in range(400):
        part._step(obs, (index, params), next_obs)
    latent = part.encode(obs, index, params)
    assert latent.shape == (512, part.latent_space.shape[0]) and bool((latent.abs() <= 1).all())
    decoded_index, decoded_params = part.decode(latent, obs)
    assert torch.equal(decoded_index, index)  # each choice's embedding decodes to itself
    error = float((decoded_params - params).pow(2).mean())
    assert error < 0.5 * float(params.var()), error  # well below guessing the mean


@pytest.mark.parametrize("env_id", ["gaidrl/Platform-v0", "gaidrl/UAVNearFar-v0"])
def test_td3_trains_in_the_latent_space_of_hybrid_actions(env_id, tmp_path):
    run = load_config(data=hybrid_config("td3", env_id, HYAR))
    trainer = Trainer.create(run, tmp_path / "run")
    part = trainer.agent.latent_action
    before = {k: v.clone() for k, v in part.state_dict().items()}
    trainer.run()
    assert part.pretrained and part.updates > 20
    assert any(not torch.equal(before[k], v) for k, v in part.state_dict().items())
    rows = metric_rows(tmp_path / "run")
    for key in ("loss/critic_loss", "loss/latent_action/hyar_recon"):
        values = [float(r[key]) for r in rows if r.get(key)]
        assert values and all(math.isfinite(v) for v in values), key
    env = make_env(run.env, num_envs=2)
    first = evaluate(trainer.agent, env, [3, 4]).episodes["return"]
    np.testing.assert_array_equal(first, evaluate(trainer.agent, env, [3, 4]).episodes["return"])
    action = trainer.agent.act(env.reset(seed=0)[0], explore=False)
    assert env.action_space.contains((action[0], action[1]))  # the env's Tuple action
    trainer.close()


def test_hyar_run_killed_and_resumed_is_bit_identical(write_config, tmp_path):
    data = hybrid_config("td3", "gaidrl/Platform-v0", HYAR, total_steps=600, eval_every=300,
                         checkpoint_every=200, eval_episodes=1)  # fmt: skip
    a, b = killed_and_resumed_agents(write_config, tmp_path, data)
    assert "latent_action.vae" in a["optimizers"]


@pytest.mark.parametrize(("algo", "env_id", "parts", "words"), [
    ("td3", "Pendulum-v1", HYAR, r"HyAR's latent action space is for hybrid Tuple"),
    ("hybrid_ppo", "gaidrl/Platform-v0", HYAR, r"hybrid_ppo has\s+no replay buffer"),
    ("td3", "gaidrl/Platform-v0", {}, r"parts.latent_action.name: hyar"),
])  # fmt: skip
def test_impossible_latent_action_setups_are_refused_in_one_line(algo, env_id, parts, words):
    data = hybrid_config(algo, env_id, parts)
    if algo == "hybrid_ppo":
        data["algo"]["params"] = {"n_steps": 32}
    run = load_config(data=data)
    with pytest.raises(ConfigError, match=words):
        build_agent(run, make_env(run.env), torch.device("cpu"))
