"""The Platform-like parameterised-action task: a valid Gymnasium env, seeded layouts, the
rules of its three moves, feasible (a scripted policy crosses every layout) and not trivial
(random moves fall)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import gaidrl  # noqa: F401  (registers the envs)
from gaidrl.envs.platform import PLATFORM_ID, PlatformEnv, scripted_action


def episode(env: gym.Env, seed: int, policy) -> tuple[float, dict]:
    obs, _ = env.reset(seed=seed)
    total, done, info = 0.0, False, {}
    while not done:
        obs, reward, terminated, truncated, info = env.step(policy(obs))
        assert env.observation_space.contains(obs)
        total += reward
        done = terminated or truncated
    return total, info


def test_it_is_a_valid_gymnasium_env_with_a_tuple_action():
    env = gym.make(PLATFORM_ID)
    check_env(env.unwrapped, skip_render_check=True)
    assert isinstance(env.action_space, gym.spaces.Tuple)
    assert env.action_space[0].n == 3 and env.action_space[1].shape == (3,)


def test_the_layout_follows_the_seed():
    env = PlatformEnv()
    env.reset(seed=4)
    first = env.gaps.copy()
    env.reset(seed=4)
    np.testing.assert_array_equal(env.gaps, first)
    env.reset(seed=5)
    assert not np.array_equal(env.gaps, first) and len(first) == 3


def test_a_run_into_a_pit_falls_and_a_leap_over_it_lands():
    env = PlatformEnv(n_gaps=1)
    env.reset(seed=0)
    start, end = env.gaps[0]
    env.x = start - 0.3
    _, _, terminated, _, info = env.step((0, np.array([1.0, 0, 0])))  # run 1 m: into the pit
    assert terminated and info["fell"]
    env.reset(seed=0)
    env.x = start - 0.3
    need = end - env.x + 0.1
    p = 2 * (need - 1.0) / 2.0 - 1  # leap: 1..3 m
    _, reward, terminated, _, info = env.step((2, np.array([0, 0, p])))
    assert not terminated and not info["fell"] and env.x > end
    assert reward == pytest.approx(need / env.length - 0.05, abs=1e-6)


def test_the_scripted_policy_crosses_every_layout_and_random_moves_fall():
    env = PlatformEnv()
    scripted = [episode(env, seed, scripted_action) for seed in range(50)]
    assert all(info["reached"] for _, info in scripted)
    assert min(total for total, _ in scripted) > 0.8  # 1 minus the cost of the jumps
    rng = np.random.default_rng(0)

    def random_action(obs):
        return int(rng.integers(3)), rng.uniform(-1, 1, 3).astype(np.float32)

    randoms = [episode(env, seed, random_action) for seed in range(50)]
    assert np.mean([info["reached"] for _, info in randoms]) < 0.2
    assert np.mean([t for t, _ in randoms]) < np.mean([t for t, _ in scripted]) - 0.4


def test_bad_settings_and_actions_are_refused():
    with pytest.raises(ValueError, match="length > 0"):
        PlatformEnv(length=0)
    env = PlatformEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="index in 0..2, 3 parameters"):
        env.step((3, np.zeros(3)))


def test_the_step_an_episode_ends_on_reports_its_own_metrics_in_a_vector_env():
    from gaidrl.train.vector import scalar_metrics

    same_step = {"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}
    env = gym.make_vec(PLATFORM_ID, 2, vectorization_mode="sync", vector_kwargs=same_step)
    env.reset(seed=0)
    run = (np.zeros(2, np.int64), np.ones((2, 3), np.float32))  # run 1 m: into the first pit
    terminated = np.zeros(2, bool)
    while not terminated.any():
        _, _, terminated, _, info = env.step(run)
    # the reset's info replaced the final one in `info` itself for the ended sub-env
    fell = scalar_metrics(info, 2)["fell"]
    np.testing.assert_array_equal(fell[terminated], 1.0)
    np.testing.assert_array_equal(fell[~terminated], 0.0)
