"""A tiny agent that keeps the Agent contract (docs/agent_contract.md), for trainer tests.

It owns everything a real algorithm owns that matters for exact resume: networks, an Adam
optimizer, a preallocated replay buffer, its own numpy Generator, and it draws exploration
noise from the global torch and numpy generators.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import nn


class TinyAgent(nn.Module):
    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int,
        device: torch.device,
        capacity: int = 4096,
        batch_size: int = 32,
        learning_starts: int = 64,
        lr: float = 1e-3,
        nan_at_update: int = -1,
    ):
        super().__init__()
        if not isinstance(observation_space, gym.spaces.Box):
            raise ValueError("TinyAgent needs a Box observation space")
        if not isinstance(action_space, (gym.spaces.Box, gym.spaces.Discrete)):
            raise ValueError("TinyAgent needs a Box or Discrete action space")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.discrete = isinstance(action_space, gym.spaces.Discrete)
        self.action_space = action_space
        self.num_envs, self.device = num_envs, device
        obs_dim = int(np.prod(observation_space.shape))
        act_dim = 1 if self.discrete else int(np.prod(action_space.shape))
        out_dim = int(action_space.n) if self.discrete else act_dim
        self.actor = nn.Linear(obs_dim, out_dim)
        self.critic = nn.Sequential(nn.Linear(obs_dim + act_dim, 16), nn.Tanh(), nn.Linear(16, 1))
        self.optim = torch.optim.Adam(self.parameters(), lr=lr)
        self.capacity, self.batch_size, self.learning_starts = capacity, batch_size, learning_starts
        self.nan_at_update = nan_at_update
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.next_obs = np.zeros((capacity, obs_dim), np.float32)
        self.actions = np.zeros((capacity, act_dim), np.float32)
        self.rewards = np.zeros(capacity, np.float32)
        self.dones = np.zeros(capacity, np.float32)
        self.ptr, self.size, self.updates = 0, 0, 0
        self.rng = np.random.default_rng(int(torch.randint(0, 2**31, ()).item()))

    def act(self, obs: Any, *, explore: bool) -> Any:
        x = torch.as_tensor(np.asarray(obs, np.float32)).reshape(len(obs), -1)
        out = self.actor(x)
        if self.discrete:
            action = out.argmax(-1).numpy().astype(np.int64)
            if explore:
                flip = np.random.random(len(obs)) < 0.3  # noqa: NPY002 (tests the global RNG)
                action = np.where(flip, np.random.randint(0, self.action_space.n, len(obs)),  # noqa: NPY002
                                  action)  # fmt: skip
            return action
        low, high = self.action_space.low, self.action_space.high
        a = torch.tanh(out)
        if explore:
            a = (a + 0.3 * torch.randn_like(a)).clamp(-1, 1)
        a = a.detach().numpy()
        return (low + (a + 1) * 0.5 * (high - low)).astype(np.float32)

    def record(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        n = len(reward)
        idx = (self.ptr + np.arange(n)) % self.capacity
        self.obs[idx] = np.asarray(obs, np.float32).reshape(n, -1)
        self.next_obs[idx] = np.asarray(next_obs, np.float32).reshape(n, -1)
        self.actions[idx] = np.asarray(action, np.float32).reshape(n, -1)
        self.rewards[idx] = reward
        self.dones[idx] = terminated
        self.ptr = int((self.ptr + n) % self.capacity)
        self.size = int(min(self.size + n, self.capacity))

    def ready_to_update(self) -> bool:
        return self.size >= self.learning_starts

    def update(self) -> dict[str, float]:
        idx = self.rng.integers(0, self.size, self.batch_size)
        obs, nxt = torch.as_tensor(self.obs[idx]), torch.as_tensor(self.next_obs[idx])
        act, rew = torch.as_tensor(self.actions[idx]), torch.as_tensor(self.rewards[idx])
        done = torch.as_tensor(self.dones[idx])
        with torch.no_grad():
            target = rew + 0.9 * (1 - done) * self.critic(torch.cat([nxt, act], -1)).squeeze(-1)
        q = self.critic(torch.cat([obs, act], -1)).squeeze(-1)
        critic_loss = ((q - target) ** 2).mean()
        actor_loss = self.actor(obs).pow(2).mean() * 1e-3
        self.updates += 1
        if self.updates == self.nan_at_update:
            critic_loss = critic_loss * float("nan")
        self.optim.zero_grad()
        (critic_loss + actor_loss).backward()
        self.optim.step()
        return {"critic_loss": critic_loss.item(), "actor_loss": actor_loss.item()}

    def training_state(self) -> dict:
        return {
            "model": self.state_dict(),
            "optim": self.optim.state_dict(),
            "buffer": {k: getattr(self, k).copy()
                       for k in ("obs", "next_obs", "actions", "rewards", "dones")},
            "ptr": self.ptr, "size": self.size, "updates": self.updates,
            "rng": self.rng.bit_generator.state,
        }  # fmt: skip

    def load_training_state(self, state: dict) -> None:
        self.load_state_dict(state["model"])
        self.optim.load_state_dict(state["optim"])
        for key, value in state["buffer"].items():
            setattr(self, key, value.copy())
        self.ptr, self.size, self.updates = state["ptr"], state["size"], state["updates"]
        self.rng.bit_generator.state = state["rng"]
