"""The VAE recovers a known low-dimensional manifold, its KL is the right non-negative
number, the condition works, and beta scales the KL term."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from gaidrl.generative import VAE

torch.set_num_threads(1)

DATA_DIM, LATENT_DIM = 16, 2
MIXING = torch.randn(DATA_DIM, LATENT_DIM, generator=torch.Generator().manual_seed(123))


def manifold(n: int, generator: torch.Generator) -> torch.Tensor:
    """A 2-D latent, a fixed random linear map, then tanh: a curved 2-D sheet in 16-D
    (the gain of 2 saturates the tanh enough that a linear 2-D code misses ~7 %)."""
    return torch.tanh(2.0 * torch.randn(n, LATENT_DIM, generator=generator) @ MIXING.T)


def pca_error(x: torch.Tensor, rank: int) -> float:
    """Mean squared error of the best rank-``rank`` linear reconstruction: what a linear
    2-D code achieves, so a VAE that beats it has learnt the curvature."""
    centred = x - x.mean(0)
    basis = torch.linalg.svd(centred, full_matrices=False).Vh[:rank]
    return float((centred @ basis.T @ basis - centred).pow(2).mean())


def train(vae: VAE, steps: int, data, gen: torch.Generator) -> None:
    opt = torch.optim.Adam(vae.parameters(), lr=3e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        x, cond = data(256)
        out = vae.loss(x, cond, generator=gen)
        opt.zero_grad()
        out.total.backward()
        opt.step()
        decay.step()


# Per element. The data variance is ~0.65, a rank-2 PCA leaves ~0.042 and rank 4 ~0.0093;
# the VAE: ~0.0016 with beta 0.1 (~0.012 with beta 1, where the KL term caps the precision).
MSE_MAX = 0.005


def test_reconstructs_a_known_low_dimensional_manifold() -> None:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    vae = VAE(DATA_DIM, LATENT_DIM, hidden=(64, 64), beta=0.1)
    train(vae, 2000, lambda n: (manifold(n, gen), None), gen)
    x = manifold(4000, gen)
    with torch.no_grad():
        mse = float((vae.reconstruct(x) - x).pow(2).mean())
    variance, rank2, rank4 = float(x.var(0).mean()), pca_error(x, 2), pca_error(x, 4)
    print(f"MSE {mse:.5f}; data variance {variance:.4f}, PCA rank 2 {rank2:.4f}, 4 {rank4:.4f}")
    assert mse < MSE_MAX
    assert mse < variance / 100
    assert mse < rank2 / 10 and mse < rank4  # the 2-D code beats any linear 4-D one


def test_kl_is_non_negative_and_matches_the_closed_form() -> None:
    torch.manual_seed(0)
    vae = VAE(5, 3, hidden=(16,))
    for scale in (0.0, 1.0, 10.0):
        x = scale * torch.randn(64, 5)
        out = vae.loss(x, generator=torch.Generator().manual_seed(0))
        mean, log_var = vae.encode(x)
        posterior = Normal(mean, (0.5 * log_var).exp())
        expected = kl_divergence(posterior, Normal(0.0, 1.0)).sum(-1).mean()
        assert out.kl >= 0
        assert torch.allclose(out.kl, expected, rtol=1e-4, atol=1e-5)
    # zero exactly when the posterior is the prior
    with torch.no_grad():
        vae.encoder[-1].weight.zero_()
        vae.encoder[-1].bias.zero_()
    assert vae.loss(torch.randn(8, 5)).kl.abs() < 1e-6


def test_beta_scales_the_kl_term() -> None:
    torch.manual_seed(0)
    one = VAE(5, 3, hidden=(16,), beta=1.0)
    four = VAE(5, 3, hidden=(16,), beta=4.0)
    four.load_state_dict(one.state_dict())
    x = torch.randn(32, 5)
    a = one.loss(x, generator=torch.Generator().manual_seed(0))
    b = four.loss(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(a.recon, b.recon) and torch.equal(a.kl, b.kl)
    assert torch.allclose(a.total, a.recon + a.kl) and torch.allclose(b.total, b.recon + 4 * b.kl)


def test_larger_beta_trains_a_smaller_kl() -> None:
    """The point of beta: more weight on the KL buys a code closer to the prior."""
    kls = {}
    for beta in (0.1, 4.0):
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(0)
        vae = VAE(DATA_DIM, LATENT_DIM, hidden=(32, 32), beta=beta)
        train(vae, 300, lambda n, g=gen: (manifold(n, g), None), gen)
        with torch.no_grad():
            kls[beta] = float(vae.loss(manifold(2000, gen), generator=gen).kl)
    assert kls[4.0] < kls[0.1] / 2


def test_conditional_vae_uses_its_condition() -> None:
    """Three classes shift the manifold; decoding prior draws under class k must land on
    class k's data (mean within a tenth of the distance to the other classes)."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    shift = torch.randn(DATA_DIM, 3, generator=torch.Generator().manual_seed(7))

    def data(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        cond = F.one_hot(torch.randint(0, 3, (n,), generator=gen), 3).float()
        z = torch.randn(n, LATENT_DIM, generator=gen)
        return torch.tanh(0.7 * z @ MIXING.T + 1.5 * cond @ shift.T), cond

    vae = VAE(DATA_DIM, LATENT_DIM, cond_dim=3, hidden=(64, 64), beta=0.1)
    train(vae, 1000, data, gen)
    x, cond = data(6000)
    class_means = torch.stack([x[cond[:, k] == 1].mean(0) for k in range(3)])
    for k in range(3):
        k_cond = F.one_hot(torch.full((2000,), k), 3).float()
        with torch.no_grad():
            generated = vae.sample(k_cond, generator=gen).mean(0)
        distance = (class_means - generated).norm(dim=1)
        others = torch.cat([distance[:k], distance[k + 1 :]])
        assert distance[k] < others.min() / 10
    with torch.no_grad():
        mse = float((vae.reconstruct(x, cond) - x).pow(2).mean())
    print(f"conditional MSE {mse:.5f}; data variance {float(x.var(0).mean()):.4f}")
    assert mse < MSE_MAX


def test_sampling_is_reproducible_and_unconditional_takes_a_batch_size() -> None:
    torch.manual_seed(0)
    vae = VAE(4, 2, hidden=(8,))
    a = vae.sample(batch_size=6, generator=torch.Generator().manual_seed(1))
    b = vae.sample(torch.empty(6, 0), generator=torch.Generator().manual_seed(1))
    assert a.shape == (6, 4) and torch.equal(a, b)
    assert not torch.allclose(
        a, vae.sample(batch_size=6, generator=torch.Generator().manual_seed(2))
    )
    x = torch.randn(3, 4)
    assert torch.equal(vae(x, generator=torch.Generator().manual_seed(0)).total,
                       vae.loss(x, generator=torch.Generator().manual_seed(0)).total)  # fmt: skip
    assert torch.equal(vae.embed(x), vae.encode(x)[0])  # deterministic feature


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="latent_dim must be a positive integer"):
        VAE(4, 0)
    with pytest.raises(ValueError, match="beta"):
        VAE(4, 2, beta=-1.0)
    with pytest.raises(ValueError, match="cond is required"):
        VAE(4, 2, cond_dim=3).loss(torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"x must have shape \(batch, 4\)"):
        VAE(4, 2).encode(torch.zeros(2, 5))
