"""Hybrid PPO for parameterised actions Tuple(Discrete, Box) (after Fan et al., 2019).

The policy has a categorical head for the discrete choice and a Gaussian head for the
continuous parameters, sampled independently given the state, so the joint log-probability
is the sum of the two and PPO's clipped objective applies unchanged. Everything else
(GAE, truncation bootstrap, minibatch epochs) is :class:`gaidrl.agents.ppo.PPO`'s; only the
default actor and the accepted action kind differ. In the case study the discrete part is
the UAV move and the Box part the power parameters shared by every move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gaidrl.agents.base import hparams_signature
from gaidrl.agents.parts import Actor, HybridActor, box_dim, num_choices
from gaidrl.agents.ppo import PPO, PPOConfig


@dataclass
class HybridPPOConfig(PPOConfig):
    """Hyper-parameters of hybrid PPO (those of PPO; the Gaussian head starts narrower)."""

    init_log_std: float = -0.5
    """Initial log-std of the Gaussian head of the continuous parameters."""


@hparams_signature(HybridPPOConfig)
class HybridPPO(PPO):
    """PPO over Tuple(Discrete, Box) actions with a :class:`HybridActor` by default."""

    kinds: ClassVar[tuple[str, ...]] = ("hybrid",)
    algo_name: ClassVar[str] = "HybridPPO"

    def default_actor(self, feature_dim: int, kind: str) -> Actor:
        return HybridActor(feature_dim, num_choices(self.action_space),
                           box_dim(self.action_space), self.cfg.hidden,
                           init_log_std=self.cfg.init_log_std)  # fmt: skip
