"""On-policy rollout storage with generalised advantage estimation (GAE).

Arrays shaped ``[n_steps, num_envs, ...]``. An episode that ended at step t (terminated or
truncated) cuts the advantage chain there. A *truncated* episode did not really end, so its
value must still be bootstrapped: the agent adds ``gamma * V(final_obs)`` to that step's
reward before storing it (see :meth:`RolloutBuffer.add`), and GAE then treats the step as
the last of its episode. A terminated episode gets no bootstrap.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from gaidrl.data.replay import allocate, map_leaves, to_torch


@dataclass
class RolloutBatch:
    """A minibatch of flattened rollout rows, as tensors."""

    obs: Any
    action: Any
    log_prob: torch.Tensor
    value: torch.Tensor
    advantage: torch.Tensor
    returns: torch.Tensor
    features: Any = None
    """Set by the algorithm before auxiliary losses run: the encoder's output for ``obs``."""

    def __len__(self) -> int:
        return int(self.log_prob.shape[0])


class RolloutBuffer:
    """Fixed-length storage of ``n_steps`` vector-env steps, refilled after each update."""

    def __init__(
        self,
        n_steps: int,
        num_envs: int,
        observation_space: gym.Space,
        action_space: gym.Space,
        device: torch.device | str = "cpu",
    ) -> None:
        self.n_steps, self.num_envs = int(n_steps), int(num_envs)
        self.device = torch.device(device)
        size = self.n_steps * self.num_envs

        def grid(space: gym.Space) -> Any:
            return map_leaves(lambda a: a.reshape(self.n_steps, self.num_envs, *a.shape[1:]),
                              allocate(space, size))  # fmt: skip

        self.obs = grid(observation_space)
        self.action = grid(action_space)
        self.last_obs = map_leaves(lambda a: a[0].copy(), self.obs)
        self.log_prob = np.zeros((self.n_steps, self.num_envs), np.float32)
        self.value = np.zeros_like(self.log_prob)
        self.reward = np.zeros_like(self.log_prob)
        self.ended = np.zeros_like(self.log_prob)
        self.advantage = np.zeros_like(self.log_prob)
        self.returns = np.zeros_like(self.log_prob)
        self.pos = 0

    @property
    def full(self) -> bool:
        return self.pos >= self.n_steps

    def reset(self) -> None:
        self.pos = 0

    def add(
        self,
        obs: Any,
        action: Any,
        log_prob: np.ndarray,
        value: np.ndarray,
        reward: np.ndarray,
        ended: np.ndarray,
        next_obs: Any,
    ) -> None:
        """One vector step. ``reward`` already holds ``gamma * V(final_obs)`` for truncated
        sub-envs; ``ended`` is terminated | truncated; ``next_obs`` is kept for the final
        bootstrap value of the rollout."""
        if self.full:
            raise RuntimeError("rollout is full; update the agent before recording more")
        t = self.pos

        def put(store: np.ndarray, value: Any) -> None:
            store[t] = np.asarray(value).reshape(store.shape[1:])

        map_leaves(put, self.obs, obs)
        map_leaves(put, self.action, action)
        self.log_prob[t], self.value[t], self.reward[t] = log_prob, value, reward
        self.ended[t] = ended
        map_leaves(lambda s, v: s.__setitem__(slice(None), np.asarray(v).reshape(s.shape)),
                   self.last_obs, next_obs)  # fmt: skip
        self.pos += 1

    def compute_gae(self, last_value: np.ndarray, gamma: float, gae_lambda: float) -> None:
        """Advantages and returns; ``last_value`` = V(next_obs after the last step)."""
        adv = np.zeros(self.num_envs, np.float32)
        for t in reversed(range(self.n_steps)):
            next_value = last_value if t == self.n_steps - 1 else self.value[t + 1]
            alive = 1.0 - self.ended[t]
            delta = self.reward[t] + gamma * next_value * alive - self.value[t]
            adv = delta + gamma * gae_lambda * alive * adv
            self.advantage[t] = adv
        self.returns[:] = self.advantage + self.value

    def minibatches(
        self, minibatch_size: int, generator: torch.Generator
    ) -> Iterator[RolloutBatch]:
        """All rows in a random order drawn from ``generator``, ``minibatch_size`` at a time."""
        n = self.n_steps * self.num_envs
        order = torch.randperm(n, generator=generator, device=generator.device).cpu().numpy()

        def flat(a: np.ndarray) -> np.ndarray:
            return a.reshape(n, *a.shape[2:])

        obs, action = map_leaves(flat, self.obs), map_leaves(flat, self.action)
        for start in range(0, n, minibatch_size):
            idx = order[start : start + minibatch_size]

            def take(a: np.ndarray, idx: np.ndarray = idx) -> np.ndarray:
                return a[idx]

            yield RolloutBatch(
                obs=to_torch(map_leaves(take, obs), self.device),
                action=to_torch(map_leaves(take, action), self.device),
                log_prob=to_torch(flat(self.log_prob)[idx], self.device),
                value=to_torch(flat(self.value)[idx], self.device),
                advantage=to_torch(flat(self.advantage)[idx], self.device),
                returns=to_torch(flat(self.returns)[idx], self.device),
            )

    # ------------------------------------------------------------------ exact resume
    def state(self) -> dict:
        keys = ("obs", "action", "last_obs", "log_prob", "value", "reward", "ended")
        out = {k: map_leaves(np.copy, getattr(self, k)) for k in keys}
        return out | {"pos": self.pos}

    def load_state(self, state: dict) -> None:
        for key in ("obs", "action", "last_obs", "log_prob", "value", "reward", "ended"):
            map_leaves(lambda s, v: s.__setitem__(slice(None), np.asarray(v)),
                       getattr(self, key), _tuples(state[key], getattr(self, key)))  # fmt: skip
        self.pos = int(state["pos"])


def _tuples(value: Any, like: Any) -> Any:
    if isinstance(like, tuple):
        return tuple(_tuples(v, s) for v, s in zip(value, like, strict=True))
    if isinstance(like, dict):
        return {k: _tuples(value[k], like[k]) for k in like}
    return value.numpy() if isinstance(value, torch.Tensor) else value
