"""The conditional DDPM learns a multimodal distribution, conditions, samples reproducibly
and differentiably, and refuses bad settings with a message that says what is allowed."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from toy_data import (
    MODE_RADIUS,
    eight_gaussians,
    mmd_rbf,
    mode_centres,
    modes_covered,
    reference_sample,
    ring,
)

from gaidrl.generative import SCHEDULES, ConditionalDiffusion, beta_schedule

torch.set_num_threads(1)

# ---------------------------------------------------------------------------- learning
# 5 steps of the vp schedule blur sharp modes even with the exact denoiser (its last step
# returns E[x0 | x1] at noise std 0.45); 20 steps let the exact denoiser reach MMD ~0.008.
LEARN = dict(n_steps=20, schedule="vp", hidden=(64, 64, 64))
MMD_MAX = 0.02  # trained: 0.006-0.012 over seeds; baselines: ring ~0.023, N(0, I) ~0.14


@pytest.fixture(scope="module")
def trained() -> tuple[ConditionalDiffusion, dict[str, float]]:
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ConditionalDiffusion(2, cond_dim=0, **LEARN)
    ref = reference_sample()
    baselines = {
        "normal": mmd_rbf(torch.randn(2000, 2, generator=gen), ref),
        "untrained": mmd_rbf(model.sample(batch_size=2000, generator=gen).detach(), ref),
        "ring": mmd_rbf(ring(2000, gen), ref),
        "data": mmd_rbf(eight_gaussians(2000, gen)[0], ref),
    }
    steps = 7000
    opt = torch.optim.Adam(model.parameters(), lr=4e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        loss = model.loss(eight_gaussians(256, gen)[0], generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    return model, baselines


@pytest.mark.xdist_group("diffusion-trained")  # both samplers on one test process
@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_learns_eight_gaussians(trained, sampler: str) -> None:
    model, baselines = trained
    with torch.no_grad():
        x = model.sample(
            batch_size=2000, generator=torch.Generator().manual_seed(1), sampler=sampler
        )
    mmd = mmd_rbf(x, reference_sample())
    print(f"{sampler}: MMD {mmd:.4f}, baselines {baselines}, modes {modes_covered(x)}")
    assert mmd < MMD_MAX and mmd < baselines["ring"]
    assert mmd < baselines["normal"] / 5 and mmd < baselines["untrained"] / 5
    assert modes_covered(x) >= 7


@pytest.mark.parametrize("prediction", ["epsilon", "x0"])
def test_condition_selects_the_mode(prediction: str) -> None:
    """With the default 5 steps, a one-hot condition picks which of the 8 modes to sample,
    whether the denoiser predicts the noise or the clean sample."""
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = ConditionalDiffusion(2, cond_dim=8, hidden=(64, 64), prediction=prediction)
    steps = 1000
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        x, mode = eight_gaussians(256, gen)
        loss = model.loss(x, F.one_hot(mode, 8).float(), generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
    mode = torch.arange(8).repeat_interleave(200)
    with torch.no_grad():
        x = model.sample(F.one_hot(mode, 8).float(), generator=gen)
    distance = (x - mode_centres()[mode]).norm(dim=1)
    assert (distance < MODE_RADIUS).float().mean() > 0.95  # 12.5 % if cond were ignored


# ---------------------------------------------------------------------------- sampling
def small_model(**kwargs) -> ConditionalDiffusion:
    torch.manual_seed(0)
    return ConditionalDiffusion(3, cond_dim=2, hidden=(16, 16), **kwargs)


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
def test_same_generator_seed_same_samples(sampler: str) -> None:
    model, cond = small_model(), torch.randn(64, 2)

    def draw(seed: int) -> torch.Tensor:
        return model.sample(cond, generator=torch.Generator().manual_seed(seed), sampler=sampler)

    assert torch.equal(draw(7), draw(7))
    assert not torch.allclose(draw(7), draw(8))


def test_loss_is_reproducible_from_a_generator() -> None:
    model, x0, cond = small_model(), torch.rand(32, 3) * 2 - 1, torch.randn(32, 2)
    first = model.loss(x0, cond, generator=torch.Generator().manual_seed(3))
    assert torch.equal(first, model.loss(x0, cond, generator=torch.Generator().manual_seed(3)))
    assert first != model.loss(x0, cond, generator=torch.Generator().manual_seed(4))


@pytest.mark.parametrize("sampler", ["ddpm", "ddim"])
@pytest.mark.parametrize("clip", [1.0, None])
def test_gradients_flow_through_the_whole_chain(sampler: str, clip: float | None) -> None:
    model = small_model(clip=clip)
    cond = torch.randn(16, 2, requires_grad=True)
    noise = torch.randn(16, 3, requires_grad=True)
    x = model.sample(cond, generator=torch.Generator().manual_seed(0), sampler=sampler,
                     initial_noise=noise)  # fmt: skip
    assert x.requires_grad
    (x**2).sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert cond.grad.abs().sum() > 0
    assert noise.grad.abs().sum() > 0  # from the last sample back to the first draw


def test_ddim_is_deterministic_given_the_initial_noise() -> None:
    model, cond = small_model(n_steps=10), torch.randn(32, 2)
    noise = torch.randn(32, 3)

    def ddim(seed: int, steps: int | None, start: torch.Tensor = noise) -> torch.Tensor:
        gen = torch.Generator().manual_seed(seed)
        return model.sample(cond, generator=gen, sampler="ddim", steps=steps, initial_noise=start)

    for steps in (1, 3, 10):
        assert torch.equal(ddim(0, steps), ddim(1, steps))
        assert not torch.allclose(ddim(0, steps), ddim(0, steps, torch.randn(32, 3)))
    assert not torch.allclose(ddim(0, 3), ddim(0, 10))  # fewer steps is another path
    assert model.sampling_steps(3) == [9, 4, 0]
    # ancestral sampling draws fresh noise at each step, so the generator still matters
    ddpm = [model.sample(cond, generator=torch.Generator().manual_seed(s), initial_noise=noise)
            for s in (0, 1)]  # fmt: skip
    assert not torch.allclose(*ddpm)


def test_unconditional_model_takes_a_batch_size_or_an_empty_condition() -> None:
    torch.manual_seed(0)
    model = ConditionalDiffusion(2, cond_dim=0, hidden=(8,))
    by_size = model.sample(batch_size=5, generator=torch.Generator().manual_seed(0))
    by_empty = model.sample(torch.empty(5, 0), generator=torch.Generator().manual_seed(0))
    assert by_size.shape == (5, 2) and torch.equal(by_size, by_empty)
    assert model.loss(torch.zeros(4, 2)).isfinite()
    with pytest.raises(ValueError, match="batch_size"):
        model.sample()


def test_clip_bounds_every_sample() -> None:
    model = small_model(clip=0.5)
    x = model.sample(torch.randn(256, 2) * 10, generator=torch.Generator().manual_seed(0))
    assert x.abs().max() <= 0.5
    assert small_model(clip=None).sample(torch.randn(256, 2) * 10).abs().max() > 0.5


# ---------------------------------------------------------------------------- schedules
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("n_steps", [1, 2, 5, 20, 1000])
def test_alphas_cumprod_strictly_decrease_inside_zero_one(schedule: str, n_steps: int) -> None:
    model = ConditionalDiffusion(2, n_steps=n_steps, schedule=schedule, hidden=(4,))
    abar = model.alphas_cumprod
    assert abar.shape == (n_steps,)
    assert ((abar > 0) & (abar < 1)).all()
    assert (abar[1:] < abar[:-1]).all()


def test_vp_schedule_matches_its_formula() -> None:
    t, T = torch.arange(1, 6, dtype=torch.float64), 5
    expected = 1 - torch.exp(-0.1 / T - 0.5 * (10 - 0.1) * (2 * t - 1) / T**2)
    assert torch.allclose(beta_schedule("vp", 5), expected)


# ---------------------------------------------------------------------------- bad settings
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        (dict(n_steps=0), ["n_steps", "positive integer"]),
        (dict(n_steps=-3), ["n_steps", "positive integer"]),
        (dict(schedule="quadratic"), ["schedule", "linear", "cosine", "vp"]),
        (dict(prediction="v"), ["prediction", "epsilon", "x0"]),
        (dict(clip=0.0), ["clip"]),
        (dict(activation="gelu"), ["activation", "mish", "silu", "relu"]),
    ],
)
def test_bad_settings_are_refused(kwargs: dict, words: list[str]) -> None:
    with pytest.raises(ValueError) as error:
        ConditionalDiffusion(2, **kwargs)
    assert all(word in str(error.value) for word in words)


def test_bad_sampler_arguments_are_refused() -> None:
    model = small_model(n_steps=5)
    cond = torch.zeros(4, 2)
    with pytest.raises(ValueError, match="sampler.*ddpm, ddim"):
        model.sample(cond, sampler="euler")
    for steps in (6, 0):
        with pytest.raises(ValueError, match=r"steps must be an integer from 1 to n_steps=5"):
            model.sample(cond, sampler="ddim", steps=steps)
    with pytest.raises(ValueError, match=r"cond must have shape \(batch, 2\)"):
        model.sample(torch.zeros(4, 3))
    with pytest.raises(ValueError, match="cond is required"):
        model.sample(batch_size=4)


@pytest.mark.parametrize("activation", ["mish", "silu", "relu"])
def test_the_samplers_conditioned_path_is_the_denoisers_forward(activation: str) -> None:
    """Sampling computes the condition's share of the first layer once per chain: the same
    function as the plain forward pass, at every step, and with the same gradients."""
    torch.manual_seed(0)
    model = ConditionalDiffusion(3, 4, n_steps=5, hidden=(32, 32), activation=activation)
    x, cond = torch.randn(6, 3), torch.randn(6, 4, requires_grad=True)
    denoiser = model.denoiser
    condition = denoiser.condition(cond)
    for step in range(5):
        t = torch.full((6,), step, dtype=torch.long)
        fast = denoiser.conditioned(x, step, condition)
        torch.testing.assert_close(fast, denoiser(x, t, cond), rtol=1e-5, atol=1e-6)
    (grad_fast,) = torch.autograd.grad(
        denoiser.conditioned(x, 2, denoiser.condition(cond)).sum(), cond
    )
    (grad_plain,) = torch.autograd.grad(denoiser(x, torch.full((6,), 2), cond).sum(), cond)
    torch.testing.assert_close(grad_fast, grad_plain, rtol=1e-5, atol=1e-6)


def test_a_custom_denoiser_without_a_conditioned_path_still_samples() -> None:
    class Plain(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Linear(3 + 1 + 2, 3)

        def forward(self, x, t, cond):
            return self.net(torch.cat([x, t[:, None].float(), cond], dim=-1))

    model = ConditionalDiffusion(3, 2, n_steps=4, denoiser=Plain())
    g = torch.Generator().manual_seed(0)
    sample = model.sample(torch.zeros(5, 2), generator=g)
    assert sample.shape == (5, 3) and bool((sample.abs() <= 1).all())
