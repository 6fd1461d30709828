"""An attention encoder over per-entity tokens: the case study's ``tokens`` observation (one
token per node, a number of users that varies between episodes) read by a masked set
Transformer and pooled into one feature vector that any algorithm's actor and critic read
(PPO included: the encoder slot is shared by every algorithm).

Why: a flat vector fixes the number and order of users; attention over tokens handles any
number, in any order, and lets each user's features meet the others' (interference). It
never attends over a single token (softmax over one element is 1, and the "Transformer"
would be an MLP, the paper code's defect): an observation with fewer than two tokens is
refused.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch

from gaidrl.agents.parts import Encoder, IncompatiblePartError
from gaidrl.agents.parts.context import PartContext
from gaidrl.generative.transformer import SetTransformer


def token_layout(observation_space: gym.Space, tokens_key: str, mask_key: str) -> tuple[int, int]:
    """(number of tokens, features per token) of a Dict(tokens=Box(N, F), mask=MultiBinary(N)),
    or an error that says what the encoder needs."""
    spaces = getattr(observation_space, "spaces", None)
    if not isinstance(observation_space, gym.spaces.Dict) or tokens_key not in spaces:
        raise IncompatiblePartError(
            f"the transformer encoder reads a Dict observation with {tokens_key!r} (N, F) and "
            f"{mask_key!r} (N,), got {observation_space}; on the case study use "
            "obs_mode='tokens'"
        )
    tokens = spaces[tokens_key]
    if not isinstance(tokens, gym.spaces.Box) or len(tokens.shape) != 2:
        raise IncompatiblePartError(f"{tokens_key!r} must be a Box of shape (N, F), got {tokens}")
    n, features = tokens.shape
    if n < 2:
        raise IncompatiblePartError(
            f"attention over {n} token is an MLP (softmax over one element is 1); the "
            "transformer encoder needs at least 2 tokens"
        )
    mask = spaces.get(mask_key)
    if mask is not None and tuple(mask.shape) != (n,):
        raise IncompatiblePartError(f"{mask_key!r} must have shape ({n},), got {mask.shape}")
    return int(n), int(features)


class TransformerEncoder(Encoder):
    """Dict(tokens, mask) observations -> pooled attention features of size ``d_model``."""

    def __init__(
        self,
        observation_space: gym.Space,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        ff_dim: int = 128,
        pooling: str = "mean",
        tokens_key: str = "tokens",
        mask_key: str = "mask",
    ) -> None:
        super().__init__()
        _, features = token_layout(observation_space, tokens_key, mask_key)
        self.tokens_key, self.mask_key = tokens_key, mask_key
        self.has_mask = mask_key in observation_space.spaces
        self.net = SetTransformer(features, d_model, n_heads, n_layers, ff_dim, pooling)
        self.feature_dim = int(d_model)

    def forward(self, obs: Any) -> torch.Tensor:
        mask = obs[self.mask_key].bool() if self.has_mask else None
        return self.net(obs[self.tokens_key].float(), mask)


def build(
    context: PartContext,
    d_model: int = 64,
    n_heads: int = 4,
    n_layers: int = 2,
    ff_dim: int = 128,
    pooling: str = "mean",
) -> TransformerEncoder:
    """``parts.encoder.name: transformer``."""
    return TransformerEncoder(context.observation_space, d_model, n_heads, n_layers, ff_dim,
                              pooling)  # fmt: skip
