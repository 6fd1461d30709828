"""A (conditional) beta-VAE over vectors, with a diagonal Gaussian posterior.

Meant to compress high-dimensional observations into a small feature (the posterior mean,
:meth:`VAE.embed`) as well as to generate; ``beta`` trades reconstruction for a smoother,
more factorised latent (Higgins et al. 2017). The decoder is a Gaussian with fixed
variance, so its negative log-likelihood is, up to constants, the squared error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
from torch import nn

from gaidrl.generative.layers import (
    Mish,
    as_condition,
    check_cond_dim,
    check_positive_int,
    condition_and_noise,
    mlp,
)

_LOG_VAR_RANGE = (-30.0, 20.0)  # keeps exp(log_var) finite early in training


class VAELoss(NamedTuple):
    """``total = recon + beta * kl``, each a mean over the batch of a per-sample sum."""

    total: torch.Tensor
    recon: torch.Tensor
    kl: torch.Tensor


class VAE(nn.Module):
    """Encoder ``q(z | x, cond)`` and decoder ``p(x | z, cond)``, both MLPs.

    ``cond_dim=0`` makes it unconditional: pass ``cond=None`` (with ``batch_size=`` to
    :meth:`sample`) or an empty ``(n, 0)`` tensor. ``generator`` arguments are
    ``torch.Generator``s for the reparameterised draws. Calling the module is :meth:`loss`.

    Usage::

        vae = VAE(data_dim=16, latent_dim=2, beta=1.0)
        opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
        out = vae.loss(x, generator=g); opt.zero_grad(); out.total.backward(); opt.step()
        feature = vae.embed(x)        # (batch, latent_dim), deterministic
    """

    def __init__(
        self,
        data_dim: int,
        latent_dim: int,
        cond_dim: int = 0,
        hidden: Sequence[int] = (256, 256),
        beta: float = 1.0,
        activation: type[nn.Module] = Mish,
    ) -> None:
        super().__init__()
        self.data_dim = check_positive_int("data_dim", data_dim)
        self.latent_dim = check_positive_int("latent_dim", latent_dim)
        self.cond_dim = check_cond_dim(cond_dim)
        if not beta >= 0:
            raise ValueError(f"beta must be >= 0, got {beta!r}")
        self.beta = float(beta)
        self.encoder = mlp(data_dim + cond_dim, 2 * latent_dim, hidden, activation)
        self.decoder = mlp(latent_dim + cond_dim, data_dim, tuple(reversed(hidden)), activation)

    def encode(
        self, x: torch.Tensor, cond: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior's ``(mean, log_var)``, each ``(batch, latent_dim)``."""
        if x.dim() != 2 or x.shape[1] != self.data_dim:
            raise ValueError(f"x must have shape (batch, {self.data_dim}), got {tuple(x.shape)}")
        cond = as_condition(cond, self.cond_dim, x.shape[0], x)
        mean, log_var = self.encoder(torch.cat([x, cond], dim=-1)).chunk(2, dim=-1)
        return mean, log_var.clamp(*_LOG_VAR_RANGE)

    def decode(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's mean, ``(batch, data_dim)``."""
        cond = as_condition(cond, self.cond_dim, z.shape[0], z)
        return self.decoder(torch.cat([z, cond], dim=-1))

    def embed(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """The posterior mean: a deterministic low-dimensional feature of ``x``."""
        return self.encode(x, cond)[0]

    def reconstruct(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Decode the posterior mean (no sampling noise)."""
        return self.decode(self.embed(x, cond), cond)

    @staticmethod
    def reparameterize(
        mean: torch.Tensor, log_var: torch.Tensor, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """``mean + std * eps``: a posterior draw that gradients pass through."""
        eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + (0.5 * log_var).exp() * eps

    def loss(
        self,
        x: torch.Tensor,
        cond: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> VAELoss:
        """The negative ELBO with a ``beta`` on the KL term.

        ``recon``: squared error summed over the data dimensions, mean over the batch;
        ``kl``: ``KL(q(z|x) || N(0, I))`` summed over latent dimensions, mean over the batch.
        """
        mean, log_var = self.encode(x, cond)
        x_hat = self.decode(self.reparameterize(mean, log_var, generator), cond)
        recon = (x_hat - x).pow(2).sum(dim=-1).mean()
        kl = 0.5 * (log_var.exp() + mean.pow(2) - 1 - log_var).sum(dim=-1).mean()
        return VAELoss(recon + self.beta * kl, recon, kl)

    forward = loss

    def sample(
        self,
        cond: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Decode draws from the prior ``N(0, I)``: ``(batch, data_dim)``."""
        ref = self.decoder[0].weight
        cond, z = condition_and_noise(cond, self.cond_dim, batch_size, self.latent_dim, ref,
                                      generator)  # fmt: skip
        return self.decode(z, cond)
