"""The conditional GAN learns the 8 Gaussians, its discriminator speaks in logits, the R1
penalty is a differentiable positive term, and sampling is reproducible from a generator."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

# the 8-Gaussians data and the MMD live with the diffusion test, which uses them too
from toy_data import (
    eight_gaussians,
    mmd_rbf,
    mode_centres,
    modes_covered,
    reference_sample,
    ring,
)

from gaidrl.generative import ConditionalGAN

torch.set_num_threads(1)

MMD_MAX = 0.015  # trained: 0.003-0.006 over seeds 1-6; baselines: ring ~0.023, N(0, I) ~0.14


def train(gan: ConditionalGAN, steps: int, gen: torch.Generator, conditional: bool) -> None:
    """The loop of the ConditionalGAN docstring, with a cosine decay of the learning rate
    (without it the final MMD varies 10x between seeds)."""
    d_opt = torch.optim.Adam(gan.discriminator_net.parameters(), lr=1e-3, betas=(0.0, 0.99))
    g_opt = torch.optim.Adam(gan.generator_net.parameters(), lr=1e-3, betas=(0.0, 0.99))
    decays = [torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps) for opt in (d_opt, g_opt)]
    for _ in range(steps):
        real, mode = eight_gaussians(256, gen)
        cond = F.one_hot(mode, 8).float() if conditional else None
        d_opt.zero_grad()
        gan.discriminator_loss(real, cond, generator=gen).total.backward()
        d_opt.step()
        g_opt.zero_grad()
        gan.generator_loss(cond, batch_size=256, generator=gen).backward()
        g_opt.step()
        for decay in decays:
            decay.step()


def test_learns_eight_gaussians() -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    gan = ConditionalGAN(2, cond_dim=0, noise_dim=8, hidden=(128, 128), r1_gamma=1.0)
    ref = reference_sample()
    with torch.no_grad():
        untrained = mmd_rbf(gan.sample(batch_size=2000, generator=gen), ref)
    normal = mmd_rbf(torch.randn(2000, 2, generator=gen), ref)
    train(gan, 2500, gen, conditional=False)
    with torch.no_grad():
        x = gan.sample(batch_size=2000, generator=torch.Generator().manual_seed(1))
    mmd = mmd_rbf(x, ref)
    print(f"MMD {mmd:.4f}; untrained {untrained:.4f}, N(0, I) {normal:.4f}, "
          f"ring {mmd_rbf(ring(2000, gen), ref):.4f}; modes {modes_covered(x)}")  # fmt: skip
    assert mmd < MMD_MAX
    assert mmd < normal / 5 and mmd < untrained / 4
    assert modes_covered(x) >= 7


def test_condition_selects_the_mode() -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    gan = ConditionalGAN(2, cond_dim=8, noise_dim=4, hidden=(64, 64))
    train(gan, 600, gen, conditional=True)
    mode = torch.arange(8).repeat_interleave(100)
    with torch.no_grad():
        x = gan.sample(F.one_hot(mode, 8).float(), generator=gen)
    near = (x - mode_centres()[mode]).norm(dim=1) < 3 * 0.08
    assert near.float().mean() > 0.9  # 12.5 % if the condition were ignored


def small_gan(**kwargs) -> ConditionalGAN:
    torch.manual_seed(0)
    return ConditionalGAN(3, cond_dim=2, noise_dim=4, hidden=(16, 16), **kwargs)


def test_discriminator_outputs_logits_and_the_loss_stays_finite() -> None:
    gan = small_gan()
    real, cond = torch.randn(32, 3), torch.randn(32, 2)
    logits = gan.discriminate(real, cond)
    assert logits.shape == (32,)
    with torch.no_grad():  # logits are unbounded: make them extreme on purpose
        gan.discriminator_net[-1].bias.fill_(1e4)
    loss = gan.discriminator_loss(real, cond, generator=torch.Generator().manual_seed(0))
    assert (gan.discriminate(real, cond) > 1e3).all()  # no sigmoid inside D
    assert loss.adversarial.isfinite() and loss.adversarial > 1e3  # softplus(1e4) ~ 1e4
    assert gan.generator_loss(cond).isfinite()


def test_logistic_loss_matches_binary_cross_entropy() -> None:
    gan = small_gan(r1_gamma=0.0)
    real, cond = torch.randn(32, 3), torch.randn(32, 2)
    loss = gan.discriminator_loss(real, cond, generator=torch.Generator().manual_seed(5))
    fake = gan.sample(cond, generator=torch.Generator().manual_seed(5))
    bce = F.binary_cross_entropy(torch.sigmoid(gan.discriminate(real, cond)), torch.ones(32))
    bce = bce + F.binary_cross_entropy(torch.sigmoid(gan.discriminate(fake, cond)), torch.zeros(32))
    assert torch.allclose(loss.adversarial, bce, atol=1e-5)
    assert loss.r1 == 0 and torch.equal(loss.total, loss.adversarial)


@pytest.mark.parametrize("gamma", [0.5, 10.0])
def test_r1_penalty_is_positive_differentiable_and_scaled_by_gamma(gamma: float) -> None:
    gan = small_gan(r1_gamma=gamma)
    real, cond = torch.randn(32, 3), torch.randn(32, 2)
    loss = gan.discriminator_loss(real, cond, generator=torch.Generator().manual_seed(0))
    assert loss.r1 > 0
    assert torch.allclose(loss.total, loss.adversarial + gamma / 2 * loss.r1)
    loss.r1.backward()  # the penalty itself trains D (double backward)
    # every weight shapes grad_x D (the output bias does not, so it gets no gradient)
    weights = [p for name, p in gan.discriminator_net.named_parameters() if "weight" in name]
    assert all(w.grad is not None and w.grad.abs().sum() > 0 for w in weights)
    assert all(p.grad is None for p in gan.generator_net.parameters())
    # R1 is about real data only: it does not depend on the generator's draw
    again = gan.discriminator_loss(real, cond, generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.r1.detach(), loss.r1.detach())


def test_discriminator_loss_trains_only_the_discriminator() -> None:
    gan = small_gan()
    gan.discriminator_loss(torch.randn(8, 3), torch.randn(8, 2)).total.backward()
    assert all(p.grad is None for p in gan.generator_net.parameters())
    gan.generator_loss(torch.randn(8, 2)).backward()
    assert all(p.grad is not None for p in gan.generator_net.parameters())


def test_sampling_is_reproducible_from_a_generator() -> None:
    gan, cond = small_gan(), torch.randn(64, 2)

    def draw(seed: int) -> torch.Tensor:
        return gan.sample(cond, generator=torch.Generator().manual_seed(seed))

    assert torch.equal(draw(3), draw(3))
    assert not torch.allclose(draw(3), draw(4))
    unconditional = ConditionalGAN(2, hidden=(8,))
    a = unconditional.sample(batch_size=5, generator=torch.Generator().manual_seed(0))
    b = unconditional.sample(torch.empty(5, 0), generator=torch.Generator().manual_seed(0))
    assert a.shape == (5, 2) and torch.equal(a, b)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="r1_gamma"):
        ConditionalGAN(2, r1_gamma=-1.0)
    with pytest.raises(ValueError, match="noise_dim must be a positive integer"):
        ConditionalGAN(2, noise_dim=0)
    with pytest.raises(ValueError, match=r"cond must have shape \(batch, 2\)"):
        small_gan().sample(torch.zeros(4, 5))
