"""Builders shared by the agent tests: every algorithm with small, fast settings."""

from __future__ import annotations

from gaidrl.agents.ddpg import DDPG
from gaidrl.agents.dqn import DQN
from gaidrl.agents.hybrid import HybridPPO
from gaidrl.agents.ppo import PPO
from gaidrl.agents.sac import SAC
from gaidrl.agents.sac_discrete import DiscreteSAC
from gaidrl.agents.td3 import TD3

OFF = dict(learning_starts=400, batch_size=64, hidden=(64, 64), buffer_size=20_000)
AC = dict(actor_lr=1e-3, critic_lr=1e-3)

# name -> (class, action mode of the tiny env, num_envs, fast hyper-parameters)
SETUPS = {
    "td3": (TD3, "box", 4, OFF | AC),
    "td3_ensemble": (TD3, "box", 4, OFF | AC | dict(n_critics=5, target_heads=2, actor_q="mean")),
    "ddpg": (DDPG, "box", 4, OFF | AC),
    "sac": (SAC, "box", 4, OFF | AC | dict(init_alpha=0.1)),
    "sac_discrete": (DiscreteSAC, "discrete", 4, OFF | AC | dict(init_alpha=0.1)),
    "dqn": (
        DQN,
        "discrete",
        4,
        OFF | dict(lr=1e-3, train_freq=1, target_update_interval=100, exploration_steps=2000),
    ),  # fmt: skip
    "ppo": (PPO, "box", 8, dict(n_steps=32, lr=1e-3)),
    "ppo_discrete": (PPO, "discrete", 8, dict(n_steps=32, lr=1e-3)),
    "hybrid": (HybridPPO, "hybrid", 8, dict(n_steps=32, lr=1e-3)),
}


def build(name: str, env, seed: int = 0, **overrides):
    cls, _, n, params = SETUPS[name]
    return cls(env.single_observation_space, env.single_action_space, n, seed=seed,
               **(params | overrides))  # fmt: skip
