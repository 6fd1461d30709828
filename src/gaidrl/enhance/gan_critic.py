"""A GAN critic: a generator Q(s, a, z) whose samples a discriminator pulls toward the
distribution of the Bellman targets (GAN Q-learning, Doan et al. 2018; the paper's GAN
critic), for TD3 and DDPG through the critic seam.

The algorithm computes its targets as usual (TD3: the clipped double-Q minimum, with target
smoothing noise) and hands them to :meth:`GANCritic.td_loss`; those targets are samples of
the return given (s, a), the "real" data. Each call makes one discriminator step (its own
optimizer, the non-saturating logistic loss with an R1 penalty, fakes detached) and returns
the generator's non-saturating loss, which the algorithm's critic optimizer minimises, with
gradients reaching the generator and the encoder. Q(s, a) is the mean of ``n_samples``
generated values. The defects seen in the paper's code are avoided by construction: the
adversarial term has a gradient (the generated values are not detached in the generator's
loss) and the discriminator's raw logit goes through the logistic loss. An optional
``regression_weight`` adds the squared TD error of the mean, a steadier anchor.

The literature's GAN critics were never compared with distributional critics: the quantile
critic (:mod:`gaidrl.enhance.quantile_critic`) fits the same targets by quantile regression,
with the same actor, as the baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.parts import Part
from gaidrl.agents.parts.context import PartContext
from gaidrl.generative.gan import ConditionalGAN

DISCRETE_HINT = (
    "For Discrete actions use dqn (parts.critic.name: discrete_q) or sac_discrete "
    "(discrete_q_heads)"
)


class GANCritic(Part):
    """``num_q`` conditional GANs over Q values, conditioned on (features, action)."""

    estimates = "q"

    def __init__(
        self,
        feature_dim: int,
        action_dim: int,
        num_q: int = 2,
        noise_dim: int = 8,
        hidden: Sequence[int] = (256, 256),
        n_samples: int = 4,
        r1_gamma: float = 1.0,
        discriminator_lr: float = 3e-4,
        regression_weight: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        if num_q < 1 or n_samples < 1:
            raise ValueError(f"num_q and n_samples must be >= 1, got {num_q}, {n_samples}")
        if not regression_weight >= 0:
            raise ValueError(f"regression_weight must be >= 0, got {regression_weight!r}")
        self.num_q, self.n_samples = int(num_q), int(n_samples)
        self.regression_weight = float(regression_weight)
        self.gans = nn.ModuleList(
            ConditionalGAN(1, feature_dim + action_dim, noise_dim, tuple(hidden), r1_gamma)
            for _ in range(num_q)
        )
        params = [p for gan in self.gans for p in gan.discriminator_net.parameters()]
        self.discriminator_opt = torch.optim.Adam(params, lr=discriminator_lr, betas=(0.0, 0.99))
        self.generator = generator if generator is not None else torch.Generator()

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"discriminator": self.discriminator_opt}

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Q of every head, (num_q, batch): the mean of ``n_samples`` generated values."""
        cond = torch.cat([features, action], dim=-1)
        batch = cond.shape[0]
        repeated = cond.repeat(self.n_samples, 1)
        heads = []
        for gan in self.gans:
            z = torch.randn((repeated.shape[0], gan.noise_dim), generator=self.generator,
                            device=cond.device, dtype=cond.dtype)  # fmt: skip
            heads.append(gan.generate(z, repeated).view(self.n_samples, batch).mean(0))
        return torch.stack(heads)

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """One discriminator step on (targets, generated values), then the generator's
        loss (and the optional regression of the mean) for the algorithm to minimise."""
        cond = torch.cat([features, action], dim=-1)
        real = target.detach()[:, None]
        self.discriminator_opt.zero_grad()  # also clears what the last generator loss left
        d_loss = sum(gan.discriminator_loss(real, cond.detach(), self.generator).total
                     for gan in self.gans)  # fmt: skip
        d_loss.backward()
        self.discriminator_opt.step()
        g_loss = sum(gan.generator_loss(cond, generator=self.generator) for gan in self.gans)
        loss = g_loss
        q = self(features, action)
        if self.regression_weight > 0:
            loss = loss + self.regression_weight * F.mse_loss(q, target.expand_as(q))
        stats = {"q_mean": float(q.detach().mean()), "discriminator_loss": float(d_loss.detach()),
                 "generator_loss": float(g_loss.detach())}  # fmt: skip
        return loss, stats


def build(
    context: PartContext,
    num_q: int | None = None,
    noise_dim: int = 8,
    hidden: Sequence[int] | None = None,
    n_samples: int = 4,
    r1_gamma: float = 1.0,
    discriminator_lr: float = 3e-4,
    regression_weight: float = 0.0,
) -> GANCritic:
    """``parts.critic.name: gan``; heads and widths default to the algorithm's."""
    context.require_box("the GAN critic (Q(s, a))", DISCRETE_HINT)
    return GANCritic(
        context.features("GAN critic"), context.box_dim,
        num_q=context.heads(num_q),
        noise_dim=noise_dim,
        hidden=context.widths(hidden),
        n_samples=n_samples, r1_gamma=r1_gamma, discriminator_lr=discriminator_lr,
        regression_weight=regression_weight, generator=context.generator(),
    )  # fmt: skip
