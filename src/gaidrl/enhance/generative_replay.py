"""Generative replay (SynthER, Lu et al. 2023): a generative model of whole transitions
(s, a, r, s', terminated), fitted on the real buffer and re-fitted every ``refit_every`` env
steps, whose samples make up ``ratio`` of every batch the algorithm draws.

It wraps the agent's default buffer (the replay slot's factory): real transitions go into
that buffer and nowhere else; generated ones live in a separate pool of ``pool_size`` rows,
drawn anew at each fit, and reach the algorithm only inside sampled batches, flagged by
``batch.synthetic``. So nothing generated can overwrite the collector's state or a stored
transition (SynthER's known bug overwrote the live observation). The model is a diffusion
model (``model: diffusion``, as in SynthER) or a GAN (``model: gan``) over the transitions
standardised per dimension; a generated ``terminated`` is rounded to 0 or 1.

The update-to-data ratio is the algorithm's own knob (``gradient_steps`` per env step);
SynthER pairs a 50 % ratio with a high one. Logged after every gradient step: the fraction
of synthetic rows actually mixed in (``replay/synthetic_fraction``) and the fidelity of the
last fit (``replay/fidelity_mmd``: the MMD between held-out real rows and generated ones,
standardised, 0 for a perfect model; ``replay/real_mmd`` is the same statistic between two
sets of real rows, the noise floor).
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import numpy as np
import torch

from gaidrl.agents.base import gradient_step
from gaidrl.agents.parts import IncompatiblePartError
from gaidrl.agents.parts.context import PartContext
from gaidrl.data.replay import Batch, ReplayBuffer
from gaidrl.enhance.mixed_replay import (
    MixedReplay,
    algorithm_defaults,
    check_counts,
    check_share,
)
from gaidrl.generative import ConditionalDiffusion, ConditionalGAN, mmd_rbf

MODELS = ("diffusion", "gan")
FIDELITY_ROWS = 512


def check_settings(model: str, ratio: float, **counts: int) -> None:
    """Refuse a bad setting with one line naming it and what is allowed."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")
    check_share(ratio)
    check_counts(**counts)


class GenerativeReplay(MixedReplay):
    """A :class:`~gaidrl.agents.parts.replay.ReplaySource` that mixes generated transitions
    into the batches of the real buffer it wraps."""

    def __init__(
        self,
        buffer: ReplayBuffer,
        obs_dim: int,
        action_dim: int,
        model: str = "diffusion",
        ratio: float = 0.5,
        refit_every: int = 10_000,
        min_real: int = 1_000,
        fit_steps: int = 2_000,
        fit_batch: int = 256,
        pool_size: int = 10_000,
        n_steps: int = 20,
        hidden: Sequence[int] = (256, 256),
        lr: float = 3e-4,
        generator: torch.Generator | None = None,
    ) -> None:
        check_settings(model, ratio, refit_every=refit_every, min_real=min_real,
                       fit_steps=fit_steps, fit_batch=fit_batch, pool_size=pool_size)  # fmt: skip
        super().__init__(buffer, ratio, refit_every, min_real)
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.row_dim = 2 * obs_dim + action_dim + 2  # s, a, r, s', terminated
        self.model_name = model
        self.fit_steps, self.fit_batch, self.pool_size = fit_steps, fit_batch, pool_size
        if model == "diffusion":
            # x0-prediction, unclipped: epsilon-prediction without clipping explodes at the
            # noisiest steps, and clipping standardised rows would cut rare values such as a
            # terminal flag seen once in a thousand rows
            self.model = ConditionalDiffusion(self.row_dim, 0, n_steps=n_steps, schedule="cosine",
                                              prediction="x0", clip=None,
                                              hidden=tuple(hidden))  # fmt: skip
            self.opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        else:
            self.model = ConditionalGAN(self.row_dim, 0, hidden=tuple(hidden))
            self.opt = torch.optim.Adam(self.model.generator_net.parameters(), lr=lr,
                                        betas=(0.0, 0.99))  # fmt: skip
            self.discriminator_opt = torch.optim.Adam(
                self.model.discriminator_net.parameters(), lr=lr, betas=(0.0, 0.99)
            )
        self.register_buffer("mean", torch.zeros(self.row_dim))
        self.register_buffer("std", torch.ones(self.row_dim))
        self.register_buffer("pool", torch.zeros(pool_size, self.row_dim))
        self.generator = generator if generator is not None else torch.Generator()
        self.fits = 0
        self.fidelity = {"fidelity_mmd": float("nan"), "real_mmd": float("nan")}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        opts = {"model": self.opt}
        if self.model_name == "gan":
            opts["discriminator"] = self.discriminator_opt
        return opts

    # ------------------------------------------------------------------ MixedReplay
    def ready(self) -> bool:
        return self.fits > 0

    def refit(self) -> None:
        self.fit()

    def synthetic_rows(self, k: int, device: torch.device) -> Batch:
        idx = torch.randint(0, self.pool_size, (k,), generator=self.generator)
        return self._as_batch(self.pool[idx.to(self.pool.device)], device)

    def stats(self) -> dict[str, float]:
        return dict(self.fidelity)

    def model_state(self) -> dict:
        return {"fits": self.fits, "fidelity": dict(self.fidelity)}

    def load_model_state(self, state: dict) -> None:
        self.fits = int(state["fits"])
        self.fidelity = {k: float(v) for k, v in state["fidelity"].items()}

    # ------------------------------------------------------------------ the model
    def fit(self) -> None:
        """Fit the model on the real buffer (standardised rows), then draw a fresh pool."""
        filled = self._rows(np.arange(len(self.buffer)))
        self.mean.copy_(filled.mean(0))
        self.std.copy_(filled.std(0).clamp_min(1e-6))
        for _ in range(self.fit_steps):
            x = self._standard(self._rows(self.buffer.sample_indices(self.fit_batch)))
            if self.model_name == "diffusion":
                gradient_step(self.opt, self.model.loss(x, generator=self.generator))
            else:
                d_loss = self.model.discriminator_loss(x, generator=self.generator).total
                gradient_step(self.discriminator_opt, d_loss)
                g_loss = self.model.generator_loss(batch_size=len(x), generator=self.generator)
                gradient_step(self.opt, g_loss)
        with torch.no_grad():
            for start in range(0, self.pool_size, 4096):
                n = min(4096, self.pool_size - start)
                drawn = self.model.sample(batch_size=n, generator=self.generator)
                self.pool[start : start + n] = drawn
            held_out = self._standard(self._rows(self.buffer.sample_indices(2 * FIDELITY_ROWS)))
            fake = self.pool[torch.randint(0, self.pool_size, (FIDELITY_ROWS,),
                                           generator=self.generator)]  # fmt: skip
            self.fidelity = {
                "fidelity_mmd": mmd_rbf(held_out[:FIDELITY_ROWS], fake),
                "real_mmd": mmd_rbf(held_out[:FIDELITY_ROWS], held_out[FIDELITY_ROWS:]),
            }
        self.fits += 1

    def _rows(self, idx: np.ndarray) -> torch.Tensor:
        """Stored transitions ``idx`` as rows [s, a, r, s', terminated] (float32)."""
        b = self.buffer
        parts = [b.obs[idx].reshape(len(idx), -1), b.action[idx].reshape(len(idx), -1),
                 b.reward[idx, None], b.next_obs[idx].reshape(len(idx), -1),
                 b.terminated[idx, None]]  # fmt: skip
        return torch.as_tensor(np.concatenate(parts, axis=1), dtype=torch.float32,
                               device=self.mean.device)  # fmt: skip

    def _standard(self, rows: torch.Tensor) -> torch.Tensor:
        return (rows - self.mean) / self.std

    def _as_batch(self, standard_rows: torch.Tensor, device: torch.device) -> Batch:
        rows = (standard_rows * self.std + self.mean).to(device)
        o, a = self.obs_dim, self.action_dim
        shape = self.buffer.obs.shape[1:]
        n = len(rows)
        return Batch(
            obs=rows[:, :o].reshape(n, *shape),
            action=rows[:, o : o + a].clamp(-1.0, 1.0),  # stored actions are normalised
            reward=rows[:, o + a],
            next_obs=rows[:, o + a + 1 : 2 * o + a + 1].reshape(n, *shape),
            terminated=(rows[:, -1] > 0.5).float(),
            truncated=torch.zeros(n, device=device),
            synthetic=torch.ones(n, device=device),
        )


def build(
    context: PartContext,
    model: str = "diffusion",
    ratio: float = 0.5,
    refit_every: int = 10_000,
    min_real: int | None = None,
    fit_steps: int = 2_000,
    fit_batch: int | None = None,
    pool_size: int = 10_000,
    n_steps: int = 20,
    hidden: Sequence[int] | None = None,
    lr: float = 3e-4,
):
    """``parts.replay.name: generative``: a factory that wraps the agent's default buffer.
    ``min_real`` defaults to the algorithm's ``learning_starts``, ``fit_batch`` to its
    ``batch_size``."""
    obs, act = context.observation_space, context.normalized_action_space
    if not isinstance(obs, gym.spaces.Box) or not isinstance(act, gym.spaces.Box):
        raise IncompatiblePartError(
            "generative replay models transitions of flat Box observations and Box actions; "
            f"got {obs} and {act} (on the case study use obs_mode compact or channel with "
            "action_mode continuous)"
        )
    generator = context.generator()
    min_real, fit_batch = algorithm_defaults(context, min_real, fit_batch)
    settings = dict(
        model=model, ratio=ratio, refit_every=refit_every, min_real=min_real,
        fit_steps=fit_steps, fit_batch=fit_batch, pool_size=pool_size, n_steps=n_steps,
        hidden=context.widths(hidden), lr=lr, generator=generator,
    )  # fmt: skip
    check_settings(model, ratio, **{k: settings[k] for k in ("refit_every", "min_real",
                   "fit_steps", "fit_batch", "pool_size")})  # fmt: skip
    obs_dim, act_dim = int(np.prod(obs.shape)), int(np.prod(act.shape))

    def wrap(buffer: ReplayBuffer) -> GenerativeReplay:
        return GenerativeReplay(buffer, obs_dim, act_dim, **settings)

    return wrap
