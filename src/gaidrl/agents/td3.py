"""TD3: twin delayed deep deterministic policy gradient (Fujimoto et al., 2018).

Three fixes over DDPG against Q over-estimation: the target takes the minimum of twin
critics, the target action is smoothed with clipped noise, and the actor and targets are
updated less often than the critics. The actor only needs a differentiable action, so a
diffusion actor fits; the critic owns its regression (``td_loss``), so a GAN critic fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import gymnasium as gym
import torch

from gaidrl.agents.base import build_hparams, gradient_step, hparams_signature, make_adam
from gaidrl.agents.off_policy import (
    BOX_ONLY_HINT,
    OffPolicyAgent,
    ReplayFactory,
    policy_space,
)
from gaidrl.agents.parts import (
    Actor,
    DeterministicActor,
    Encoder,
    Part,
    QCritic,
    ReplaySource,
    add_aux_losses,
    box_dim,
    check_actor,
    check_critic,
    first_q,
    flat_features,
    main_parameters,
    require_kind,
    run_extra_updates,
    soft_update,
    target_copy,
)


@dataclass
class TD3Config:
    """Hyper-parameters of TD3."""

    actor_lr: float = 3e-4
    """Adam step size of the actor."""
    critic_lr: float = 3e-4
    """Adam step size of the critics (and of the encoder, which the critic loss trains)."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak factor of the target networks (1.0 = hard copy)."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions (arrays are allocated once)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_starts: int = 10_000
    """Env steps of uniform random actions before learning starts."""
    train_freq: int = 1
    """Vector-env steps between update rounds."""
    gradient_steps: int = 1
    """Critic gradient steps per update round."""
    policy_delay: int = 2
    """Critic steps per actor/target step."""
    exploration_noise: float = 0.1
    """Std of the Gaussian noise added to actions while collecting (normalised units)."""
    policy_noise: float = 0.2
    """Std of the target-policy smoothing noise (normalised units)."""
    noise_clip: float = 0.5
    """Clip of the target-policy smoothing noise."""
    max_grad_norm: float | None = None
    """Gradient-norm clip for actor and critic (None: no clipping, as in the paper)."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden widths of the default MLP actor and critic."""
    n_critics: int = 2
    """Heads of the default critic (TD3: twin critics). More heads make an ensemble (REDQ,
    Chen et al. 2021), whose mean has a smaller error in its action gradient."""
    target_heads: int | None = None
    """Heads whose minimum forms the Bellman target, drawn at random each gradient step
    (REDQ: 2 of many); None: all heads."""
    actor_q: Literal["first", "mean"] = "first"
    """What the actor climbs: Q of the first head (TD3, DDPG) or the mean over heads (REDQ)."""

    def __post_init__(self) -> None:
        if self.n_critics < 1:
            raise ValueError(f"n_critics must be >= 1, got {self.n_critics!r}")
        if self.target_heads is not None and not 1 <= self.target_heads <= self.n_critics:
            raise ValueError(
                f"target_heads must lie in [1, n_critics={self.n_critics}] or be None, "
                f"got {self.target_heads!r}"
            )
        if self.actor_q not in ("first", "mean"):
            raise ValueError(f"actor_q must be 'first' or 'mean', got {self.actor_q!r}")


@hparams_signature(TD3Config)
class TD3(OffPolicyAgent):
    """TD3 for Box action spaces; parts default to MLPs over flattened observations."""

    label = "TD3"

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
        config: TD3Config | None = None,
        **hparams: Any,
    ) -> None:
        cfg = build_hparams(self.Config, config, hparams, self.label)
        space = policy_space(action_space, latent_action)
        kind = require_kind(self.label, space, ["box"], BOX_ONLY_HINT)
        super().__init__(observation_space, action_space, num_envs, device, seed, encoder, replay,
                         cfg, latent_action)  # fmt: skip
        self.cfg = cfg
        dim = box_dim(space)
        if actor is None:
            actor = DeterministicActor(flat_features(self.encoder, "actor"), dim, cfg.hidden)
        check_actor(actor, self.label, kind, differentiable=True,
                    suggestion=f"{self.label} back-propagates through the action; use "
                    "DeterministicActor, GaussianActor or a diffusion actor.")  # fmt: skip
        if critic is None:
            critic = QCritic(flat_features(self.encoder, "critic"), dim, cfg.n_critics, cfg.hidden)
        check_critic(critic, self.label, "q")
        self.actor, self.critic = actor, critic
        self.actor_target, self.critic_target = target_copy(actor), target_copy(critic)
        self.to(self.device)
        self.actor_opt = make_adam(main_parameters(self.actor), cfg.actor_lr, self.device)
        self.critic_opt = make_adam(main_parameters(self.critic, self.encoder), cfg.critic_lr,
                                    self.device)  # fmt: skip
        self._actor_params = [p for p in self.actor.parameters() if p.requires_grad]
        self.register_optimizer("actor", self.actor_opt)
        self.register_optimizer("critic", self.critic_opt)
        for slot in ("actor", "critic", "encoder"):
            self.register_part(slot, getattr(self, slot))

    def policy_action(self, features: Any, explore: bool) -> torch.Tensor:
        # greedy acting asks for the deterministic action; exploring, a stochastic actor (a
        # diffusion chain) samples, and the exploration noise comes on top
        action = self.actor(features, deterministic=not explore, generator=self.torch_rng).action
        if explore:
            noise = torch.randn(action.shape, generator=self.torch_rng, device=action.device)
            action = (action + self.cfg.exploration_noise * noise).clamp(-1.0, 1.0)
        return action

    def _target_heads(self, q: torch.Tensor) -> torch.Tensor:
        """The heads (of (num_q, batch)) the Bellman target takes the minimum of."""
        k = self.cfg.target_heads
        if k is None or k >= q.shape[0]:
            return q
        pick = torch.randperm(q.shape[0], generator=self.torch_rng, device=q.device)[:k]
        return q[pick]

    def _actor_q(self, features: Any, action: torch.Tensor) -> torch.Tensor:
        if self.cfg.actor_q == "mean":
            return self.critic(features, action).mean(0)
        return first_q(self.critic, features, action)

    def update(self) -> dict[str, float]:
        cfg = self.cfg
        stats: dict[str, float] = {}
        for _ in range(cfg.gradient_steps):
            batch = self.sample_batch(cfg.batch_size)
            with torch.no_grad():
                next_f = self.encoder_target(batch.next_obs)
                next_a = self.actor_target(next_f, generator=self.torch_rng).action
                if cfg.policy_noise > 0:  # target-policy smoothing
                    noise = torch.randn(
                        next_a.shape, generator=self.torch_rng, device=next_a.device
                    )
                    noise = (cfg.policy_noise * noise).clamp(-cfg.noise_clip, cfg.noise_clip)
                    next_a = (next_a + noise).clamp(-1.0, 1.0)
                next_q = self._target_heads(self.critic_target(next_f, next_a)).min(0).values
                target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * next_q
            features, critic_loss, td_stats = self.critic_step(batch, target, self.critic_opt,
                                                               cfg.max_grad_norm)  # fmt: skip
            stats |= td_stats
            stats["critic_loss"] = critic_loss.item()
            self.num_updates += 1
            if self.num_updates % cfg.policy_delay == 0:
                f = features.detach() if isinstance(features, torch.Tensor) else features
                batch.features = f
                action = self.actor(f, generator=self.torch_rng).action
                actor_loss = -self._actor_q(f, action).mean()
                actor_loss = add_aux_losses(actor_loss, [self.actor], batch)
                gradient_step(self.actor_opt, actor_loss, cfg.max_grad_norm, self._actor_params)
                stats["actor_loss"] = actor_loss.item()
                soft_update(self.actor_target, self.actor, cfg.tau)
                soft_update(self.critic_target, self.critic, cfg.tau)
                soft_update(self.encoder_target, self.encoder, cfg.tau)
            stats |= run_extra_updates(self._parts, batch)
        return stats
