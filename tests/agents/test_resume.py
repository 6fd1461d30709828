"""training_state() survives torch.save / torch.load(weights_only=True) and a resumed agent
continues bit for bit like the original; plus the contract on the case-study env."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch
from agent_setups import SETUPS, build
from tiny_envs import Driver, make_vec

from gaidrl.envs import UAVNearFarVectorEnv


def _round_trip(state: dict) -> dict:
    f = io.BytesIO()
    torch.save(state, f)
    f.seek(0)
    return torch.load(f, weights_only=True)


@pytest.mark.parametrize("name", list(SETUPS))
def test_resume_is_bit_identical(name: str) -> None:
    _, mode, n, _ = SETUPS[name]
    small = {"learning_starts": 40} if name in ("td3", "ddpg", "sac", "dqn") else {}
    original = build(name, make_vec(mode, n), seed=3, **small)
    first = Driver(original, make_vec(mode, n), seed=3)
    first.run(70)  # mid-rollout for PPO, past warm-up for the off-policy agents
    state = _round_trip(original.training_state())

    torch.manual_seed(1234)  # the global RNG must not matter: the agent owns its RNGs
    resumed = build(name, make_vec(mode, n), seed=99, **small)
    resumed.load_training_state(state)

    a, b = Driver(original, make_vec(mode, n), seed=7), Driver(resumed, make_vec(mode, n), seed=7)
    a.run(60)
    torch.manual_seed(999)
    b.run(60)
    assert a.stats and a.stats == b.stats
    sa, sb = original.state_dict(), resumed.state_dict()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    obs, _ = make_vec(mode, n).reset(seed=11)
    out_a, out_b = original.act(obs, explore=True), resumed.act(obs, explore=True)
    for x, y in zip(out_a if isinstance(out_a, tuple) else [out_a],
                    out_b if isinstance(out_b, tuple) else [out_b], strict=True):  # fmt: skip
        np.testing.assert_array_equal(x, y)


UAV_CASES = [
    ("td3", "continuous", "compact"),
    ("sac", "continuous", "tokens"),
    ("ddpg", "continuous", "compact"),
    ("dqn", "discrete", "tokens"),
    ("sac_discrete", "discrete", "compact"),
    ("ppo", "continuous", "compact"),
    ("ppo_discrete", "discrete", "tokens"),
    ("hybrid", "hybrid", "compact"),
]


@pytest.mark.parametrize(("name", "action_mode", "obs_mode"), UAV_CASES)
def test_contract_on_case_study_env(name: str, action_mode: str, obs_mode: str) -> None:
    env = UAVNearFarVectorEnv(2, action_mode=action_mode, obs_mode=obs_mode)
    cls, _, _, params = SETUPS[name]
    small = dict(learning_starts=10, batch_size=8) if "learning_starts" in params else {}
    small |= dict(n_steps=8) if "n_steps" in params else {}
    agent = cls(env.single_observation_space, env.single_action_space, 2, seed=0,
                **(params | small))  # fmt: skip
    obs, _ = env.reset(seed=0)
    updates = 0
    for _ in range(20):
        action = agent.act(obs, explore=True)
        assert env.action_space.contains(_as_space_sample(action, env.action_space))
        next_obs, reward, term, trunc, info = env.step(action)
        agent.record(obs, action, reward, next_obs, term, trunc)
        obs = next_obs
        if agent.ready_to_update():
            stats = agent.update()
            assert all(np.isfinite(v) for v in stats.values()), stats
            updates += 1
    assert updates > 0
    greedy = agent.act(obs, explore=False)  # any batch size works, e.g. one observation
    single = agent.act(_first(obs), explore=False)
    assert np.shape(_lead(greedy))[0] == 2 and np.shape(_lead(single))[0] == 1


def _as_space_sample(action, space: gym.Space):
    if isinstance(action, tuple):
        return (np.asarray(action[0]), np.asarray(action[1]))
    return np.asarray(action)


def _first(obs):
    return {k: v[:1] for k, v in obs.items()} if isinstance(obs, dict) else obs[:1]


def _lead(action):
    return action[0] if isinstance(action, tuple) else action
