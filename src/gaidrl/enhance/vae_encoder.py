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
from gaidrl.agents.parts import Encoder, FlattenEncoder, IncompatiblePartError
from gaidrl.agents.parts.context import PartContext
from gaidrl.generative.vae import VAE


class VAEEncoder(Encoder):
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
        if isinstance(pretrain_steps, bool) or not isinstance(pretrain_steps, int) \
                or pretrain_steps < 0:  # fmt: skip
            raise ValueError(f"pretrain_steps must be an integer >= 0, got {pretrain_steps!r}")
        if freeze and pretrain_steps == 0:
            raise ValueError("freeze needs pretrain_steps > 0 (a frozen untrained VAE is noise)")
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr!r}")
        self.flatten = FlattenEncoder(observation_space)
        self.vae = VAE(self.flatten.feature_dim, latent_dim, hidden=tuple(hidden), beta=beta)
        self.optimizer = torch.optim.Adam(self.vae.parameters(), lr=lr)
        self.feature_dim = int(latent_dim)
        self.pretrain_steps, self.freeze, self.batch_size = pretrain_steps, bool(freeze), batch_size
        self.generator = generator if generator is not None else torch.Generator()
        self.pretrained = pretrain_steps == 0
        self.updates = 0
        self._replay: Any = None

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.optimizer}

    def attach(self, handle: Any) -> None:
        self._replay = handle.replay

    def forward(self, obs: Any) -> torch.Tensor:
        return self.vae.embed(self.flatten(obs)).detach()

    def extra_update(self, batch: Any) -> dict[str, float]:
        """Pretraining at the first call (if asked), then one VAE step on ``batch.obs``
        unless frozen."""
        stats: dict[str, float] = {}
        if not self.pretrained:
            for _ in range(self.pretrain_steps):
                stats = self._step(self._replay.sample(self.batch_size).obs)
            self.pretrained = True
        if not self.freeze:
            stats = self._step(batch.obs)
        return stats

    def _step(self, obs: Any) -> dict[str, float]:
        loss = self.vae.loss(self.flatten(obs), generator=self.generator)
        gradient_step(self.optimizer, loss.total)
        self.updates += 1
        return {"vae_loss": float(loss.total.detach()), "vae_recon": float(loss.recon.detach()),
                "vae_kl": float(loss.kl.detach())}  # fmt: skip

    def part_state(self) -> dict:
        return {"pretrained": self.pretrained, "updates": self.updates}

    def load_part_state(self, state: dict) -> None:
        self.pretrained = bool(state.get("pretrained", self.pretrained))
        self.updates = int(state.get("updates", 0))


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
    if pretrain_steps and context.setting("buffer_size", None) is None:
        raise IncompatiblePartError(
            f"parts.encoder.params.pretrain_steps draws warm-up data from a replay buffer; "
            f"{context.algo} has none (use it with td3, ddpg, sac, sac_discrete or dqn, or "
            "set pretrain_steps: 0)"
        )
    return VAEEncoder(
        context.observation_space, latent_dim, context.widths(hidden), beta, lr,
        pretrain_steps=pretrain_steps, freeze=freeze,
        batch_size=int(context.setting("batch_size", 256)), generator=context.generator(),
    )  # fmt: skip
