"""DQN with double Q-learning targets (Mnih et al., 2015; van Hasselt et al., 2016).

Q(s, .) over all discrete actions; epsilon-greedy collection with a linear schedule; the
target takes the online network's argmax but the target network's value of it, which
curbs over-estimation. Huber loss and gradient-norm clipping, as customary.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from gaidrl.agents.base import (
    build_hparams,
    hparams_signature,
    linear_decay,
    make_adam,
    set_lr,
)
from gaidrl.agents.off_policy import OffPolicyAgent, ReplayFactory
from gaidrl.agents.parts import (
    DiscreteQCritic,
    Encoder,
    ReplaySource,
    check_critic,
    flat_features,
    main_parameters,
    num_choices,
    require_kind,
    run_extra_updates,
    soft_update,
    target_copy,
)


@dataclass
class DQNConfig:
    """Hyper-parameters of DQN."""

    lr: float = 2.5e-4
    """Adam step size of the Q-network (and the encoder)."""
    lr_end: float | None = None
    """Step size reached by linear decay over ``lr_decay_steps`` (None: constant ``lr``)."""
    lr_decay_steps: int = 0
    """Env steps over which the step size decays from ``lr`` to ``lr_end``."""
    gamma: float = 0.99
    """Discount factor."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    batch_size: int = 128
    """Transitions per gradient step."""
    learning_starts: int = 10_000
    """Env steps before learning starts (collection is epsilon-greedy from the start)."""
    train_freq: int = 4
    """Vector-env steps between update rounds."""
    gradient_steps: int = 1
    """Gradient steps per update round."""
    target_update_interval: int = 500
    """Gradient steps between target-network updates."""
    tau: float = 1.0
    """Polyak factor at each target update (1.0 = hard copy)."""
    start_epsilon: float = 1.0
    """Exploration probability at step 0."""
    end_epsilon: float = 0.05
    """Exploration probability after ``exploration_steps``."""
    exploration_steps: int = 100_000
    """Env steps over which epsilon decays linearly."""
    double_q: bool = True
    """Double DQN target (False: plain max over the target network)."""
    dueling: bool = False
    """Dueling heads in the default Q-network."""
    max_grad_norm: float | None = 10.0
    """Gradient-norm clip (None: no clipping)."""
    hidden: tuple[int, ...] = (128, 128)
    """Hidden widths of the default MLP Q-network."""
    adam_eps: float = 1e-5
    """Adam's epsilon. 1e-5 shrinks the steps once gradients get tiny, on a solved task, where
    torch's 1e-8 (SB3's DQN keeps it) takes full-size steps on noise and the greedy policy
    drifts off: CartPole, rl-zoo settings, 5 seeds, final evaluations at 475+: 4/5 against
    2/5 (BENCHMARKS.md)."""


@hparams_signature(DQNConfig)
class DQN(OffPolicyAgent):
    """Double DQN for Discrete action spaces."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        *,
        critic: DiscreteQCritic | None = None,
        encoder: Encoder | None = None,
        replay: ReplaySource | ReplayFactory | None = None,
        seed: int | None = None,
        config: DQNConfig | None = None,
        **hparams: Any,
    ) -> None:
        cfg = build_hparams(DQNConfig, config, hparams, "DQN")
        hint = "Use td3, sac, ddpg or ppo for Box, hybrid_ppo for Tuple(Discrete, Box)."
        require_kind("DQN", action_space, ["discrete"], hint)
        super().__init__(observation_space, action_space, num_envs, device, seed, encoder, replay,
                         cfg)  # fmt: skip
        self.cfg = cfg
        n = num_choices(action_space)
        if critic is None:
            critic = DiscreteQCritic(flat_features(self.encoder, "critic"), n, cfg.hidden,
                                     cfg.dueling)  # fmt: skip
        check_critic(critic, "DQN", "discrete_q")
        self.critic = critic
        self.critic_target = target_copy(critic)
        self.to(self.device)
        self.optimizer = make_adam(main_parameters(self.critic, self.encoder), cfg.lr, self.device,
                                   eps=cfg.adam_eps)  # fmt: skip
        self.register_optimizer("critic", self.optimizer)
        for slot in ("critic", "encoder"):
            self.register_part(slot, getattr(self, slot))

    def warming_up(self) -> bool:
        return False  # epsilon-greedy already explores; its schedule starts at 1.0

    def epsilon(self) -> float:
        cfg = self.cfg
        steps = max(1, cfg.exploration_steps)
        return linear_decay(cfg.start_epsilon, cfg.end_epsilon, steps, self.env_steps)

    def learning_rate(self) -> float:
        cfg = self.cfg
        if cfg.lr_end is None:
            return cfg.lr
        return linear_decay(cfg.lr, cfg.lr_end, cfg.lr_decay_steps, self.env_steps)

    def policy_action(self, features: Any, explore: bool) -> np.ndarray:
        greedy = self.critic(features).argmax(-1).cpu().numpy()
        if not explore:
            return greedy
        n = greedy.shape[0]
        random_action = self.np_rng.integers(0, self.action_space.n, size=n)
        take_random = self.np_rng.random(n) < self.epsilon()
        return np.where(take_random, random_action, greedy).astype(np.int64)

    def update(self) -> dict[str, float]:
        cfg = self.cfg
        stats: dict[str, float] = {}
        if cfg.lr_end is not None:
            set_lr(self.optimizer, self.learning_rate())
        for _ in range(cfg.gradient_steps):
            batch = self.sample_batch(cfg.batch_size)
            with torch.no_grad():
                next_q_all = self.critic_target(self.encoder_target(batch.next_obs))
                if cfg.double_q:
                    best = self.critic(self.encoder(batch.next_obs)).argmax(-1, keepdim=True)
                else:
                    best = next_q_all.argmax(-1, keepdim=True)
                next_q = next_q_all.gather(-1, best).squeeze(-1)
                target = batch.reward + cfg.gamma * (1.0 - batch.terminated) * next_q
            _, loss, td_stats = self.critic_step(batch, target, self.optimizer, cfg.max_grad_norm)
            stats |= td_stats
            self.num_updates += 1
            if self.num_updates % cfg.target_update_interval == 0:
                soft_update(self.critic_target, self.critic, cfg.tau)
                soft_update(self.encoder_target, self.encoder, cfg.tau)
            stats |= {"loss": loss.item(), "epsilon": self.epsilon(), "lr": self.learning_rate()}
            stats |= run_extra_updates(self._parts, batch)
        return stats
