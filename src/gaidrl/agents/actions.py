"""Between the actors' normalised actions and the env's action format.

Actors work in a normalised space (Box dimensions in [-1, 1], Discrete as indices, hybrid as
``(index, box)``), so one actor fits any bounds; :class:`ActionCodec` maps to and from the
env's batched format: Box -> float32 (n, *shape) inside the bounds, Discrete -> int64 (n,),
Tuple(Discrete, Box) -> (int64 (n,), float32 (n, *shape)).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from gaidrl.agents.parts import action_kind


class ActionCodec:
    """Scales Box parts between [-1, 1] and the env's bounds (identity where unbounded)."""

    def __init__(self, space: gym.Space) -> None:
        self.space = space
        self.kind = action_kind(space)
        box = space if self.kind == "box" else space.spaces[1] if self.kind == "hybrid" else None
        if box is not None:
            low = np.asarray(box.low, dtype=np.float64).reshape(-1)
            high = np.asarray(box.high, dtype=np.float64).reshape(-1)
            finite = np.isfinite(low) & np.isfinite(high)
            self.low = np.where(finite, low, -1.0)
            self.high = np.where(finite, high, 1.0)
            self.box_shape = box.shape
            self.box_dtype = box.dtype

    def normalized_space(self) -> gym.Space:
        """The space of the actor's actions (what the replay buffer stores)."""
        if self.kind == "discrete":
            return self.space
        box = gym.spaces.Box(-1.0, 1.0, (int(np.prod(self.box_shape)),), np.float32)
        if self.kind == "box":
            return box
        return gym.spaces.Tuple((self.space.spaces[0], box))

    # normalised -> env
    def _box_to_env(self, a: np.ndarray) -> np.ndarray:
        a = np.clip(np.asarray(a, dtype=np.float64), -1.0, 1.0)
        out = self.low + 0.5 * (a + 1.0) * (self.high - self.low)
        return out.reshape(a.shape[0], *self.box_shape).astype(self.box_dtype)

    def to_env(self, action: Any) -> Any:
        """Normalised actions (tensors or arrays) -> the env's batched action format."""
        action = _numpy(action)
        if self.kind == "discrete":
            return np.asarray(action, dtype=np.int64).reshape(-1)
        if self.kind == "box":
            return self._box_to_env(action)
        return (np.asarray(action[0], dtype=np.int64).reshape(-1), self._box_to_env(action[1]))

    # env -> normalised
    def _box_from_env(self, a: Any) -> np.ndarray:
        a = np.asarray(a, dtype=np.float64).reshape(np.shape(a)[0], -1)
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        return np.clip(2.0 * (a - self.low) / span - 1.0, -1.0, 1.0).astype(np.float32)

    def from_env(self, action: Any) -> Any:
        """The env's batched actions -> normalised actions (numpy)."""
        if self.kind == "discrete":
            return np.asarray(action, dtype=np.int64).reshape(-1)
        if self.kind == "box":
            return self._box_from_env(action)
        return (np.asarray(action[0], dtype=np.int64).reshape(-1), self._box_from_env(action[1]))

    def random(self, n: int, rng: np.random.Generator) -> Any:
        """Uniform random normalised actions (warm-up exploration)."""
        if self.kind == "discrete":
            return rng.integers(0, self.space.n, size=n).astype(np.int64)
        box = rng.uniform(-1.0, 1.0, size=(n, int(np.prod(self.box_shape)))).astype(np.float32)
        if self.kind == "box":
            return box
        return (rng.integers(0, self.space.spaces[0].n, size=n).astype(np.int64), box)


def _numpy(x: Any) -> Any:
    if isinstance(x, tuple):
        return tuple(_numpy(v) for v in x)
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x
