"""DDPG: deep deterministic policy gradient (Lillicrap et al., 2016).

A deterministic actor climbs the gradient of one critic, Q(s, mu(s)); the critic regresses
on r + gamma * Q'(s', mu'(s')) with slowly tracking target networks; Gaussian exploration
noise (the original Ornstein-Uhlenbeck noise brings nothing on these tasks). It is TD3
without TD3's three fixes (one critic, no delay, no target smoothing), so it is written as
that: one update rule, two settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from gaidrl.agents.base import hparams_signature
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
