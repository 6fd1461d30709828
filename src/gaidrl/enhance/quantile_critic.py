"""A quantile critic: the distributional baseline beside the GAN critic (QR-DQN, Dabney et
al. 2018, for continuous actions as in TQC without truncation).

Each head predicts ``n_quantiles`` quantiles of the Bellman target given (s, a) and learns
them by the quantile Huber loss against the targets the algorithm computed; Q(s, a) is their
mean. It sees exactly what the GAN critic sees (the same targets through the same seam), so
the two compare an adversarial fit of the target distribution with a regression one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.parts import Part, mlp
from gaidrl.agents.parts.context import PartContext
from gaidrl.enhance.gan_critic import DISCRETE_HINT


class QuantileCritic(Part):
    """``num_q`` heads of ``n_quantiles`` quantiles of Q(s, a); ``forward`` gives their means."""

    estimates = "q"

    def __init__(
        self,
        feature_dim: int,
        action_dim: int,
        num_q: int = 2,
        n_quantiles: int = 25,
        hidden: Sequence[int] = (256, 256),
        huber_kappa: float = 1.0,
    ) -> None:
        super().__init__()
        if num_q < 1 or n_quantiles < 1:
            raise ValueError(f"num_q and n_quantiles must be >= 1, got {num_q}, {n_quantiles}")
        self.num_q, self.kappa = int(num_q), float(huber_kappa)
        self.heads = nn.ModuleList(
            mlp(feature_dim + action_dim, n_quantiles, tuple(hidden)) for _ in range(num_q)
        )
        taus = (torch.arange(n_quantiles, dtype=torch.float32) + 0.5) / n_quantiles
        self.register_buffer("taus", taus, persistent=False)

    def quantiles(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """(num_q, batch, n_quantiles)."""
        x = torch.cat([features, action], dim=-1)
        return torch.stack([head(x) for head in self.heads])

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return self.quantiles(features, action).mean(-1)

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        theta = self.quantiles(features, action)
        error = target.detach()[None, :, None] - theta  # (num_q, batch, n_quantiles)
        huber = F.huber_loss(theta, target.detach()[None, :, None].expand_as(theta),
                             reduction="none", delta=self.kappa)  # fmt: skip
        weight = (self.taus - (error.detach() < 0).float()).abs()
        loss = (weight * huber / self.kappa).sum(-1).mean(-1).sum()
        return loss, {"q_mean": float(theta.detach().mean())}


def build(
    context: PartContext,
    num_q: int | None = None,
    n_quantiles: int = 25,
    hidden: Sequence[int] | None = None,
    huber_kappa: float = 1.0,
) -> QuantileCritic:
    """``parts.critic.name: quantile``; heads and widths default to the algorithm's."""
    context.require_box("the quantile critic (Q(s, a))", DISCRETE_HINT)
    return QuantileCritic(
        context.features("quantile critic"), context.box_dim,
        num_q=context.heads(num_q),
        n_quantiles=n_quantiles,
        hidden=context.widths(hidden),
        huber_kappa=huber_kappa,
    )  # fmt: skip
