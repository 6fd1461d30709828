"""Case-study environments (numpy only): the UAV-assisted near-field/far-field network."""

from __future__ import annotations

import gymnasium as gym

from gaidrl.envs.config import PRESETS, PowerTemplate, UAVNearFarConfig, make_config
from gaidrl.envs.uav_nearfar import ENV_ID, UAVNearFarEnv, UAVNearFarVectorEnv

__all__ = [
    "ENV_ID",
    "PRESETS",
    "PowerTemplate",
    "UAVNearFarConfig",
    "UAVNearFarEnv",
    "UAVNearFarVectorEnv",
    "make_config",
    "register_envs",
]


def register_envs() -> None:
    """Register the case-study env with Gymnasium (idempotent)."""
    if ENV_ID in gym.registry:
        return
    gym.register(
        id=ENV_ID,
        entry_point="gaidrl.envs.uav_nearfar:UAVNearFarEnv",
        vector_entry_point="gaidrl.envs.uav_nearfar:UAVNearFarVectorEnv",
        disable_env_checker=False,
    )
