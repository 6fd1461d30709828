"""Tiny tasks that a working agent solves in seconds, and a driver loop for the tests.

``Reach``: a point on [-1, 1] must reach a random target; the reward is minus the distance
after the move, episodes truncate after ``horizon`` steps (no termination), so learning also
needs bootstrapping on truncation. Action modes: ``box`` (velocity, bounds [-2, 2] to test
scaling), ``discrete`` (left / stay / right) and ``hybrid`` (stay or move, with a magnitude).
A random policy scores about -8 per episode, a good one better than -2.5.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

HORIZON = 15


class Reach(gym.Env):
    def __init__(self, mode: str = "box", horizon: int = HORIZON, dict_obs: bool = False):
        self.mode, self.horizon, self.dict_obs = mode, horizon, dict_obs
        box = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
        if dict_obs:
            self.observation_space = gym.spaces.Dict(
                {"state": box, "mask": gym.spaces.MultiBinary(2)}
            )
        else:
            self.observation_space = box
        if mode == "box":
            self.action_space = gym.spaces.Box(-2.0, 2.0, (1,), np.float32)
        elif mode == "discrete":
            self.action_space = gym.spaces.Discrete(3)
        else:
            self.action_space = gym.spaces.Tuple(
                (gym.spaces.Discrete(2), gym.spaces.Box(-1.0, 1.0, (1,), np.float32))
            )

    def _obs(self):
        state = np.array([self.pos, self.target - self.pos], np.float32) / np.float32(1.0)
        state = np.clip(state, -1, 1).astype(np.float32)
        if self.dict_obs:
            return {"state": state, "mask": np.array([1, 0], np.int8)}
        return state

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.pos = float(self.np_random.uniform(-1, 1))
        self.target = float(self.np_random.uniform(-1, 1))
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        if self.mode == "box":
            move = 0.25 * float(np.asarray(action).reshape(-1)[0])
        elif self.mode == "discrete":
            move = 0.5 * (int(action) - 1)
        else:
            choice, mag = action
            move = 0.5 * float(np.asarray(mag).reshape(-1)[0]) if int(choice) == 1 else 0.0
        self.pos = float(np.clip(self.pos + move, -1, 1))
        self.t += 1
        reward = -abs(self.target - self.pos)
        return self._obs(), reward, False, self.t >= self.horizon, {}


def make_vec(mode: str, num_envs: int, **kwargs) -> gym.vector.VectorEnv:
    return gym.vector.SyncVectorEnv(
        [lambda: Reach(mode, **kwargs) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def _true_next(next_obs: Any, info: dict) -> Any:
    if "_final_obs" not in info or not np.any(info["_final_obs"]):
        return next_obs
    mask = info["_final_obs"]
    if isinstance(next_obs, dict):
        out = {k: v.copy() for k, v in next_obs.items()}
        for i in np.flatnonzero(mask):
            for k in out:
                out[k][i] = info["final_obs"][i][k]
        return out
    out = next_obs.copy()
    for i in np.flatnonzero(mask):
        out[i] = info["final_obs"][i]
    return out


class Driver:
    """The smallest collect/record/update loop (the real one is gaidrl.train)."""

    def __init__(self, agent, env: gym.vector.VectorEnv, seed: int = 0):
        self.agent, self.env = agent, env
        self.obs, _ = env.reset(seed=seed)
        self.stats: list[dict[str, float]] = []

    def run(self, vector_steps: int) -> None:
        for _ in range(vector_steps):
            action = self.agent.act(self.obs, explore=True)
            next_obs, reward, term, trunc, info = self.env.step(action)
            self.agent.record(self.obs, action, reward, _true_next(next_obs, info),
                              np.asarray(term), np.asarray(trunc))  # fmt: skip
            self.obs = next_obs
            if self.agent.ready_to_update():
                self.stats.append(self.agent.update())


def evaluate(agent, mode: str, episodes: int = 16, seed: int = 12345, **kwargs) -> float:
    """Mean greedy return over ``episodes`` episodes run side by side."""
    env = make_vec(mode, episodes, **kwargs)
    obs, _ = env.reset(seed=seed)
    total = np.zeros(episodes)
    for _ in range(HORIZON):
        with torch.no_grad():
            action = agent.act(obs, explore=False)
        obs, reward, _, _, _ = env.step(action)
        total += reward
    env.close()
    return float(total.mean())
