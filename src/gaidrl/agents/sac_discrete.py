"""Discrete SAC (Christodoulou, 2019): soft actor-critic for Discrete action spaces.

With few actions the expectations over the policy are exact sums, so nothing is sampled in
the losses: twin Q(s, .) critics regress on r + gamma * sum_a pi(a|s') (min Q'(s', a) -
alpha log pi(a|s')); the actor minimises sum_a pi(a|s) (alpha log pi(a|s) - min Q(s, a));
alpha is tuned toward ``target_entropy_scale`` x log(n_actions). The actor must give the
log-probabilities of every action (``log_probs``): a categorical MLP, or a diffusion chain
that denoises them (D2SAC / AGOD: ``parts.actor.name: diffusion_categorical``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch
from torch import nn

from gaidrl.agents.base import build_hparams, gradient_step, hparams_signature, make_adam
from gaidrl.agents.off_policy import OffPolicyAgent, ReplayFactory
from gaidrl.agents.parts import (
    Actor,
    CategoricalActor,
    DiscreteQHeads,
    Encoder,
    IncompatiblePartError,
    ReplaySource,
    add_aux_losses,
    categorical_sample,
    check_actor,
    check_critic,
    flat_features,
    main_parameters,
    num_choices,
    require_kind,
    run_extra_updates,
    soft_update,
    target_copy,
)
from gaidrl.agents.sac import SoftActorCriticConfig


@dataclass
class DiscreteSACConfig(SoftActorCriticConfig):
    """Hyper-parameters of discrete SAC (SAC's, with the target entropy as a share)."""

    target_entropy_scale: float = 0.6
    """Target entropy as a share of the maximum, log(n_actions) (0.98 in the paper is often
    too high to ever settle; 0.6 is a common choice)."""
    n_critics: int = 2
    """Heads of the default critic (twin critics)."""

    def __post_init__(self) -> None:
        if not 0.0 < self.target_entropy_scale < 1.0:
            raise ValueError(
                f"target_entropy_scale must lie in (0, 1), got {self.target_entropy_scale!r}"
            )


@hparams_signature(DiscreteSACConfig)
class DiscreteSAC(OffPolicyAgent):
    """SAC for Discrete action spaces; parts default to a categorical MLP actor and twin
    Q(s, .) MLP critics."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        *,
        actor: Actor | None = None,
        critic: DiscreteQHeads | None = None,
        encoder: Encoder | None = None,
        replay: ReplaySource | ReplayFactory | None = None,
        seed: int | None = None,
        config: DiscreteSACConfig | None = None,
        **hparams: Any,
    ) -> None:
        cfg = build_hparams(DiscreteSACConfig, config, hparams, "SAC-discrete")
        kind = require_kind("SAC-discrete", action_space, ["discrete"],
                            "Use sac for Box, hybrid_ppo for Tuple(Discrete, Box).")  # fmt: skip
        super().__init__(observation_space, action_space, num_envs, device, seed, encoder, replay,
                         cfg)  # fmt: skip
        self.cfg = cfg
        n = num_choices(action_space)
        if actor is None:
            actor = CategoricalActor(flat_features(self.encoder, "actor"), n, cfg.hidden, nn.ReLU)
        hint = "use CategoricalActor or the diffusion categorical actor"
        check_actor(actor, "SAC-discrete", kind, log_prob=True, suggestion=hint)
        if not callable(getattr(actor, "log_probs", None)):
            raise IncompatiblePartError(
                f"SAC-discrete cannot use actor {type(actor).__name__}: it needs the "
                "log-probabilities of every action (log_probs(features)); use CategoricalActor "
                "or the diffusion categorical actor"
            )
        if critic is None:
            critic = DiscreteQHeads(flat_features(self.encoder, "critic"), n, cfg.n_critics,
                                    cfg.hidden)  # fmt: skip
        check_critic(critic, "SAC-discrete", "discrete_q_heads")
        self.actor, self.critic = actor, critic
        self.critic_target = target_copy(critic)
        self.log_alpha = nn.Parameter(torch.tensor(math.log(cfg.init_alpha)))
        self.target_entropy = cfg.target_entropy_scale * math.log(n)
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
        logp = self.actor.log_probs(features, deterministic=not explore, generator=self.torch_rng)
        return categorical_sample(logp, not explore, self.torch_rng)

    def update(self) -> dict[str, float]:
        cfg = self.cfg
        stats: dict[str, float] = {}
        for _ in range(cfg.gradient_steps):
            batch = self.sample_batch(cfg.batch_size)
            alpha = self.log_alpha.detach().exp()
            with torch.no_grad():
                next_f = self.encoder_target(batch.next_obs)
                next_logp = self.actor.log_probs(next_f, generator=self.torch_rng)
                next_q = self.critic_target(next_f).min(0).values
                soft_v = (next_logp.exp() * (next_q - alpha * next_logp)).sum(-1)
                target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * soft_v
            features, critic_loss, td_stats = self.critic_step(batch, target, self.critic_opt,
                                                               cfg.max_grad_norm)  # fmt: skip
            stats |= td_stats

            f = features.detach() if isinstance(features, torch.Tensor) else features
            batch.features = f
            logp = self.actor.log_probs(f, generator=self.torch_rng)
            probs = logp.exp()
            with torch.no_grad():
                q = self.critic(f).min(0).values
            actor_loss = (probs * (alpha * logp - q)).sum(-1).mean()
            actor_loss = add_aux_losses(actor_loss, [self.actor], batch)
            gradient_step(self.actor_opt, actor_loss, cfg.max_grad_norm, self._actor_params)

            entropy = -(probs.detach() * logp.detach()).sum(-1).mean()
            if cfg.autotune:
                gradient_step(self.alpha_opt, self.log_alpha * (entropy - self.target_entropy))
            self.num_updates += 1
            soft_update(self.critic_target, self.critic, cfg.tau)
            soft_update(self.encoder_target, self.encoder, cfg.tau)
            stats |= {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item(),
                      "alpha": self.log_alpha.exp().item(), "entropy": float(entropy)}  # fmt: skip
            stats |= run_extra_updates(self._parts, batch)
        return stats
