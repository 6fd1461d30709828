"""Replay buffer and rollout storage: layout, exact state, and bootstrapping on truncation."""

from __future__ import annotations

import io

import gymnasium as gym
import numpy as np
import pytest
import torch

from gaidrl.agents.base import from_plain, to_plain
from gaidrl.agents.dqn import DQN
from gaidrl.agents.ppo import PPO
from gaidrl.data.replay import ReplayBuffer
from gaidrl.data.rollout import RolloutBuffer

DICT_OBS = gym.spaces.Dict({"tokens": gym.spaces.Box(-1, 1, (3, 2), np.float32),
                            "mask": gym.spaces.MultiBinary(3)})  # fmt: skip
HYBRID = gym.spaces.Tuple((gym.spaces.Discrete(4), gym.spaces.Box(-1, 1, (2,), np.float32)))


def _rows(n: int, start: int):
    obs = {"tokens": np.full((n, 3, 2), start, np.float32) + np.arange(n)[:, None, None],
           "mask": np.ones((n, 3), np.int8)}  # fmt: skip
    action = (np.arange(n) % 4, np.full((n, 2), 0.5, np.float32))
    return obs, action


def test_dict_obs_tuple_actions_wraparound_and_flags() -> None:
    buf = ReplayBuffer(5, DICT_OBS, HYBRID, seed=0)
    for k in range(3):  # 6 rows into 5 slots: the first row is overwritten
        obs, action = _rows(2, 10 * k)
        buf.add(obs, action, np.array([k, k]), obs, np.array([True, False]),
                np.array([False, True]))  # fmt: skip
    assert len(buf) == 5 and buf.pos == 1
    assert buf.obs["tokens"][0, 0, 0] == 21.0  # the sixth row wrapped to slot 0
    assert buf.obs["mask"].dtype == np.int8 and buf.action[0].dtype == np.int64
    np.testing.assert_array_equal(buf.terminated, [0, 0, 1, 0, 1])
    np.testing.assert_array_equal(buf.truncated, [1, 1, 0, 1, 0])
    batch = buf.sample(7)
    assert batch.obs["tokens"].shape == (7, 3, 2) and batch.obs["tokens"].dtype == torch.float32
    assert batch.action[0].dtype == torch.int64 and batch.action[1].shape == (7, 2)


def test_state_round_trip_resumes_sampling() -> None:
    buf = ReplayBuffer(8, DICT_OBS, HYBRID, seed=3)
    obs, action = _rows(6, 0)
    buf.add(obs, action, np.arange(6), obs, np.zeros(6), np.zeros(6))
    f = io.BytesIO()
    torch.save(to_plain(buf.state()), f)
    f.seek(0)
    other = ReplayBuffer(8, DICT_OBS, HYBRID, seed=99)
    other.load_state(from_plain(torch.load(f, weights_only=True)))
    a, b = buf.sample(16), other.sample(16)
    assert torch.equal(a.reward, b.reward) and torch.equal(a.obs["tokens"], b.obs["tokens"])
    assert torch.equal(a.action[1], b.action[1])
    assert other.pos == buf.pos and len(other) == len(buf)


class Forever(gym.Env):
    """Reward 1 every step, never terminates, truncated after 5 steps; the observation does
    not show time, so Q(s, a) = 1 / (1 - gamma) only if truncation is bootstrapped."""

    observation_space = gym.spaces.Box(0, 1, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.ones(1, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.ones(1, np.float32), 1.0, False, self.t >= 5, {}


def test_truncation_is_bootstrapped_by_dqn() -> None:
    env = gym.vector.SyncVectorEnv([Forever] * 2,
                                   autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)  # fmt: skip
    agent = DQN(env.single_observation_space, env.single_action_space, 2, seed=0, gamma=0.8,
                learning_starts=50, batch_size=32, train_freq=1, target_update_interval=20,
                lr=3e-3, hidden=(16,))  # fmt: skip
    obs, _ = env.reset(seed=0)
    for _ in range(700):
        action = agent.act(obs, explore=True)
        next_obs, reward, term, trunc, info = env.step(action)
        true_next = np.where(info.get("_final_obs", np.zeros(2, bool))[:, None],
                             np.ones((2, 1), np.float32), next_obs)  # fmt: skip
        agent.record(obs, action, reward, true_next, term, trunc)
        obs = next_obs
        if agent.ready_to_update():
            agent.update()
    assert agent.replay.truncated[: len(agent.replay)].sum() > 0
    assert agent.replay.terminated.sum() == 0
    q = agent.critic(torch.ones(1, 1)).detach()
    # bootstrapped: 1 / (1 - 0.8) = 5; treating truncation as the end would give about 2.7
    assert torch.all((q - 5.0).abs() < 0.6), q


def test_gae_cuts_at_ends_and_ppo_bootstraps_truncation() -> None:
    roll = RolloutBuffer(3, 1, gym.spaces.Box(-1, 1, (1,)), gym.spaces.Discrete(2))
    for ended in [0.0, 1.0, 0.0]:
        roll.add(np.zeros((1, 1)), np.zeros(1, np.int64), np.zeros(1), np.array([0.5]),
                 np.array([1.0]), np.array([ended]), np.zeros((1, 1)))  # fmt: skip
    gamma, lam = 0.9, 0.5
    roll.compute_gae(np.array([2.0]), gamma, lam)
    d2 = 1 + gamma * 2.0 - 0.5
    d1 = 1 - 0.5  # the episode ended at step 1: no look beyond it
    d0 = 1 + gamma * 0.5 - 0.5
    expected = [d0 + gamma * lam * d1, d1, d2]
    np.testing.assert_allclose(roll.advantage[:, 0], expected, rtol=1e-6)

    space = gym.spaces.Box(-1, 1, (1,), np.float32)
    agent = PPO(space, gym.spaces.Discrete(2), 2, seed=0, n_steps=4)
    obs = np.zeros((2, 1), np.float32)
    final = np.array([[0.3], [0.7]], np.float32)
    action = agent.act(obs, explore=True)
    agent.record(obs, action, np.array([1.0, 1.0]), final, np.array([False, True]),
                 np.array([True, True]))  # fmt: skip
    v_final = agent.value(final)
    # env 0 was truncated: its reward gets gamma * V(final_obs); env 1 terminated: nothing
    assert agent.rollout.reward[0, 0] == pytest.approx(1.0 + 0.99 * v_final[0], rel=1e-6)
    assert agent.rollout.reward[0, 1] == pytest.approx(1.0)
    np.testing.assert_array_equal(agent.rollout.ended[0], [1.0, 1.0])
