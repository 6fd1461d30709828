"""A conditional denoising diffusion model (DDPM) over vectors, with DDPM and DDIM samplers.

Built to serve as a diffusion policy as well as a plain generative model, hence:

* few denoising steps (default 5, as in Diffusion-QL) with the variance-preserving ``vp``
  schedule made for that regime; ``linear`` and ``cosine`` are there for longer chains;
* optional clipping of the predicted clean sample at every step (actions live in [-1, 1]);
* sampling that is differentiable end to end (no ``torch.no_grad`` anywhere), so a loss on
  the samples (e.g. a critic's Q value) trains the denoiser and reaches the condition;
* every random draw comes from an optional ``torch.Generator`` (same state, same samples),
  which is what exact resume of a seeded agent needs.

"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from gaidrl.generative.layers import (
    Mish,
    as_condition,
    check_choice,
    check_cond_dim,
    check_positive_int,
    mlp,
)

SCHEDULES = ("linear", "cosine", "vp")
PREDICTIONS = ("epsilon", "x0")
SAMPLERS = ("ddpm", "ddim")

_MAX_BETA = 0.999  # Nichol & Dhariwal's cap: a beta of 1 would erase the signal in one step


# ---------------------------------------------------------------------------- schedules
def beta_schedule(
    name: str, n_steps: int, beta_min: float = 0.1, beta_max: float = 10.0
) -> torch.Tensor:
    """Noise variances ``beta_1..beta_T`` (float64, shape ``(n_steps,)``).

    * ``linear``: Ho et al.'s 1e-4..0.02, rescaled by ``1000 / n_steps`` so a short chain
      still ends near pure noise (Nichol & Dhariwal), capped at 0.999. Meant for long
      chains: with a handful of steps most betas hit the cap; use ``vp`` there.
    * ``cosine``: Nichol & Dhariwal, ``alpha_bar(t) = cos^2(((t/T + s) / (1 + s)) pi/2)``,
      ``s = 0.008``, betas capped at 0.999.
    * ``vp``: the discretised variance-preserving SDE of Diffusion-QL,
      ``beta_t = 1 - exp(-beta_min/T - (beta_max - beta_min)(2t - 1) / (2 T^2))``, which
      keeps every beta below 1 for any T (``beta_min``/``beta_max`` apply only here).
    """
    check_choice("schedule", name, SCHEDULES)
    check_positive_int("n_steps", n_steps)
    t = torch.arange(1, n_steps + 1, dtype=torch.float64)
    if name == "linear":
        scale = 1000.0 / n_steps
        betas = torch.linspace(scale * 1e-4, scale * 0.02, n_steps, dtype=torch.float64)
    elif name == "cosine":
        s = 0.008

        def alpha_bar(step: torch.Tensor) -> torch.Tensor:
            return torch.cos((step / n_steps + s) / (1 + s) * math.pi / 2) ** 2

        betas = 1 - alpha_bar(t) / alpha_bar(t - 1)
    else:
        exponent = beta_min / n_steps + 0.5 * (beta_max - beta_min) * (2 * t - 1) / n_steps**2
        betas = -torch.expm1(-exponent)
    return betas.clamp(max=_MAX_BETA)


# ---------------------------------------------------------------------------- the denoiser
class SinusoidalEmbedding(nn.Module):
    """Fixed sin/cos features of a (possibly fractional) step index, as in Transformers:
    nearby steps get nearby codes, and the denoiser needs no learned lookup table."""

    def __init__(self, dim: int, max_period: float = 10_000.0) -> None:
        super().__init__()
        if dim < 2 or dim % 2:
            raise ValueError(f"time_embed_dim must be an even integer >= 2, got {dim}")
        half = dim // 2
        freqs = torch.exp(-math.log(max_period) * torch.arange(half) / half)
        self.register_buffer("freqs", freqs, persistent=False)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        args = t.to(self.freqs.dtype)[:, None] * self.freqs[None, :]
        return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


ACTIVATIONS: dict[str, type[nn.Module]] = {"mish": Mish, "silu": nn.SiLU, "relu": nn.ReLU}


class Denoiser(nn.Module):
    """The default network: an MLP over ``[x_t, time embedding, cond]`` that returns a
    vector of ``data_dim`` (the noise or the clean sample, per the model's prediction).

    A sampler calls it once per step with the same condition and one step index for the
    whole batch; :meth:`condition` and :meth:`conditioned` split the first layer so that the
    condition's share of it is computed once per chain and the time embedding once per step
    (the same function as :meth:`forward`, up to float rounding).
    """

    def __init__(
        self,
        data_dim: int,
        cond_dim: int,
        hidden: Sequence[int] = (256, 256),
        time_embed_dim: int = 16,
        activation: str = "mish",
    ) -> None:
        super().__init__()
        act = ACTIVATIONS[check_choice("activation", activation, tuple(ACTIVATIONS))]
        self.data_dim, self.time_embed_dim = data_dim, time_embed_dim
        self.time_embed = nn.Sequential(
            SinusoidalEmbedding(time_embed_dim),
            nn.Linear(time_embed_dim, time_embed_dim),
            act(),
        )
        self.net = mlp(data_dim + time_embed_dim + cond_dim, data_dim, hidden, act)

    def forward(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x_t, self.time_embed(t), cond], dim=-1))

    def condition(self, cond: torch.Tensor) -> torch.Tensor:
        """The condition's share of the first layer, bias included: (batch, hidden[0])."""
        first = self.net[0]
        return nn.functional.linear(cond, first.weight[:, self.data_dim + self.time_embed_dim:],
                                    first.bias)  # fmt: skip

    def conditioned(self, x_t: torch.Tensor, step: int, condition: torch.Tensor) -> torch.Tensor:
        """:meth:`forward` at one step index for every row, given :meth:`condition`."""
        first, d = self.net[0], self.data_dim
        t = torch.full((1,), step, device=x_t.device, dtype=torch.long)
        time_part = nn.functional.linear(
            self.time_embed(t), first.weight[:, d : d + self.time_embed_dim]
        )
        h = torch.addmm(condition + time_part, x_t, first.weight[:, :d].t())
        return self.net[1:](h)


# ---------------------------------------------------------------------------- the model
class ConditionalDiffusion(nn.Module):
    """A DDPM over vectors of ``data_dim``, conditioned on vectors of ``cond_dim``.

    Steps are indexed ``0..n_steps-1`` (index ``i`` is the paper's ``t = i + 1``).
    ``cond_dim=0`` makes it unconditional: pass ``cond=None`` (with ``batch_size=`` to
    :meth:`sample`) or an empty ``(n, 0)`` tensor. ``denoiser`` replaces the default MLP
    with any module called as ``denoiser(x_t, t, cond) -> (batch, data_dim)``.

    Usage::

        model = ConditionalDiffusion(data_dim=2, cond_dim=3)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss = model.loss(x0, cond, generator=g); opt.zero_grad(); loss.backward(); opt.step()
        x = model.sample(cond, generator=g)                         # 5-step ancestral DDPM
        x = model.sample(cond, sampler="ddim", steps=2, generator=g)  # deterministic DDIM
    """

    def __init__(
        self,
        data_dim: int,
        cond_dim: int = 0,
        n_steps: int = 5,
        schedule: str = "vp",
        prediction: str = "epsilon",
        clip: float | None = 1.0,
        hidden: Sequence[int] = (256, 256),
        time_embed_dim: int = 16,
        denoiser: nn.Module | None = None,
        activation: str = "mish",
    ) -> None:
        super().__init__()
        self.data_dim = check_positive_int("data_dim", data_dim)
        if clip is not None and not clip > 0:
            raise ValueError(f"clip must be a positive number or None, got {clip!r}")
        self.cond_dim = check_cond_dim(cond_dim)
        self.n_steps = check_positive_int("n_steps", n_steps)
        self.schedule = check_choice("schedule", schedule, SCHEDULES)
        self.prediction = check_choice("prediction", prediction, PREDICTIONS)
        self.clip = clip
        self.denoiser = (
            denoiser
            if denoiser is not None
            else Denoiser(data_dim, cond_dim, hidden, time_embed_dim, activation)
        )

        betas = beta_schedule(schedule, n_steps)
        alphas_cumprod = torch.cumprod(1 - betas, dim=0)
        # Sampling coefficients are computed in float64 from these; the float32 buffers
        # serve the training loss. Both derive from the constructor, so not in state_dict.
        self._alphas_cumprod64: list[float] = alphas_cumprod.tolist()
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)

    # -------------------------------------------------------------- training
    def add_noise(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """The forward process ``q(x_t | x_0)``: ``sqrt(abar_t) x0 + sqrt(1 - abar_t) noise``."""
        abar = self.alphas_cumprod[t].to(x0.dtype)[:, None]
        return abar.sqrt() * x0 + (1 - abar).sqrt() * noise

    def loss(
        self,
        x0: torch.Tensor,
        cond: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Mean squared error of the denoiser's target (the noise or ``x0``) at a step
        drawn uniformly per sample: the simplified DDPM objective."""
        if x0.dim() != 2 or x0.shape[1] != self.data_dim:
            raise ValueError(f"x0 must have shape (batch, {self.data_dim}), got {tuple(x0.shape)}")
        batch = x0.shape[0]
        cond = as_condition(cond, self.cond_dim, batch, x0)
        t = torch.randint(0, self.n_steps, (batch,), generator=generator, device=x0.device)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
        output = self.denoiser(self.add_noise(x0, t, noise), t, cond)
        target = noise if self.prediction == "epsilon" else x0
        return (output - target).pow(2).mean()

    # -------------------------------------------------------------- sampling
    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """The denoiser's estimate of the clean sample at step ``t``, clipped if asked."""
        return self._to_x0(x_t, t, self.denoiser(x_t, t, cond))

    def _to_x0(
        self, x_t: torch.Tensor, t: torch.Tensor | int, output: torch.Tensor
    ) -> torch.Tensor:
        """The clean-sample estimate from the denoiser's ``output`` at step ``t``, clipped."""
        if self.prediction == "epsilon":
            if isinstance(t, int):  # one step for the whole batch: float64 coefficients
                abar = self._alphas_cumprod64[t]
                output = (x_t - math.sqrt(1 - abar) * output) / math.sqrt(abar)
            else:
                abar = self.alphas_cumprod[t].to(x_t.dtype)[:, None]
                output = (x_t - (1 - abar).sqrt() * output) / abar.sqrt()
        if self.clip is not None:
            output = output.clamp(-self.clip, self.clip)
        return output

    def sampling_steps(self, steps: int | None = None) -> list[int]:
        """The step indices a sampler visits, from the noisiest down: all of them, or
        ``steps`` of them evenly strided, always starting at the last (pure-noise) step."""
        if steps is None:
            return list(range(self.n_steps - 1, -1, -1))
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= self.n_steps:
            raise ValueError(
                f"steps must be an integer from 1 to n_steps={self.n_steps}, got {steps!r}"
            )
        grid = torch.linspace(self.n_steps - 1, 0, steps, dtype=torch.float64).round()
        return [int(i) for i in grid]  # distinct: the spacing is >= 1 when steps <= n_steps

    def sample(
        self,
        cond: torch.Tensor | None = None,
        *,
        batch_size: int | None = None,
        generator: torch.Generator | None = None,
        sampler: str = "ddpm",
        steps: int | None = None,
        initial_noise: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Draw ``(batch, data_dim)`` samples, differentiably.

        ``sampler="ddpm"`` is ancestral sampling (fresh noise at each step but the last);
        ``"ddim"`` is DDIM with eta = 0, deterministic given ``initial_noise``. ``steps``
        (default ``n_steps``) runs either on an evenly strided subset of the steps (for
        ``ddpm`` that is Nichol & Dhariwal's respacing). Both are the generalised DDIM
        update, with eta 1 or 0: with all steps, eta 1 is exactly the DDPM posterior.
        ``initial_noise`` replaces the first draw; the batch size comes from ``cond``,
        ``initial_noise`` or ``batch_size``, which must agree.
        """
        eta = {"ddpm": 1.0, "ddim": 0.0}[check_choice("sampler", sampler, SAMPLERS)]
        schedule = self.sampling_steps(steps)
        ref = self.alphas_cumprod
        if initial_noise is not None:
            if initial_noise.dim() != 2 or initial_noise.shape[1] != self.data_dim:
                raise ValueError(
                    f"initial_noise must have shape (batch, {self.data_dim}), "
                    f"got {tuple(initial_noise.shape)}"
                )
            if batch_size is not None and initial_noise.shape[0] != batch_size:
                raise ValueError("initial_noise and batch_size disagree on the batch size")
            batch_size = initial_noise.shape[0]
        elif batch_size is None and cond is not None:
            batch_size = cond.shape[0]
        cond = as_condition(cond, self.cond_dim, batch_size, ref)
        batch_size = cond.shape[0]

        if initial_noise is None:
            x = torch.randn(
                (batch_size, self.data_dim), generator=generator, device=ref.device, dtype=ref.dtype
            )
        else:
            x = initial_noise
        denoise = self._chain_denoiser(cond)
        for k, i in enumerate(schedule):
            prev = schedule[k + 1] if k + 1 < len(schedule) else None
            x = self._step(x, i, prev, denoise, eta, generator)
        return x

    def _chain_denoiser(self, cond: torch.Tensor):
        """``denoise(x_t, step)`` for one chain with a fixed condition: through the
        denoiser's conditioned path when it has one (:class:`Denoiser` does), which
        computes the condition's share once per chain."""
        if hasattr(self.denoiser, "conditioned") and hasattr(self.denoiser, "condition"):
            condition = self.denoiser.condition(cond)
            return lambda x, i: self.denoiser.conditioned(x, i, condition)

        def denoise(x: torch.Tensor, i: int) -> torch.Tensor:
            t = torch.full((x.shape[0],), i, device=x.device, dtype=torch.long)
            return self.denoiser(x, t, cond)

        return denoise

    def _step(
        self,
        x_t: torch.Tensor,
        i: int,
        prev: int | None,
        denoise,
        eta: float,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """One generalised DDIM update from step ``i`` to step ``prev`` (``None``: the
        clean sample). The noise estimate is recomputed from the clipped ``x0`` so that
        clipping and the update agree."""
        x0 = self._to_x0(x_t, i, denoise(x_t, i))
        if prev is None:
            return x0
        abar = self._alphas_cumprod64[i]
        abar_prev = self._alphas_cumprod64[prev]
        eps = (x_t - math.sqrt(abar) * x0) / math.sqrt(1 - abar)
        sigma = eta * math.sqrt((1 - abar_prev) / (1 - abar) * (1 - abar / abar_prev))
        direction = math.sqrt(max(1 - abar_prev - sigma**2, 0.0))
        x_prev = math.sqrt(abar_prev) * x0 + direction * eps
        if sigma > 0:
            noise = torch.randn(x_t.shape, generator=generator, device=x_t.device, dtype=x_t.dtype)
            x_prev = x_prev + sigma * noise
        return x_prev
