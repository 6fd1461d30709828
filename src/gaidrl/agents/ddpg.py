"""DDPG: deep deterministic policy gradient (Lillicrap et al., 2016).

A deterministic actor climbs the gradient of one critic, Q(s, mu(s)); the critic regresses
on r + gamma * Q'(s', mu'(s')) with slowly tracking target networks; Gaussian exploration
noise (the original Ornstein-Uhlenbeck noise brings nothing on these tasks). It is TD3
without TD3's three fixes (one critic, no delay, no target smoothing), so it is written as
that: one update rule, two settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import torch

from gaidrl.agents.base import hparams_signature
from gaidrl.agents.parts import Actor, Encoder, QCritic, ReplaySource
from gaidrl.agents.td3 import TD3, TD3Config


@dataclass
class DDPGConfig(TD3Config):
    """Hyper-parameters of DDPG: TD3's, with its delay and target smoothing switched off."""

    policy_delay: int = 1
    """Critic steps per actor/target step (DDPG: every step)."""
    policy_noise: float = 0.0
    """Std of target-policy smoothing noise (DDPG: none)."""
    n_critics: int = 1
    """Heads of the default critic (DDPG: one)."""


@hparams_signature(DDPGConfig)
class DDPG(TD3):
    """DDPG for Box action spaces; parts default to MLPs over flattened observations."""

    label = "DDPG"

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
        super().__init__(
            observation_space, action_space, num_envs, device, actor=actor, critic=critic,
            encoder=encoder, replay=replay, seed=seed, config=config, **hparams,
        )  # fmt: skip
