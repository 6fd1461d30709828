"""An attention encoder over per-entity tokens: the case study's ``tokens`` observation (one
token per node, a number of users that varies between episodes) read by a masked set
Transformer and pooled into one feature vector that any algorithm's actor and critic read
(PPO included: the encoder slot is shared by every algorithm).

Why: a flat vector fixes the number and order of users; attention over tokens handles any
number, in any order, and lets each user's features meet the others' (interference). It
never attends over a single token (softmax over one element is 1, and the "Transformer"
would be an MLP, the paper code's defect): an observation with fewer than two tokens is
refused.

A flat Box observation (Pendulum, MuJoCo, the case study's ``compact`` vector) is split into
per-entity tokens first (:class:`FlatTokens`): equal chunks of ``token_size`` features, or
the given ``token_slices``. Each token is its slice, zero-padded to the longest, plus a
one-hot of its index: in a flat vector an entity's place is its identity, so the tokens
must not be interchangeable (unlike the case study's users, which are).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
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


class FlatTokens(torch.nn.Module):
    """A flat (batch, D) vector -> (batch, N, width + N) tokens: slice i, zero-padded to the
    longest slice, then the one-hot of i."""

    def __init__(self, slices: list[tuple[int, int]], dim: int) -> None:
        super().__init__()
        width = max(stop - start for start, stop in slices)
        pad = dim  # index of an appended zero column
        index = [[start + j if start + j < stop else pad for j in range(width)]
                 for start, stop in slices]  # fmt: skip
        self.register_buffer("index", torch.tensor(index), persistent=False)
        self.register_buffer("identity", torch.eye(len(slices)), persistent=False)
        self.token_dim = width + len(slices)

    def forward(self, flat: torch.Tensor) -> torch.Tensor:
        padded = torch.cat([flat, flat.new_zeros(flat.shape[0], 1)], dim=1)
        values = padded[:, self.index]  # (batch, N, width)
        identity = self.identity.to(flat.dtype).expand(flat.shape[0], -1, -1)
        return torch.cat([values, identity], dim=-1)


def flat_token_slices(
    observation_space: gym.Space,
    token_size: int | None,
    token_slices: list[list[int]] | None,
    params_key: str = "parts.encoder.params",
) -> list[tuple[int, int]]:
    """The [start, stop) slices a flat Box observation is split into, or an error naming the
    keys (under ``params_key``, the slot's params in a config) and what they allow."""
    if not isinstance(observation_space, gym.spaces.Box):
        raise IncompatiblePartError(
            f"{params_key}.token_size / token_slices split a flat Box observation, got "
            f"{observation_space}"
        )
    dim = int(np.prod(observation_space.shape))
    if (token_size is None) == (token_slices is None):
        raise IncompatiblePartError(
            f"attention over a flat Box observation of {dim} values needs "
            f"exactly one of {params_key}.token_size (equal tokens) or token_slices "
            "([[start, stop], ...]) to split it into >= 2 per-entity tokens; or a Dict "
            "observation with 'tokens' (case study: obs_mode='tokens')"
        )
    if token_size is not None:
        if (
            isinstance(token_size, bool)
            or not isinstance(token_size, int)
            or token_size < 1
            or dim % token_size
        ):
            raise IncompatiblePartError(
                f"{params_key}.token_size must be a positive divisor of the "
                f"observation's {dim} values, got {token_size!r}"
            )
        slices = [(i, i + token_size) for i in range(0, dim, token_size)]
    else:
        slices = [tuple(pair) for pair in token_slices]
        if not all(len(pair) == 2 and 0 <= pair[0] < pair[1] <= dim for pair in slices):
            raise IncompatiblePartError(
                f"{params_key}.token_slices must be [start, stop] pairs with "
                f"0 <= start < stop <= {dim}, got {token_slices!r}"
            )
    if len(slices) < 2:
        raise IncompatiblePartError(
            f"attention over {len(slices)} token is an MLP (softmax over one element is 1); "
            "split the observation into at least 2 tokens"
        )
    return [(int(a), int(b)) for a, b in slices]


class TransformerEncoder(Encoder):
    """Dict(tokens, mask) observations, or flat Box observations split into tokens ->
    pooled attention features of size ``d_model``."""

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
        token_size: int | None = None,
        token_slices: list[list[int]] | None = None,
        params_key: str = "parts.encoder.params",
    ) -> None:
        """``params_key``: where a config sets these, for the messages of a bad split."""
        super().__init__()
        self.flat: FlatTokens | None = None
        if isinstance(observation_space, gym.spaces.Box):
            slices = flat_token_slices(observation_space, token_size, token_slices, params_key)
            self.flat = FlatTokens(slices, int(np.prod(observation_space.shape)))
            features = self.flat.token_dim
        else:
            _, features = token_layout(observation_space, tokens_key, mask_key)
            self.tokens_key, self.mask_key = tokens_key, mask_key
            self.has_mask = mask_key in observation_space.spaces
        self.net = SetTransformer(features, d_model, n_heads, n_layers, ff_dim, pooling)
        self.feature_dim = int(d_model)

    def forward(self, obs: Any) -> torch.Tensor:
        if self.flat is not None:
            return self.net(self.flat(obs.float().flatten(1)))
        mask = obs[self.mask_key].bool() if self.has_mask else None
        return self.net(obs[self.tokens_key].float(), mask)


def build(
    context: PartContext,
    d_model: int = 64,
    n_heads: int = 4,
    n_layers: int = 2,
    ff_dim: int = 128,
    pooling: str = "mean",
    token_size: int | None = None,
    token_slices: list[list[int]] | None = None,
) -> TransformerEncoder:
    """``parts.encoder.name: transformer``; ``token_size`` or ``token_slices`` split a flat
    Box observation into per-entity tokens."""
    return TransformerEncoder(context.observation_space, d_model, n_heads, n_layers, ff_dim,
                              pooling, token_size=token_size,
                              token_slices=token_slices)  # fmt: skip
