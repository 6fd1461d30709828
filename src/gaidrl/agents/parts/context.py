"""What a part is given when it is built, and what it may reach once it is adopted.

A part builder (``builder(context, **params)``) gets a :class:`PartContext`: the spaces
(the env's action space and the normalised one the actor emits), the encoder's feature size
(the registry builds the encoder first), ``num_envs``, the device, the algorithm's name and
settings, and a seed for the part's own random generator. Once an agent adopts a part it
hands it a :class:`PartHandle`: the replay and the encoder, never the agent itself (a part
holding the agent as a module attribute would make the agent's state recurse into itself).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import torch

from gaidrl.agents.parts.spaces import IncompatiblePartError, box_dim, num_choices


@dataclass(frozen=True)
class PartContext:
    """Everything a part builder may need; the registry fills it from the run config."""

    observation_space: gym.Space
    action_space: gym.Space
    """The env's single action space; for the actor and critic beside a latent action part
    (HyAR), its latent space, which the algorithm acts in."""
    normalized_action_space: gym.Space
    """What the actor emits and the replay stores ([-1, 1] boxes, indices); the latent
    space for the actor and critic beside a latent action part."""
    feature_dim: int | None
    """The encoder's flat feature size (None while building the encoder, or when the
    encoder's output is not flat)."""
    num_envs: int
    device: torch.device
    algo: str
    """The algorithm's name in the config (``td3``, ``sac``...)."""
    settings: Any = None
    """The algorithm's hyper-parameters (its ``Config`` dataclass), for defaults such as
    ``hidden`` or ``n_critics``; None when the algorithm has none."""
    seed: int = 0
    """Seed of this part's own generator (from the run seed and the slot name)."""

    def setting(self, name: str, default: Any) -> Any:
        """The algorithm's setting ``name``, or ``default`` when it has no such setting."""
        return getattr(self.settings, name, default)

    def widths(self, hidden: Sequence[int] | None) -> tuple[int, ...]:
        """``hidden`` if given, else the algorithm's ``hidden`` widths (default 256, 256)."""
        return tuple(hidden) if hidden is not None else tuple(self.setting("hidden", (256, 256)))

    def heads(self, num_q: int | None) -> int:
        """``num_q`` if given, else the algorithm's ``n_critics`` (default 2)."""
        return int(num_q) if num_q is not None else int(self.setting("n_critics", 2))

    def features(self, who: str) -> int:
        """The flat feature size, or an error saying why ``who`` cannot be built without it."""
        if self.feature_dim is None:
            raise IncompatiblePartError(
                f"{who} needs flat features, but the encoder gives none; use a flat encoder "
                "(parts.encoder.name: flatten or mlp)"
            )
        return int(self.feature_dim)

    def require_box(self, who: str, alternative: str) -> None:
        """Refuse a part that serves only Box actions here, saying what would work."""
        if not isinstance(self.action_space, gym.spaces.Box):
            raise IncompatiblePartError(
                f"{who} serves Box actions; the action space is {self.action_space}. {alternative}"
            )

    def require_discrete(self, who: str, alternative: str) -> None:
        """Refuse a part that serves only Discrete actions here, saying what would work."""
        if not self.num_choices or self.box_dim:
            raise IncompatiblePartError(
                f"{who} serves Discrete actions; the action space is {self.action_space}. "
                f"{alternative}"
            )

    @property
    def box_dim(self) -> int:
        return box_dim(self.action_space)

    @property
    def num_choices(self) -> int:
        return num_choices(self.action_space)

    def generator(self) -> torch.Generator:
        """A fresh generator seeded with :attr:`seed`; the part keeps it and the agent saves
        its state with the agent's own (:meth:`gaidrl.agents.base.Agent.rng_state`)."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(self.seed)
        return gen


def slot_seed(run_seed: int, slot: str) -> int:
    """A seed for slot ``slot`` of a run: stable across processes (no Python hash)."""
    return (int(run_seed) * 1_000_003 + zlib.crc32(slot.encode())) % 2**63


@dataclass
class PartHandle:
    """What an adopted part may reach of its agent: narrow, and not a module."""

    replay: Any = None
    encoder: Any = None
    policy: Any = None
    """``policy(obs) -> actions``: the agent's current exploring policy on a batch of
    observation tensors, in the normalised action space (a world model's rollouts act with
    it); None for agents without one."""
    extras: dict[str, Any] = field(default_factory=dict)
