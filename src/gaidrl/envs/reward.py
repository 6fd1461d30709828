"""The case study's reward: an alpha-fair utility of the users' rates that silence cannot game.

reward = tanh(U / U(rate_ref)) (1 - w_power P) - w_boundary V, where U is the mean
alpha-fair utility (:func:`physics.alpha_fair_utility`) of the active users' rates, P the
mean of the BS and UAV power fractions used and V the boundary violation in [0, 1].

Why this form: Jain's index of all-zero rates is 1, so a reward that pays fairness on its own
pays a network for serving no one. An alpha-fair utility (proportional fairness at the
default alpha = 1) values fairness through the rates themselves: U(0) = 0 and U rises with
every user's rate, so starving a user never pays and silence scores 0. The tanh bounds the
utility term in [0, 1); the power cost is a share of it (w_power < 1), so power is charged
for what it buys and can never push a serving allocation below silence.
"""

from __future__ import annotations

import numpy as np

from gaidrl.envs import physics
from gaidrl.envs.config import UAVNearFarConfig


def mean_utility(rates: np.ndarray, mask: np.ndarray, alpha: float) -> np.ndarray:
    """Mean alpha-fair utility of the active users' rates (..., K) -> (...)."""
    utility = np.where(mask, physics.alpha_fair_utility(rates, alpha), 0.0)
    return utility.sum(axis=-1) / mask.sum(axis=-1)


def utility_reference(config: UAVNearFarConfig) -> float:
    """U(rate_ref): the utility at which the reward's utility term is tanh(1) = 0.76."""
    rate = np.asarray(config.rate_reference_bps_hz)
    return float(physics.alpha_fair_utility(rate, config.reward_alpha))


def reward(
    config: UAVNearFarConfig,
    utility: np.ndarray,
    power_fraction: np.ndarray,
    violation: np.ndarray,
) -> np.ndarray:
    """The reward from the mean utility, the power fraction used in [0, 1] and the boundary
    violation in [0, 1]; lies in ``config.reward_bounds()``."""
    served = np.tanh(utility / utility_reference(config))
    return served * (1.0 - config.reward_power_weight * power_fraction) - (
        config.reward_boundary_weight * violation
    )
