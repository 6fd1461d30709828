"""Preallocated replay buffer for off-policy algorithms.

One row per transition, arrays shaped ``[capacity, ...]`` allocated once. Dict observations
(one array per key) and Tuple(Discrete, Box) actions (one array per component) are stored
as they are. ``terminated`` and ``truncated`` are kept apart: only ``terminated`` stops the
bootstrap; a truncated transition's ``next_obs`` is the true last observation of the
episode (the vector env's ``final_obs``), so the target ``r + gamma * Q(next_obs, .)`` is
right for it. The buffer owns its numpy ``Generator``; :meth:`state` holds the arrays, the
position, the size and that generator, so a resumed run samples the same batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

Array = np.ndarray


@dataclass
class Batch:
    """A batch of transitions as tensors. ``obs``/``next_obs`` are tensors or dicts of tensors;
    ``action`` is a tensor or an (index, box) tuple; ``terminated``/``truncated`` are float 0/1.
    ``synthetic`` marks generated rows (all zero for real data)."""

    obs: Any
    action: Any
    reward: torch.Tensor
    next_obs: Any
    terminated: torch.Tensor
    truncated: torch.Tensor
    synthetic: torch.Tensor | None = None
    raw_action: Any = None
    """The stored env action when ``action`` holds a latent action (HyAR relabelling)."""
    features: Any = None
    """Set by the algorithm before auxiliary losses run: the encoder's output for ``obs``
    (with gradients for critic/encoder terms, detached for actor terms)."""

    def __len__(self) -> int:
        return int(self.reward.shape[0])


def allocate(space: gym.Space, capacity: int) -> Any:
    """Storage for one space: an array, a dict of arrays (Dict) or a tuple of arrays (Tuple)."""
    if isinstance(space, gym.spaces.Dict):
        return {k: allocate(s, capacity) for k, s in space.spaces.items()}
    if isinstance(space, gym.spaces.Tuple):
        return tuple(allocate(s, capacity) for s in space.spaces)
    if isinstance(space, gym.spaces.Discrete):
        return np.zeros((capacity,), dtype=np.int64)
    if isinstance(space, gym.spaces.Box):
        dtype = np.float32 if np.issubdtype(space.dtype, np.floating) else space.dtype
        return np.zeros((capacity, *space.shape), dtype=dtype)
    if isinstance(space, gym.spaces.MultiBinary | gym.spaces.MultiDiscrete):
        return np.zeros((capacity, *space.shape), dtype=space.dtype)  # e.g. an int8 mask
    raise TypeError(f"the replay buffer cannot store {space}")


def map_leaves(fn, store: Any, *others: Any) -> Any:
    """Apply ``fn`` leaf-wise over a storage structure (and matching value structures)."""
    if isinstance(store, dict):
        return {k: map_leaves(fn, store[k], *(o[k] for o in others)) for k in store}
    if isinstance(store, tuple):
        return tuple(map_leaves(fn, s, *(o[i] for o in others)) for i, s in enumerate(store))
    return fn(store, *others)


def to_torch(value: Any, device: torch.device) -> Any:
    """Leaf-wise numpy -> torch: float arrays as float32, integer arrays keep their dtype."""

    def conv(a: Array) -> torch.Tensor:
        if a.dtype.kind == "f":
            return torch.as_tensor(a, dtype=torch.float32, device=device)
        return torch.as_tensor(a, device=device)

    return map_leaves(conv, value)


class ReplayBuffer:
    """A ring buffer of transitions; ``add`` takes batches of rows (one per sub-env)."""

    def __init__(
        self,
        capacity: int,
        observation_space: gym.Space,
        action_space: gym.Space,
        device: torch.device | str = "cpu",
        seed: int | np.random.Generator | None = None,
    ) -> None:
        if capacity <= 0:
            raise ValueError(f"replay capacity must be positive, got {capacity}")
        self.capacity = int(capacity)
        self.device = torch.device(device)
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        self.obs = allocate(observation_space, self.capacity)
        self.next_obs = allocate(observation_space, self.capacity)
        self.action = allocate(action_space, self.capacity)
        self.reward = np.zeros((self.capacity,), dtype=np.float32)
        self.terminated = np.zeros((self.capacity,), dtype=np.float32)
        self.truncated = np.zeros((self.capacity,), dtype=np.float32)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add(
        self,
        obs: Any,
        action: Any,
        reward: Any,
        next_obs: Any,
        terminated: Any,
        truncated: Any,
    ) -> None:
        """Store a batch of transitions (leading dimension = number of rows)."""
        reward = np.asarray(reward, dtype=np.float32).reshape(-1)
        n = reward.shape[0]
        if n > self.capacity:
            raise ValueError(f"cannot add {n} rows to a buffer of capacity {self.capacity}")
        idx = (self.pos + np.arange(n)) % self.capacity

        def put(store: Array, value: Any) -> None:
            store[idx] = np.asarray(value).reshape(n, *store.shape[1:])

        map_leaves(put, self.obs, obs)
        map_leaves(put, self.next_obs, next_obs)
        map_leaves(put, self.action, action)
        self.reward[idx] = reward
        self.terminated[idx] = np.asarray(terminated, dtype=np.float32).reshape(-1)
        self.truncated[idx] = np.asarray(truncated, dtype=np.float32).reshape(-1)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def sample_indices(self, batch_size: int) -> Array:
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer")
        return self.rng.integers(0, self.size, size=batch_size)

    def get(self, idx: Array) -> Batch:
        """The rows ``idx`` as a :class:`Batch` of tensors on the buffer's device."""

        def take(a: Array) -> Array:
            return a[idx]

        d = self.device
        return Batch(
            obs=to_torch(map_leaves(take, self.obs), d),
            action=to_torch(map_leaves(take, self.action), d),
            reward=to_torch(self.reward[idx], d),
            next_obs=to_torch(map_leaves(take, self.next_obs), d),
            terminated=to_torch(self.terminated[idx], d),
            truncated=to_torch(self.truncated[idx], d),
            synthetic=torch.zeros(len(idx), device=d),  # every stored row is real
        )

    def sample(self, batch_size: int) -> Batch:
        """Uniformly drawn rows (with replacement), using the buffer's own generator."""
        return self.get(self.sample_indices(batch_size))

    # ------------------------------------------------------------------ exact resume
    def state(self) -> dict:
        """Filled rows of every array, position, size and generator state (plain data)."""
        n = self.size

        def head(a: Array) -> Array:
            return a[:n].copy()

        return {
            "capacity": self.capacity,
            "pos": self.pos,
            "size": self.size,
            "rng": self.rng.bit_generator.state,
            "obs": map_leaves(head, self.obs),
            "next_obs": map_leaves(head, self.next_obs),
            "action": map_leaves(head, self.action),
            "reward": head(self.reward),
            "terminated": head(self.terminated),
            "truncated": head(self.truncated),
        }

    def load_state(self, state: dict) -> None:
        if int(state["capacity"]) != self.capacity:
            raise ValueError(
                f"replay state has capacity {state['capacity']}, this buffer {self.capacity}"
            )
        n = int(state["size"])

        def fill(store: Array, value: Any) -> None:
            store[:n] = np.asarray(value)
            store[n:] = 0

        for key in ("obs", "next_obs", "action"):
            map_leaves(fill, getattr(self, key), _as_struct(state[key], getattr(self, key)))
        for key in ("reward", "terminated", "truncated"):
            fill(getattr(self, key), state[key])
        self.pos, self.size = int(state["pos"]), n
        self.rng.bit_generator.state = state["rng"]


def _as_struct(value: Any, like: Any) -> Any:
    """Lists from a checkpoint back into the tuple structure of the storage."""
    if isinstance(like, tuple):
        return tuple(_as_struct(v, s) for v, s in zip(value, like, strict=True))
    if isinstance(like, dict):
        return {k: _as_struct(value[k], like[k]) for k in like}
    if isinstance(value, torch.Tensor):
        return value.numpy()
    return value
