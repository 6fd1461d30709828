"""SAC: soft actor-critic with automatic entropy tuning (Haarnoja et al., 2018).

A stochastic actor maximises Q(s, a) - alpha * log pi(a|s) through a reparameterised
sample; twin critics regress on the soft target r + gamma * (min Q'(s', a') - alpha *
log pi(a'|s')). alpha is tuned so the policy's entropy stays near ``target_entropy``. The
actor therefore needs both a differentiable action and a tractable log-probability.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from gaidrl.agents.base import build_hparams, gradient_step, hparams_signature, make_adam
from gaidrl.agents.off_policy import (
    BOX_ONLY_HINT,
    OffPolicyAgent,
    ReplayFactory,
    policy_space,
)
from gaidrl.agents.parts import (
    Actor,
    Encoder,
    GaussianActor,
    Part,
    QCritic,
    ReplaySource,
    add_aux_losses,
    box_dim,
    check_actor,
    check_critic,
    flat_features,
    main_parameters,
    require_kind,
    run_extra_updates,
    soft_update,
    target_copy,
)


@dataclass
class SoftActorCriticConfig:
    """Hyper-parameters SAC and discrete SAC share."""

    actor_lr: float = 3e-4
    """Adam step size of the actor."""
    critic_lr: float = 3e-4
    """Adam step size of the critics (and of the encoder, which the critic loss trains)."""
    alpha_lr: float = 3e-4
    """Adam step size of log(alpha)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak factor of the target critics."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_starts: int = 5_000
    """Env steps of uniform random actions before learning starts."""
    train_freq: int = 1
    """Vector-env steps between update rounds."""
    gradient_steps: int = 1
    """Gradient steps per update round."""
    init_alpha: float = 1.0
    """Entropy temperature at the start (the fixed value when ``autotune`` is off)."""
    autotune: bool = True
    """Tune alpha toward the target entropy."""
    max_grad_norm: float | None = None
    """Gradient-norm clip for actor and critic (None: no clipping)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the default MLP actor and critic."""


@dataclass
class SACConfig(SoftActorCriticConfig):
    """Hyper-parameters of SAC."""

    target_entropy: float | None = None
    """Entropy the tuning aims at; None: minus the action dimension."""


@hparams_signature(SACConfig)
class SAC(OffPolicyAgent):
    """SAC for Box action spaces; parts default to a tanh-Gaussian actor and twin MLP critics."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        *,
        actor: Actor | None = None,
        critic: QCritic | None = None,
        encoder: Encoder | None = None,
        replay: ReplaySource | ReplayFactory | None = None,
        latent_action: Part | None = None,
        seed: int | None = None,
        config: SACConfig | None = None,
        **hparams: Any,
    ) -> None:
        cfg = build_hparams(SACConfig, config, hparams, "SAC")
        space = policy_space(action_space, latent_action)
        kind = require_kind("SAC", space, ["box"], BOX_ONLY_HINT)
        super().__init__(observation_space, action_space, num_envs, device, seed, encoder, replay,
                         cfg, latent_action)  # fmt: skip
        self.cfg = cfg
        dim = box_dim(space)
        if actor is None:
            actor = GaussianActor(flat_features(self.encoder, "actor"), dim, cfg.hidden)
        check_actor(actor, "SAC", kind, differentiable=True, log_prob=True,
                    suggestion="SAC needs log pi(a|s) of a reparameterised sample; use "
                    "GaussianActor, or TD3/DDPG for an actor without a log-probability "
                    "(e.g. a diffusion actor).")  # fmt: skip
        if critic is None:
            critic = QCritic(flat_features(self.encoder, "critic"), dim, 2, cfg.hidden)
        check_critic(critic, "SAC", "q")
        self.actor, self.critic = actor, critic
        self.critic_target = target_copy(critic)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(cfg.init_alpha)))
        self.target_entropy = (
            float(-dim) if cfg.target_entropy is None else float(cfg.target_entropy)
        )
        self.to(self.device)
        self.actor_opt = make_adam(main_parameters(self.actor), cfg.actor_lr, self.device)
        self.critic_opt = make_adam(main_parameters(self.critic, self.encoder), cfg.critic_lr,
                                    self.device)  # fmt: skip
        self.alpha_opt = make_adam([self.log_alpha], cfg.alpha_lr, self.device)
        self._actor_params = [p for p in self.actor.parameters() if p.requires_grad]
        self.register_optimizer("actor", self.actor_opt)
        self.register_optimizer("critic", self.critic_opt)
        self.register_optimizer("alpha", self.alpha_opt)
        for slot in ("actor", "critic", "encoder"):
            self.register_part(slot, getattr(self, slot))

    def policy_action(self, features: Any, explore: bool) -> torch.Tensor:
        return self.actor(features, deterministic=not explore, generator=self.torch_rng).action

    def update(self) -> dict[str, float]:
        cfg = self.cfg
        stats: dict[str, float] = {}
        for _ in range(cfg.gradient_steps):
            batch = self.sample_batch(cfg.batch_size)
            alpha = self.log_alpha.detach().exp()
            with torch.no_grad():
                next_f = self.encoder_target(batch.next_obs)
                next_out = self.actor(next_f, generator=self.torch_rng)
                next_q = self.critic_target(next_f, next_out.action).min(0).values
                soft_q = next_q - alpha * next_out.log_prob
                target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * soft_q
            features, critic_loss, td_stats = self.critic_step(batch, target, self.critic_opt,
                                                               cfg.max_grad_norm)  # fmt: skip
            stats |= td_stats

            f = features.detach() if isinstance(features, torch.Tensor) else features
            batch.features = f
            out = self.actor(f, generator=self.torch_rng)
            q = self.critic(f, out.action).min(0).values
            actor_loss = add_aux_losses((alpha * out.log_prob - q).mean(), [self.actor], batch)
            gradient_step(self.actor_opt, actor_loss, cfg.max_grad_norm, self._actor_params)

            if cfg.autotune:
                entropy_gap = (out.log_prob.detach() + self.target_entropy).mean()
                gradient_step(self.alpha_opt, -self.log_alpha * entropy_gap)
            self.num_updates += 1
            soft_update(self.critic_target, self.critic, cfg.tau)
            soft_update(self.encoder_target, self.encoder, cfg.tau)
            stats |= {
                "critic_loss": critic_loss.item(),
                "actor_loss": actor_loss.item(),
                "alpha": self.log_alpha.exp().item(),
                "entropy": float(-out.log_prob.detach().mean()),
            }
            stats |= run_extra_updates(self._parts, batch)
        return stats
