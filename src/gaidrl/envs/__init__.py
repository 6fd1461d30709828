"""Environments (numpy only): the case study's UAV-assisted near-field/far-field network, and
a small parameterised-action task (Platform-like) for checking hybrid-action agents."""

from __future__ import annotations

import gymnasium as gym

from gaidrl.envs.config import PRESETS, PowerTemplate, UAVNearFarConfig, make_config
from gaidrl.envs.platform import PLATFORM_ID, PlatformEnv
from gaidrl.envs.uav_nearfar import ENV_ID, UAVNearFarEnv, UAVNearFarVectorEnv

__all__ = [
    "ENV_ID",
    "PLATFORM_ID",
    "PRESETS",
    "PlatformEnv",
    "PowerTemplate",
    "UAVNearFarConfig",
    "UAVNearFarEnv",
    "UAVNearFarVectorEnv",
    "make_config",
    "register_envs",
]


def register_envs() -> None:
    """Register the case-study env and the Platform-like task with Gymnasium (idempotent)."""
    if PLATFORM_ID not in gym.registry:
        gym.register(id=PLATFORM_ID, entry_point="gaidrl.envs.platform:PlatformEnv")
    if ENV_ID in gym.registry:
        return
    gym.register(
        id=ENV_ID,
        entry_point="gaidrl.envs.uav_nearfar:UAVNearFarEnv",
        vector_entry_point="gaidrl.envs.uav_nearfar:UAVNearFarVectorEnv",
        disable_env_checker=False,
    )
