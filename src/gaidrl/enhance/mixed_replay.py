"""What generative replay and the world model share: a replay source that wraps the agent's
real buffer and mixes rows from a synthetic source into every batch at a fixed share.

Real transitions go into the real buffer and nowhere else; synthetic rows come from the
subclass (:meth:`MixedReplay.synthetic_rows`) only inside sampled batches, flagged by
``batch.synthetic`` and placed after the real rows. The share actually mixed into the last
batch is logged after every gradient step (``replay/synthetic_fraction``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from gaidrl.agents.parts import Part
from gaidrl.data.replay import Batch, ReplayBuffer

FIELDS = ("obs", "action", "reward", "next_obs", "terminated", "truncated", "synthetic")


def concat_batches(a: Batch, b: Batch) -> Batch:
    """Rows of ``a`` then rows of ``b`` (flat tensors only)."""
    return Batch(*(torch.cat([getattr(a, f), getattr(b, f)]) for f in FIELDS))


def check_share(share: float) -> None:
    """Refuse a synthetic share outside [0, 1)."""
    if not 0 <= share < 1:
        raise ValueError(f"ratio (the synthetic share of a batch) must be in [0, 1), got {share!r}")


def check_counts(**counts: int) -> None:
    """Refuse a count that is not a positive integer, naming it."""
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def algorithm_defaults(context: Any, min_real: int | None, batch: int | None) -> tuple[int, int]:
    """``min_real`` (real rows before the first fit) and the fitting batch, defaulting to the
    algorithm's ``learning_starts`` (at least 2) and ``batch_size``."""
    starts = max(int(context.setting("learning_starts", 1_000)), 2)
    return (min_real if min_real is not None else starts,
            batch if batch is not None else int(context.setting("batch_size", 256)))  # fmt: skip


class MixedReplay(Part):
    """Base of replay parts that add synthetic rows to a real buffer's batches, from a model
    re-fitted every ``refit_every`` env steps once the buffer holds ``min_real`` rows."""

    def __init__(self, buffer: ReplayBuffer, share: float, refit_every: int,
                 min_real: int) -> None:  # fmt: skip
        super().__init__()
        check_share(share)
        self.buffer, self.share = buffer, float(share)
        self.refit_every, self.min_real = refit_every, min_real
        self.env_steps = 0
        self.fitted_at: int | None = None
        self.last_fraction = 0.0

    # ------------------------------------------------------------------ for subclasses
    def ready(self) -> bool:
        """Whether synthetic rows can be drawn yet."""
        raise NotImplementedError

    def synthetic_rows(self, k: int, device: torch.device) -> Batch:
        """``k`` synthetic transitions with ``synthetic`` set to 1."""
        raise NotImplementedError

    def refit(self) -> None:
        """(Re-)fit the model on the real buffer and refresh the synthetic source."""
        raise NotImplementedError

    def stats(self) -> dict[str, float]:
        """Figures to log after every gradient step, beside the mixed share."""
        return {}

    def model_state(self) -> dict:
        """The subclass's own counters and figures for :meth:`state` (plain data)."""
        return {}

    def load_model_state(self, state: dict) -> None:
        """Inverse of :meth:`model_state`."""

    # ------------------------------------------------------------------ ReplaySource
    def __len__(self) -> int:
        return len(self.buffer)

    def add(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        self.buffer.add(obs, action, reward, next_obs, terminated, truncated)
        self.env_steps += int(np.asarray(reward).reshape(-1).shape[0])
        due = self.fitted_at is None or self.env_steps - self.fitted_at >= self.refit_every
        if due and len(self.buffer) >= self.min_real:
            self.refit()
            self.fitted_at = self.env_steps

    def sample(self, batch_size: int) -> Batch:
        """``batch_size`` rows: real ones, then ``round(share * batch_size)`` synthetic ones
        once the synthetic source is ready."""
        k = int(round(self.share * batch_size)) if self.ready() else 0
        real = self.buffer.sample(batch_size - k)
        self.last_fraction = k / batch_size
        if k == 0:
            return real
        return concat_batches(real, self.synthetic_rows(k, real.reward.device))

    def extra_update(self, batch: Any) -> dict[str, float]:
        return {"synthetic_fraction": self.last_fraction, **self.stats()}

    def state(self) -> dict:
        return {"buffer": self.buffer.state(), "env_steps": self.env_steps,
                "fitted_at": -1 if self.fitted_at is None else self.fitted_at,
                **self.model_state()}  # fmt: skip

    def load_state(self, state: dict) -> None:
        self.buffer.load_state(state["buffer"])
        self.env_steps = int(state["env_steps"])
        self.fitted_at = None if int(state["fitted_at"]) < 0 else int(state["fitted_at"])
        self.load_model_state(state)
