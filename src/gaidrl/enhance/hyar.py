"""A latent action space for hybrid actions (HyAR, Li et al. 2022): TD3, DDPG or SAC act in a
continuous latent space and a decoder turns each latent action into the env's
Tuple(Discrete(K), Box(d)) action.

* The discrete choice k has a learned embedding ``tanh(E[k])``; the latent's first
  ``embed_dim`` values pick the nearest embedding.
* The parameters have a conditional VAE: q(z | x, s, e_k) and a decoder p(x | z, s, e_k);
  the decoder also predicts the state change s' - s (HyAR's dynamics-prediction loss, which
  makes nearby latents mean nearby outcomes). Loss: reconstruction + ``dynamics_weight`` x
  prediction + ``beta`` x KL (each a mean per value; HyAR's code weighs the parameters'
  reconstruction 2 and the KL 0.5, hence ``beta`` 0.25; at 0.5 the posterior collapsed in
  a test), on every batch the algorithm draws (its own optimizer),
  after ``pretrain_steps`` on warm-up data at the first update.
* Latent-space constraint: the policy's z in [-1, 1] maps onto the range the encoder
  actually uses (per dimension, the ``bound_quantile`` .. 1 - ``bound_quantile`` quantiles
  of the last training batch's posterior means), so the policy stays where the decoder was
  trained.
* The replay stores the env's (normalised) hybrid action; each sampled batch is relabelled
  with the current encoder (``batch.action`` = the latent, ``batch.raw_action`` = the stored
  action), so the critic never sees latents of an outdated representation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.base import gradient_step
from gaidrl.agents.parts import IncompatiblePartError, Part, mlp
from gaidrl.agents.parts.context import PartContext
from gaidrl.enhance.warm_start import WarmStart, require_replay_for_warm_start

LOG_VAR_RANGE = (-10.0, 4.0)


class HyARLatentAction(WarmStart, Part):
    """Embedding table + conditional VAE between a Box latent and Tuple(Discrete, Box)."""

    def __init__(
        self,
        obs_dim: int,
        n_choices: int,
        param_dim: int,
        embed_dim: int = 6,
        latent_dim: int | None = None,
        hidden: Sequence[int] = (256, 256),
        lr: float = 1e-4,
        beta: float = 0.25,
        dynamics_weight: float = 1.0,
        pretrain_steps: int = 0,
        bound_quantile: float = 0.02,
        batch_size: int = 256,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__()
        latent_dim = param_dim if latent_dim is None else latent_dim
        if n_choices < 2 or embed_dim < 1 or latent_dim < 1:
            raise ValueError(f"need >= 2 choices, embed_dim >= 1 and latent_dim >= 1; got "
                             f"{n_choices}, {embed_dim}, {latent_dim}")  # fmt: skip
        self.init_warm_start(pretrain_steps, batch_size)
        if not 0 <= bound_quantile < 0.5:
            raise ValueError(f"bound_quantile must be in [0, 0.5), got {bound_quantile!r}")
        if not (beta >= 0 and dynamics_weight >= 0 and lr > 0):
            raise ValueError("beta and dynamics_weight must be >= 0 and lr > 0")
        self.obs_dim, self.n_choices, self.param_dim = obs_dim, n_choices, param_dim
        self.embed_dim, self.latent_dim = embed_dim, latent_dim
        self.embeddings = nn.Parameter(torch.empty(n_choices, embed_dim).uniform_(-1, 1))
        cond = obs_dim + embed_dim
        self.encoder_net = mlp(param_dim + cond, 2 * latent_dim, tuple(hidden), nn.ReLU)
        self.decoder_net = mlp(latent_dim + cond, param_dim + obs_dim, tuple(hidden), nn.ReLU)
        self.register_buffer("z_low", -torch.ones(latent_dim))
        self.register_buffer("z_high", torch.ones(latent_dim))
        self.optimizer = torch.optim.Adam(self.parameters(), lr=lr)
        self.beta, self.dynamics_weight = float(beta), float(dynamics_weight)
        self.bound_quantile = float(bound_quantile)
        self.generator = generator if generator is not None else torch.Generator()
        self.latent_space = gym.spaces.Box(-1.0, 1.0, (embed_dim + latent_dim,), np.float32)

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"vae": self.optimizer}

    # ------------------------------------------------------------------ latent <-> env
    def table(self) -> torch.Tensor:
        """The embeddings of the K choices, (K, embed_dim) in [-1, 1]."""
        return torch.tanh(self.embeddings)

    @torch.no_grad()
    def decode(self, latent: torch.Tensor, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent actions (n, embed_dim + latent_dim) in [-1, 1] -> (index (n,), params (n, d))
        in the env's normalised hybrid space."""
        obs = obs.reshape(len(obs), -1).float()
        table = self.table()
        index = torch.cdist(latent[:, : self.embed_dim], table).argmin(dim=1)
        unit = (latent[:, self.embed_dim :].clamp(-1.0, 1.0) + 1.0) / 2.0
        z = self.z_low + unit * (self.z_high - self.z_low)
        out = self.decoder_net(torch.cat([z, obs, table[index]], dim=-1))
        return index, torch.tanh(out[:, : self.param_dim])

    @torch.no_grad()
    def encode(self, obs: torch.Tensor, index: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """Stored hybrid actions -> their latent actions in [-1, 1] (posterior means)."""
        obs = obs.reshape(len(obs), -1).float()
        e = self.table()[index.long()]
        mean = self.encoder_net(torch.cat([params, obs, e], dim=-1))[:, : self.latent_dim]
        unit = (mean - self.z_low) / (self.z_high - self.z_low).clamp_min(1e-6)
        return torch.cat([e, (2.0 * unit - 1.0).clamp(-1.0, 1.0)], dim=-1)

    # ------------------------------------------------------------------ training
    def loss(self, obs, index, params, next_obs) -> tuple[torch.Tensor, dict[str, float]]:
        """Reconstruction + dynamics prediction + beta KL; also refreshes the latent bounds."""
        obs, next_obs = obs.reshape(len(obs), -1).float(), next_obs.reshape(len(obs), -1).float()
        e = self.table()[index.long()]
        mean, log_var = self.encoder_net(torch.cat([params, obs, e], dim=-1)).chunk(2, dim=-1)
        log_var = log_var.clamp(*LOG_VAR_RANGE)
        noise = torch.randn(mean.shape, generator=self.generator, device=mean.device)
        z = mean + (0.5 * log_var).exp() * noise
        out = self.decoder_net(torch.cat([z, obs, e], dim=-1))
        recon = F.mse_loss(torch.tanh(out[:, : self.param_dim]), params)
        dynamics = F.mse_loss(out[:, self.param_dim :], next_obs - obs)
        kl = 0.5 * (log_var.exp() + mean.pow(2) - 1 - log_var).mean()  # per value, as HyAR
        with torch.no_grad():
            q = torch.tensor([self.bound_quantile, 1 - self.bound_quantile], device=mean.device)
            bounds = torch.quantile(mean.detach(), q, dim=0)
            self.z_low.copy_(bounds[0])
            self.z_high.copy_(torch.maximum(bounds[1], bounds[0] + 1e-3))
        total = recon + self.dynamics_weight * dynamics + self.beta * kl
        return total, {
            "hyar_recon": float(recon.detach()),
            "hyar_dynamics": float(dynamics.detach()),
            "hyar_kl": float(kl.detach()),
        }

    def _step(self, obs, action, next_obs) -> dict[str, float]:
        index, params = action
        total, stats = self.loss(obs, index, params, next_obs)
        gradient_step(self.optimizer, total)
        self.updates += 1
        return stats

    def extra_update(self, batch: Any) -> dict[str, float]:
        """Pre-training on replayed warm-up data at the first call (if asked), then one step
        on the batch's stored hybrid actions."""
        self.warm_start(lambda b: self._step(b.obs, b.action, b.next_obs))
        return self._step(batch.obs, batch.raw_action, batch.next_obs)


def build(
    context: PartContext,
    embed_dim: int = 6,
    latent_dim: int | None = None,
    hidden: Sequence[int] | None = None,
    lr: float = 1e-4,
    beta: float = 0.25,
    dynamics_weight: float = 1.0,
    pretrain_steps: int = 1000,
    bound_quantile: float = 0.02,
) -> HyARLatentAction:
    """``parts.latent_action.name: hyar``: for Tuple(Discrete, Box) actions and flat Box
    observations, with an off-policy algorithm for Box actions (td3, ddpg, sac)."""
    act, obs = context.action_space, context.observation_space
    if context.num_choices == 0 or context.box_dim == 0:
        raise IncompatiblePartError(
            f"HyAR's latent action space is for hybrid Tuple(Discrete, Box) actions; the action "
            f"space is {act}. Box actions need no latent space; Discrete ones fit dqn"
        )
    if not isinstance(obs, gym.spaces.Box):
        raise IncompatiblePartError(
            f"HyAR conditions on flat Box observations, got {obs} (case study: obs_mode compact)"
        )
    require_replay_for_warm_start(context, pretrain_steps, "HyAR")
    return HyARLatentAction(
        int(np.prod(obs.shape)), context.num_choices, context.box_dim, embed_dim, latent_dim,
        context.widths(hidden), lr, beta, dynamics_weight, pretrain_steps, bound_quantile,
        batch_size=int(context.setting("batch_size", 256)), generator=context.generator(),
    )  # fmt: skip
