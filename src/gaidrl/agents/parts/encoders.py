"""Encoders: observations (arrays, or dicts such as tokens + mask) -> what actor and critic read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gaidrl.agents.parts.core import Part, mlp
from gaidrl.agents.parts.spaces import IncompatiblePartError


class Encoder(Part):
    """Observations -> what actor and critic read. ``feature_dim`` is None when not flat."""

    feature_dim: int | None


class FlattenEncoder(Encoder):
    """No parameters: flattens a Box observation, or concatenates a Dict's entries (sorted by
    key, each flattened and cast to float; a token mask becomes 0/1 features)."""

    def __init__(self, observation_space: gym.Space) -> None:
        super().__init__()
        if isinstance(observation_space, gym.spaces.Dict):
            self.keys: list[str] | None = sorted(observation_space.spaces)
            dims = [_flat_dim(observation_space.spaces[k]) for k in self.keys]
            self.feature_dim = int(sum(dims))
        else:
            self.keys = None
            self.feature_dim = _flat_dim(observation_space)

    def forward(self, obs: Any) -> torch.Tensor:
        if self.keys is None:
            return obs.float().flatten(1)
        return torch.cat([obs[k].float().flatten(1) for k in self.keys], dim=1)


class MLPEncoder(Encoder):
    """:class:`FlattenEncoder` followed by an MLP with an activated output."""

    def __init__(
        self, observation_space: gym.Space, feature_dim: int = 128, hidden: Sequence[int] = (256,)
    ) -> None:
        super().__init__()
        self.flatten = FlattenEncoder(observation_space)
        self.net = nn.Sequential(mlp(self.flatten.feature_dim, feature_dim, hidden), nn.ReLU())
        self.feature_dim = feature_dim

    def forward(self, obs: Any) -> torch.Tensor:
        return self.net(self.flatten(obs))


class PassThroughEncoder(Encoder):
    """Hands the observation on unchanged, for actors/critics that read dicts themselves."""

    feature_dim = None

    def forward(self, obs: Any) -> Any:
        return obs


def _flat_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return 1
    raise IncompatiblePartError(
        f"FlattenEncoder cannot flatten {space}; give an encoder that reads it"
    )


def flat_features(encoder: Encoder, who: str) -> int:
    """The encoder's flat feature size, or an error naming why the default part cannot work."""
    dim = getattr(encoder, "feature_dim", None)
    if dim is None:
        raise IncompatiblePartError(
            f"the default MLP {who} needs flat features but {type(encoder).__name__} gives "
            "none; give a flat encoder (e.g. FlattenEncoder, MLPEncoder) or your own " + who
        )
    return int(dim)
