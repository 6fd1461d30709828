"""DDPG: deep deterministic policy gradient (Lillicrap et al., 2016).

A deterministic actor climbs the gradient of one critic, Q(s, mu(s)); the critic regresses
on r + gamma * Q'(s', mu'(s')) with slowly tracking target networks. Gaussian exploration
noise (the original Ornstein-Uhlenbeck noise brings nothing on these tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch

from gaidrl.agents.base import build_hparams, hparams_signature, make_adam
from gaidrl.agents.off_policy import BOX_ONLY_HINT, OffPolicyAgent, clip_grad
from gaidrl.agents.parts import (
    Actor,
    DeterministicActor,
    Encoder,
    QCritic,
    ReplaySource,
    add_aux_losses,
    box_dim,
    check_actor,
    flat_features,
    main_parameters,
    require_kind,
    run_extra_updates,
    soft_update,
    target_copy,
)


@dataclass
class DDPGConfig:
    """Hyper-parameters of DDPG."""

    actor_lr: float = 3e-4
    """Adam step size of the actor."""
    critic_lr: float = 3e-4
    """Adam step size of the critic (and of the encoder, which the critic loss trains)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak factor of the target networks (1.0 = hard copy)."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_starts: int = 10_000
    """Env steps of uniform random actions before learning starts."""
    train_freq: int = 1
    """Vector-env steps between update rounds."""
    gradient_steps: int = 1
    """Gradient steps (critic, then actor) per update round."""
    exploration_noise: float = 0.1
    """Std of the Gaussian noise added to actions while collecting (normalised units)."""
    max_grad_norm: float | None = None
    """Gradient-norm clip for actor and critic (None: no clipping)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the default MLP actor and critic."""


@hparams_signature(DDPGConfig)
class DDPG(OffPolicyAgent):
    """DDPG for Box action spaces; parts default to MLPs over flattened observations."""

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
        replay: ReplaySource | None = None,
        seed: int | None = None,
        config: DDPGConfig | None = None,
        **hparams: Any,
    ) -> None:
        cfg = build_hparams(DDPGConfig, config, hparams, "DDPG")
        kind = require_kind("DDPG", action_space, ["box"], BOX_ONLY_HINT)
        super().__init__(
            observation_space, action_space, num_envs, device, seed, encoder, replay,
            buffer_size=cfg.buffer_size, batch_size=cfg.batch_size,
            learning_starts=cfg.learning_starts, train_freq=cfg.train_freq,
            gradient_steps=cfg.gradient_steps,
        )  # fmt: skip
        self.cfg = cfg
        dim = box_dim(action_space)
        if actor is None:
            actor = DeterministicActor(flat_features(self.encoder, "actor"), dim, cfg.hidden)
        check_actor(actor, "DDPG", kind, differentiable=True,
                    suggestion="DDPG back-propagates through the action; use "
                    "DeterministicActor, GaussianActor or a diffusion actor.")  # fmt: skip
        if critic is None:
            critic = QCritic(flat_features(self.encoder, "critic"), dim, 1, cfg.hidden)
        self.actor, self.critic = actor, critic
        self.actor_target, self.critic_target = target_copy(actor), target_copy(critic)
        self.to(self.device)
        self.actor_opt = make_adam(main_parameters(self.actor), cfg.actor_lr, self.device)
        self.critic_opt = make_adam(main_parameters(self.critic, self.encoder), cfg.critic_lr,
                                    self.device)  # fmt: skip
        self.register_optimizer("actor", self.actor_opt)
        self.register_optimizer("critic", self.critic_opt)
        for slot in ("actor", "critic", "encoder"):
            self.register_part(slot, getattr(self, slot))
        if isinstance(replay, torch.nn.Module):
            self.register_part("replay", replay)

    def policy_action(self, features: Any, explore: bool) -> torch.Tensor:
        action = self.actor(features, deterministic=True, generator=self.torch_rng).action
        if explore:
            noise = torch.randn(action.shape, generator=self.torch_rng, device=action.device)
            action = (action + self.cfg.exploration_noise * noise).clamp(-1.0, 1.0)
        return action

    def update(self) -> dict[str, float]:
        cfg = self.cfg
        stats: dict[str, float] = {}
        for _ in range(cfg.gradient_steps):
            batch = self.replay.sample(cfg.batch_size)
            with torch.no_grad():
                next_f = self.encoder_target(batch.next_obs)
                next_a = self.actor_target(next_f, deterministic=True,
                                           generator=self.torch_rng).action  # fmt: skip
                next_q = self.critic_target(next_f, next_a)[0]
                target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * next_q
            features = self.encoder(batch.obs)
            critic_loss, td_stats = self.critic.td_loss(features, batch.action, target, batch)
            stats |= td_stats
            batch.features = features
            critic_loss = add_aux_losses(critic_loss, [self.critic, self.encoder], batch)
            self.critic_opt.zero_grad()
            critic_loss.backward()
            clip_grad(self.critic_opt.param_groups[0]["params"], cfg.max_grad_norm)
            self.critic_opt.step()

            f = features.detach() if isinstance(features, torch.Tensor) else features
            batch.features = f
            action = self.actor(f, deterministic=True, generator=self.torch_rng).action
            actor_loss = add_aux_losses(-self.critic(f, action)[0].mean(), [self.actor], batch)
            self.actor_opt.zero_grad()
            actor_loss.backward()
            clip_grad(self.actor_opt.param_groups[0]["params"], cfg.max_grad_norm)
            self.actor_opt.step()
            self.num_updates += 1
            soft_update(self.actor_target, self.actor, cfg.tau)
            soft_update(self.critic_target, self.critic, cfg.tau)
            soft_update(self.encoder_target, self.encoder, cfg.tau)
            stats |= {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item()}
            stats |= run_extra_updates(self._parts, batch)
        return stats
