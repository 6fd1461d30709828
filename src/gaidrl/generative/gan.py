"""A conditional GAN over vectors: non-saturating loss with an R1 penalty on real data.

The discriminator returns a raw logit and the losses apply the sigmoid through softplus
(``-log sigmoid(x) = softplus(-x)``), which stays finite where ``log(sigmoid(x))`` would
underflow. The R1 penalty (Mescheder et al. 2018) pushes the discriminator's gradient on
real data toward zero, the simple regulariser that makes plain GAN training converge
instead of oscillating. The caller owns the optimizers, so an agent can step the two
networks on its own schedule (e.g. a GAN critic).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.generative.layers import (
    as_condition,
    check_cond_dim,
    check_positive_int,
    condition_and_noise,
    mlp,
)


class DiscriminatorLoss(NamedTuple):
    """``total = adversarial + r1_gamma / 2 * r1``; ``r1`` is the unscaled mean squared
    gradient norm of the logit on real data (zero, not computed, when ``r1_gamma == 0``)."""

    total: torch.Tensor
    adversarial: torch.Tensor
    r1: torch.Tensor


def _leaky_relu() -> nn.Module:
    return nn.LeakyReLU(0.2)


class ConditionalGAN(nn.Module):
    """A generator ``G(z, cond)`` and a discriminator ``D(x, cond) -> logit``, both MLPs.

    ``cond_dim=0`` makes it unconditional: pass ``cond=None`` (with ``batch_size=`` where
    nothing else gives the batch) or an empty ``(n, 0)`` tensor. The ``generator``
    arguments are ``torch.Generator``s for the noise; the networks are
    :attr:`generator_net` and :attr:`discriminator_net`.

    The usual loop (Adam with beta1 = 0, as with R1 in StyleGAN2; decaying the learning
    rate toward the end steadies the result)::

        gan = ConditionalGAN(data_dim=2, cond_dim=3)
        d_opt = torch.optim.Adam(gan.discriminator_net.parameters(), 1e-3, betas=(0.0, 0.99))
        g_opt = torch.optim.Adam(gan.generator_net.parameters(), 1e-3, betas=(0.0, 0.99))
        for real, cond in batches:
            d_opt.zero_grad()   # also clears what the generator's loss left on D
            gan.discriminator_loss(real, cond, generator=g).total.backward()
            d_opt.step()
            g_opt.zero_grad()
            gan.generator_loss(cond, generator=g).backward()
            g_opt.step()
    """

    def __init__(
        self,
        data_dim: int,
        cond_dim: int = 0,
        noise_dim: int = 8,
        hidden: Sequence[int] = (256, 256),
        r1_gamma: float = 1.0,
        activation: type[nn.Module] | None = None,
    ) -> None:
        super().__init__()
        self.data_dim = check_positive_int("data_dim", data_dim)
        self.noise_dim = check_positive_int("noise_dim", noise_dim)
        if not r1_gamma >= 0:
            raise ValueError(f"r1_gamma must be >= 0, got {r1_gamma!r}")
        self.cond_dim = check_cond_dim(cond_dim)
        self.r1_gamma = float(r1_gamma)
        act = activation or _leaky_relu
        self.generator_net = mlp(noise_dim + cond_dim, data_dim, hidden, act)
        self.discriminator_net = mlp(data_dim + cond_dim, 1, hidden, act)

    # -------------------------------------------------------------- the two networks
    def generate(self, z: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """``G(z, cond)`` for given noise ``z`` of shape ``(batch, noise_dim)``."""
        cond = as_condition(cond, self.cond_dim, z.shape[0], z)
        return self.generator_net(torch.cat([z, cond], dim=-1))

    def discriminate(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """``D(x, cond)``: one raw logit per sample, shape ``(batch,)`` (> 0 means "real")."""
        cond = as_condition(cond, self.cond_dim, x.shape[0], x)
        return self.discriminator_net(torch.cat([x, cond], dim=-1)).squeeze(-1)

    def sample(
        self,
        cond: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Draw ``(batch, data_dim)`` samples (differentiable with respect to G)."""
        ref = self.generator_net[0].weight
        cond, z = condition_and_noise(cond, self.cond_dim, batch_size, self.noise_dim, ref,
                                      generator)  # fmt: skip
        return self.generate(z, cond)

    # -------------------------------------------------------------- losses
    def r1_penalty(self, real: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Mean over the batch of ``||grad_x D(x, cond)||^2`` at real ``x`` (unscaled),
        kept in the graph so that it trains the discriminator."""
        real = real.detach().requires_grad_(True)
        logits = self.discriminate(real, cond)
        (grad,) = torch.autograd.grad(logits.sum(), real, create_graph=True)
        return grad.pow(2).sum(dim=-1).mean()

    def discriminator_loss(
        self,
        real: torch.Tensor,
        cond: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> DiscriminatorLoss:
        """``softplus(-D(real)) + softplus(D(fake))`` (the logistic loss) plus the R1
        penalty; the fakes are drawn here and detached, so only D gets gradients."""
        if real.dim() != 2 or real.shape[1] != self.data_dim:
            raise ValueError(
                f"real must have shape (batch, {self.data_dim}), got {tuple(real.shape)}"
            )
        if cond is None:
            cond = as_condition(None, self.cond_dim, real.shape[0], real)
        fake = self.sample(cond, generator=generator).detach()
        adversarial = (
            F.softplus(-self.discriminate(real, cond)).mean()
            + F.softplus(self.discriminate(fake, cond)).mean()
        )
        r1 = self.r1_penalty(real, cond) if self.r1_gamma > 0 else real.new_zeros(())
        return DiscriminatorLoss(adversarial + 0.5 * self.r1_gamma * r1, adversarial, r1)

    def generator_loss(
        self,
        cond: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The non-saturating loss ``softplus(-D(G(z)))``: strong gradients while D
        still wins. It also leaves gradients on D's parameters: clear them before D's step."""
        fake = self.sample(cond, batch_size=batch_size, generator=generator)
        return F.softplus(-self.discriminate(fake, cond)).mean()
