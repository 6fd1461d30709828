"""A learned world model for Dyna-style imagined experience (MBPO, Janner et al. 2019).

An ensemble of probabilistic networks predicts, from (s, a), a Gaussian over (s' - s, r) and
a terminal logit; each member is trained on its own draws of the real buffer (bootstrap),
every ``train_every`` env steps. Then short branched rollouts start from real states: the
agent's current exploring policy acts, a member drawn at random for each row predicts, for
``horizon`` steps, and the imagined transitions go into a model buffer of their own. Batches
mix ``ratio`` of model rows (MBPO: 95 %) into the real ones, flagged ``batch.synthetic``;
the real buffer is never written. The held-out one-step error (every tenth stored row is
never trained on) is logged as ``replay/model_error`` (mean squared error of the predicted
next state, in the state's standardised units) beside ``replay/synthetic_fraction``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.base import gradient_step
from gaidrl.agents.parts import IncompatiblePartError, mlp
from gaidrl.agents.parts.context import PartContext
from gaidrl.data.replay import Batch, ReplayBuffer
from gaidrl.enhance.mixed_replay import (
    MixedReplay,
    algorithm_defaults,
    check_counts,
    check_share,
)

LOG_VAR_RANGE = (-10.0, 4.0)
HOLDOUT_EVERY = 10  # stored rows 0, 10, 20... are held out of training


class WorldModelReplay(MixedReplay):
    """The real buffer, an ensemble model of it and a buffer of imagined transitions."""

    def __init__(
        self,
        buffer: ReplayBuffer,
        obs_dim: int,
        action_dim: int,
        ratio: float = 0.5,
        ensemble: int = 5,
        hidden: Sequence[int] = (200, 200),
        lr: float = 1e-3,
        train_every: int = 1_000,
        train_steps: int = 200,
        train_batch: int = 256,
        min_real: int = 1_000,
        horizon: int = 1,
        rollout_batch: int = 400,
        model_buffer_size: int = 100_000,
        generator: torch.Generator | None = None,
        seed: int = 0,
    ) -> None:
        check_share(ratio)
        check_counts(ensemble=ensemble, train_every=train_every, train_steps=train_steps,
                     train_batch=train_batch, min_real=min_real, horizon=horizon,
                     rollout_batch=rollout_batch, model_buffer_size=model_buffer_size)  # fmt: skip
        super().__init__(buffer, ratio, train_every, min_real)
        self.obs_dim, self.action_dim = obs_dim, action_dim
        self.out_dim = obs_dim + 1  # (s' - s, r): mean and log-variance each, then a logit
        self.members = nn.ModuleList(
            mlp(obs_dim + action_dim, 2 * self.out_dim + 1, tuple(hidden), nn.SiLU)
            for _ in range(ensemble)
        )
        self.opt = torch.optim.Adam(self.members.parameters(), lr=lr)
        self.register_buffer("in_mean", torch.zeros(obs_dim + action_dim))
        self.register_buffer("in_std", torch.ones(obs_dim + action_dim))
        self.register_buffer("out_mean", torch.zeros(self.out_dim))
        self.register_buffer("out_std", torch.ones(self.out_dim))
        self.train_steps, self.train_batch = train_steps, train_batch
        self.horizon, self.rollout_batch = horizon, rollout_batch
        self.model_buffer = ReplayBuffer(
            model_buffer_size, gym.spaces.Box(-np.inf, np.inf, buffer.obs.shape[1:], np.float32),
            gym.spaces.Box(-1.0, 1.0, (action_dim,), np.float32), buffer.device,
            seed=np.random.default_rng([seed, 2]),
        )  # fmt: skip
        self.generator = generator if generator is not None else torch.Generator()
        self.policy: Callable[[torch.Tensor], torch.Tensor] | None = None
        self.model_error = float("nan")

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        return {"model": self.opt}

    def attach(self, handle: Any) -> None:
        self.policy = handle.policy

    # ------------------------------------------------------------------ MixedReplay
    def ready(self) -> bool:
        return len(self.model_buffer) > 0

    def refit(self) -> None:
        self.train_model()
        self.rollout()

    def synthetic_rows(self, k: int, device: torch.device) -> Batch:
        rows = self.model_buffer.sample(k)
        rows.synthetic = torch.ones(k, device=device)
        return rows

    def stats(self) -> dict[str, float]:
        return {"model_error": self.model_error, "model_rows": float(len(self.model_buffer))}

    def model_state(self) -> dict:
        return {"model_buffer": self.model_buffer.state(), "model_error": self.model_error}

    def load_model_state(self, state: dict) -> None:
        self.model_buffer.load_state(state["model_buffer"])
        self.model_error = float(state["model_error"])

    # ------------------------------------------------------------------ the model
    @torch.no_grad()
    def predict(self, obs: torch.Tensor, action: torch.Tensor, member: torch.Tensor,
                sample: bool = True):  # fmt: skip
        """(next_obs, reward, terminated) of each row by its ensemble ``member``, drawn from
        the predicted Gaussian (or its mean) and the terminal probability."""
        flat = obs.reshape(len(obs), -1)
        x = (torch.cat([flat, action], dim=-1) - self.in_mean) / self.in_std
        out = torch.stack([m(x) for m in self.members])[member, torch.arange(len(x))]
        mean, log_var = out[:, : self.out_dim], out[:, self.out_dim : -1]
        if sample:
            noise = torch.randn(mean.shape, generator=self.generator, device=mean.device)
            mean = mean + (0.5 * log_var.clamp(*LOG_VAR_RANGE)).exp() * noise
        delta = mean * self.out_std + self.out_mean
        next_obs = (flat + delta[:, : self.obs_dim]).reshape(obs.shape)
        if sample:
            u = torch.rand(len(x), generator=self.generator, device=x.device)
            done = (u < torch.sigmoid(out[:, -1])).float()
        else:
            done = (out[:, -1] > 0).float()
        return next_obs, delta[:, -1], done

    def _rows(self, idx: np.ndarray) -> tuple[torch.Tensor, ...]:
        b, d = self.buffer, self.in_mean.device
        obs = torch.as_tensor(b.obs[idx].reshape(len(idx), -1), device=d)
        action = torch.as_tensor(b.action[idx].reshape(len(idx), -1), device=d)
        delta = torch.as_tensor(b.next_obs[idx].reshape(len(idx), -1), device=d) - obs
        target = torch.cat([delta, torch.as_tensor(b.reward[idx, None], device=d)], dim=-1)
        return obs, action, target, torch.as_tensor(b.terminated[idx], device=d)

    def train_model(self) -> None:
        """Standardise on the training rows, then ``train_steps`` steps of the Gaussian
        negative log-likelihood (+ terminal cross-entropy), each member on its own draws."""
        size = len(self.buffer)
        train_idx = np.setdiff1d(np.arange(size), np.arange(0, size, HOLDOUT_EVERY))
        obs, action, target, _ = self._rows(train_idx)
        inputs = torch.cat([obs, action], dim=-1)
        self.in_mean.copy_(inputs.mean(0))
        self.in_std.copy_(inputs.std(0).clamp_min(1e-6))
        self.out_mean.copy_(target.mean(0))
        self.out_std.copy_(target.std(0).clamp_min(1e-6))
        n = len(self.members)
        for _ in range(self.train_steps):
            draws = train_idx[self.buffer.rng.integers(0, len(train_idx), (n, self.train_batch))]
            loss = sum(self._member_loss(i, draws[i]) for i in range(n))
            gradient_step(self.opt, loss)
        self.model_error = self.holdout_error()

    def _member_loss(self, i: int, idx: np.ndarray) -> torch.Tensor:
        obs, action, target, terminated = self._rows(idx)
        x = (torch.cat([obs, action], dim=-1) - self.in_mean) / self.in_std
        out = self.members[i](x)
        mean, log_var = out[:, : self.out_dim], out[:, self.out_dim : -1].clamp(*LOG_VAR_RANGE)
        y = (target - self.out_mean) / self.out_std
        nll = (((mean - y) ** 2) * (-log_var).exp() + log_var).mean()
        return nll + F.binary_cross_entropy_with_logits(out[:, -1], terminated)

    @torch.no_grad()
    def holdout_error(self) -> float:
        """Mean squared error of the ensemble's mean next state on held-out rows, in
        standardised state units (0: perfect; about 1: no better than the mean change)."""
        idx = np.arange(0, len(self.buffer), HOLDOUT_EVERY)[:2000]
        obs, action, target, _ = self._rows(idx)
        x = (torch.cat([obs, action], dim=-1) - self.in_mean) / self.in_std
        mean = torch.stack([m(x)[:, : self.out_dim] for m in self.members]).mean(0)
        y = (target - self.out_mean) / self.out_std
        return float(((mean - y)[:, : self.obs_dim] ** 2).mean())

    @torch.no_grad()
    def rollout(self) -> None:
        """``horizon`` imagined steps from ``rollout_batch`` real states with the agent's
        policy; a row stops after a predicted terminal."""
        start = self.buffer.sample(self.rollout_batch)
        obs = start.obs
        for _ in range(self.horizon):
            if len(obs) == 0:
                break
            action = self.policy(obs) if self.policy is not None else torch.rand(
                (len(obs), self.action_dim), generator=self.generator) * 2 - 1  # fmt: skip
            member = torch.randint(0, len(self.members), (len(obs),), generator=self.generator)
            next_obs, reward, done = self.predict(obs, action, member)
            self.model_buffer.add(obs.cpu().numpy(), action.cpu().numpy(), reward.cpu().numpy(),
                                  next_obs.cpu().numpy(), done.cpu().numpy(),
                                  np.zeros(len(obs), np.float32))  # fmt: skip
            obs = next_obs[done == 0]


def build(
    context: PartContext,
    ratio: float = 0.5,
    ensemble: int = 5,
    hidden: Sequence[int] = (200, 200),
    lr: float = 1e-3,
    train_every: int = 1_000,
    train_steps: int = 200,
    train_batch: int | None = None,
    min_real: int | None = None,
    horizon: int = 1,
    rollout_batch: int = 400,
    model_buffer_size: int = 100_000,
):
    """``parts.replay.name: world_model``: a factory that wraps the agent's default buffer.
    ``min_real`` defaults to the algorithm's ``learning_starts``, ``train_batch`` to its
    ``batch_size``."""
    obs, act = context.observation_space, context.normalized_action_space
    if not isinstance(obs, gym.spaces.Box) or not isinstance(act, gym.spaces.Box):
        raise IncompatiblePartError(
            "the world model predicts flat Box observations from Box actions; got "
            f"{obs} and {act} (on the case study use obs_mode compact with action_mode "
            "continuous)"
        )
    min_real, train_batch = algorithm_defaults(context, min_real, train_batch)
    settings = dict(
        ratio=ratio, ensemble=ensemble, hidden=tuple(hidden), lr=lr, train_every=train_every,
        train_steps=train_steps, train_batch=train_batch, min_real=min_real, horizon=horizon,
        rollout_batch=rollout_batch, model_buffer_size=model_buffer_size,
    )  # fmt: skip
    check_share(ratio)
    check_counts(**{k: v for k, v in settings.items() if k not in ("ratio", "hidden", "lr")})
    generator, seed = context.generator(), int(context.seed)
    obs_dim, act_dim = int(np.prod(obs.shape)), int(np.prod(act.shape))

    def wrap(buffer: ReplayBuffer) -> WorldModelReplay:
        return WorldModelReplay(buffer, obs_dim, act_dim, generator=generator, seed=seed,
                                **settings)  # fmt: skip

    return wrap
