"""A VAE encoder: actor and critic read the posterior mean of a beta-VAE over the observation
(the paper's VAE feature extraction; the "V" of World Models), for high-dimensional inputs
such as the case study's ``channel`` observation (2,614 values).

Choice (documented in the README): the VAE is trained by its own objective only
(reconstruction + beta KL) with its own optimizer, on the observations of every batch the
algorithm draws (``extra_update``, after each gradient step); the RL losses see its latent
detached. So the features mean the same thing whatever the critic's errors, and the RL
optimizer never holds the VAE's parameters. ``pretrain_steps`` fits it first on that many
batches drawn from the replay (the warm-up data), at the first update; ``freeze`` then stops
its training, so the agent learns on fixed features.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import torch

from gaidrl.agents.base import gradient_step
from gaidrl.agents.parts import Encoder, FlattenEncoder
from gaidrl.agents.parts.context import PartContext
from gaidrl.enhance.warm_start import WarmStart, require_replay_for_warm_start
from gaidrl.generative.vae import VAE


class VAEEncoder(WarmStart, Encoder):
    """Observations -> the posterior mean of a VAE (``latent_dim`` features)."""

    def __init__(
        self,
        observation_space: gym.Space,
        latent_dim: int = 32,
        hidden: Sequence[int] = (256, 256),
        beta: float = 1.0,
        lr: float = 1e-3,
        pretrain_steps: int = 0,
        freeze: bool = False,
        batch_size: int = 256,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        self.init_warm_start(pretrain_steps, batch_size)
        if freeze and pretrain_steps == 0:
            raise ValueError("freeze needs pretrain_steps > 0 (a frozen untrained VAE is noise)")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.flatten = FlattenEncoder(observation_space)
        self.vae = VAE(self.flatten.feature_dim, latent_dim, hidden=tuple(hidden), beta=beta)
        self.optimizer = torch.optim.Adam(self.vae.parameters(), lr=lr)
        self.feature_dim = int(latent_dim)
        self.freeze = bool(freeze)
        self.generator = generator if generator is not None else torch.Generator()

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.optimizer}

    def forward(self, obs: Any) -> torch.Tensor:
        return self.vae.embed(self.flatten(obs)).detach()

    def extra_update(self, batch: Any) -> dict[str, float]:
        """Pretraining at the first call (if asked), then one VAE step on ``batch.obs``
        unless frozen."""
        stats = self.warm_start(lambda replayed: self._step(replayed.obs))
        if not self.freeze:
            stats = self._step(batch.obs)
        return stats

    def _step(self, obs: Any) -> dict[str, float]:
        loss = self.vae.loss(self.flatten(obs), generator=self.generator)
        gradient_step(self.optimizer, loss.total)
        self.updates += 1
        return {"vae_loss": float(loss.total.detach()), "vae_recon": float(loss.recon.detach()),
                "vae_kl": float(loss.kl.detach())}  # fmt: skip


def build(
    context: PartContext,
    latent_dim: int = 32,
    hidden: Sequence[int] | None = None,
    beta: float = 1.0,
    lr: float = 1e-3,
    pretrain_steps: int = 0,
    freeze: bool = False,
) -> VAEEncoder:
    """``parts.encoder.name: vae``; widths default to the algorithm's."""
    require_replay_for_warm_start(context, pretrain_steps, "the VAE encoder")
    return VAEEncoder(
        context.observation_space, latent_dim, context.widths(hidden), beta, lr,
        pretrain_steps=pretrain_steps, freeze=freeze,
        batch_size=int(context.setting("batch_size", 256)), generator=context.generator(),
    )  # fmt: skip
