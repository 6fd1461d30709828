"""A Transformer actor and a Transformer critic: each reads the observation through an
attention trunk of its own (:class:`~gaidrl.enhance.transformer_encoder.TransformerEncoder`)
and ends in the MLP head its algorithm would use by default.

Why beside the shared attention encoder (``parts.encoder.name: transformer``): there, one
trunk serves both and only the critic's loss trains it (the actor reads its features
detached); here each network learns its own view of the users, the actor's from the actor's
loss, at the price of two trunks (and their target copies). On the case study's ``tokens``
observation the trunk must see the tokens and their mask, so the agent's encoder hands the
observation on unchanged (``parts.encoder.name: identity``); on a flat Box observation it
splits the features into per-entity tokens (``token_size`` or ``token_slices``), as the
encoder does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from gaidrl.agents.parts import Actor, ActorOutput, IncompatiblePartError, Part, first_q
from gaidrl.agents.parts.builders import default_builder
from gaidrl.agents.parts.context import PartContext
from gaidrl.enhance.transformer_encoder import TransformerEncoder


class TransformerActor(Actor):
    """Attention trunk -> an MLP actor head; it supports what its head supports."""

    def __init__(self, trunk: TransformerEncoder, head: Actor) -> None:
        super().__init__()
        self.trunk, self.head = trunk, head
        self.supports = head.supports

    def forward(self, features, *, deterministic=False, generator=None) -> ActorOutput:
        return self.head(self.trunk(features), deterministic=deterministic, generator=generator)

    def evaluate(self, features: Any, action: Any) -> tuple[torch.Tensor, torch.Tensor]:
        return self.head.evaluate(self.trunk(features), action)


class TransformerCategoricalActor(TransformerActor):
    """The same, for a categorical head: discrete SAC reads every action's log-probability."""

    def log_probs(self, features: Any, **kwargs: Any) -> torch.Tensor:
        return self.head.log_probs(self.trunk(features), **kwargs)


class TransformerCritic(Part):
    """Attention trunk -> an MLP critic head; it estimates what its head estimates."""

    def __init__(self, trunk: TransformerEncoder, head: Part) -> None:
        super().__init__()
        self.trunk, self.head = trunk, head
        self.estimates = head.estimates
        self.num_q = getattr(head, "num_q", 1)

    def forward(self, features: Any, *action: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(features), *action)

    def first_q(self, features: Any, action: torch.Tensor) -> torch.Tensor:
        return first_q(self.head, self.trunk(features), action)

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        return self.head.td_loss(self.trunk(features), action, target, batch)


def trunk(
    context: PartContext,
    slot: str,
    d_model: int,
    n_heads: int,
    n_layers: int,
    ff_dim: int,
    pooling: str,
    token_size: int | None,
    token_slices: list[list[int]] | None,
) -> TransformerEncoder:
    """The attention trunk of the ``slot`` (actor or critic) over what the agent's encoder
    hands on: the tokens observation itself (identity encoder), or flat features split into
    tokens."""
    obs = context.observation_space
    if context.feature_dim is None:
        space = obs  # the encoder passes the observation through
    elif isinstance(obs, gym.spaces.Dict):
        raise IncompatiblePartError(
            f"the transformer {slot} reads the tokens and their mask itself: set "
            "parts.encoder.name: identity (a flattening encoder mixes the mask into the features)"
        )
    else:
        space = gym.spaces.Box(-np.inf, np.inf, (context.feature_dim,), np.float32)
    return TransformerEncoder(space, d_model, n_heads, n_layers, ff_dim, pooling,
                              token_size=token_size, token_slices=token_slices,
                              params_key=f"parts.{slot}.params")  # fmt: skip


def wrapped(slot: str, body: TransformerEncoder, head: Part) -> Part:
    """The trunk and head as one part of the ``slot``."""
    if slot == "critic":
        return TransformerCritic(body, head)
    cls = TransformerCategoricalActor if hasattr(head, "log_probs") else TransformerActor
    return cls(body, head)


def attention_part_builder(slot: str):
    """The builder of ``parts.<slot>.name: transformer`` (actor or critic): an attention
    trunk (the Transformer encoder's params) and, over its features, the MLP ``slot`` the
    algorithm would build itself (``hidden``: its widths)."""

    def build(
        context: PartContext,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        ff_dim: int = 128,
        pooling: str = "mean",
        token_size: int | None = None,
        token_slices: list[list[int]] | None = None,
        hidden: Sequence[int] | None = None,
    ) -> Part:
        body = trunk(context, slot, d_model, n_heads, n_layers, ff_dim, pooling, token_size,
                     token_slices)  # fmt: skip
        head_builder = default_builder(slot, context, f"the transformer {slot}")
        head = head_builder(dataclasses.replace(context, feature_dim=body.feature_dim),
                            hidden=hidden)  # fmt: skip
        return wrapped(slot, body, head)

    build.__doc__ = (
        f"``parts.{slot}.name: transformer``: an attention trunk (the Transformer encoder's "
        f"params) and, over its features, the MLP {slot} the algorithm would build itself "
        "(``hidden``: its widths)."
    )
    return build


build_actor = attention_part_builder("actor")
build_critic = attention_part_builder("critic")
