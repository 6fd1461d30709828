"""Action spaces the agents handle, and the error every refused combination raises."""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np

ActionKind = str  # "box" | "discrete" | "hybrid"


class IncompatiblePartError(ValueError):
    """A part cannot serve this algorithm or this action space."""


def action_kind(space: gym.Space) -> ActionKind:
    """``box``, ``discrete`` or ``hybrid`` (Tuple(Discrete, Box)); anything else is refused."""
    if isinstance(space, gym.spaces.Box):
        return "box"
    if isinstance(space, gym.spaces.Discrete):
        return "discrete"
    if (
        isinstance(space, gym.spaces.Tuple)
        and len(space.spaces) == 2
        and isinstance(space.spaces[0], gym.spaces.Discrete)
        and isinstance(space.spaces[1], gym.spaces.Box)
    ):
        return "hybrid"
    raise IncompatiblePartError(
        f"action space {space} is not supported; gaidrl agents handle Box, Discrete and "
        "Tuple(Discrete, Box)"
    )


def box_dim(space: gym.Space) -> int:
    """Flat size of the Box part of an action space (0 for Discrete)."""
    kind = action_kind(space)
    if kind == "box":
        return int(np.prod(space.shape))
    if kind == "hybrid":
        return int(np.prod(space.spaces[1].shape))
    return 0


def num_choices(space: gym.Space) -> int:
    """Number of discrete choices of a Discrete or hybrid action space."""
    kind = action_kind(space)
    if kind == "discrete":
        return int(space.n)
    if kind == "hybrid":
        return int(space.spaces[0].n)
    return 0


def require_kind(algo: str, space: gym.Space, allowed: Sequence[ActionKind], hint: str) -> str:
    """The action kind of ``space`` if ``algo`` handles it, else a clear error."""
    kind = action_kind(space)
    if kind not in allowed:
        raise IncompatiblePartError(
            f"{algo} cannot act in a {kind} action space ({space}); it handles "
            f"{', '.join(allowed)}. {hint}"
        )
    return kind
