"""What every replay-based agent shares: encoder, replay source, warm-up, counters.

Subclasses (DDPG, TD3, SAC, DQN) build their actor/critic and write :meth:`update`;
recording, the update schedule, random warm-up actions and the saved counters live here
once. Actions go into the replay normalised (see :mod:`gaidrl.agents.actions`).

The replay slot takes a :class:`ReplaySource`, used as it is, or a factory that receives
the agent's default buffer (seeded from the agent's seed) and returns a source wrapping it.

One encoder is shared: the critic loss trains it (with its auxiliary loss, if any) and the
actor reads its features detached, the usual choice for learned encoders in off-policy RL.
A frozen target copy of the encoder feeds the target networks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from gaidrl.agents.actions import ActionCodec
from gaidrl.agents.base import Agent, gradient_step
from gaidrl.agents.parts import (
    Encoder,
    FlattenEncoder,
    ReplaySource,
    add_aux_losses,
    target_copy,
)
from gaidrl.data.replay import ReplayBuffer

ReplayFactory = Callable[[ReplayBuffer], ReplaySource]
"""A replay slot that wraps the agent's default buffer: ``factory(buffer) -> ReplaySource``."""

BOX_ONLY_HINT = (
    "Use dqn or ppo for Discrete; for Tuple(Discrete, Box) use hybrid_ppo, or this algorithm "
    "in HyAR's latent action space (parts.latent_action.name: hyar)."
)


def policy_space(action_space: gym.Space, latent_action: Any) -> gym.Space:
    """The action space the algorithm acts in: the latent action part's, if there is one
    (HyAR), else the env's."""
    return action_space if latent_action is None else latent_action.latent_space


class OffPolicyAgent(Agent):
    """Replay, schedule and warm-up for off-policy algorithms."""

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int,
        device: torch.device | str,
        seed: int | None,
        encoder: Encoder | None,
        replay: ReplaySource | ReplayFactory | None,
        settings: Any,
        latent_action: Any = None,
    ) -> None:
        """``settings``: the algorithm's hyper-parameters, read for ``buffer_size``,
        ``batch_size``, ``learning_starts``, ``train_freq`` and ``gradient_steps``.
        ``latent_action``: a part with a ``latent_space`` the algorithm acts in and
        ``decode``/``encode`` to and from the env's actions (HyAR); the replay then stores
        the env's (normalised) actions and :meth:`sample_batch` relabels them."""
        super().__init__(observation_space, action_space, num_envs, device, seed)
        self.env_codec = ActionCodec(action_space)
        self.codec = ActionCodec(policy_space(action_space, latent_action))
        self.latent_action = latent_action
        self.encoder = encoder if encoder is not None else FlattenEncoder(observation_space)
        self.encoder_target = target_copy(self.encoder)
        if replay is None or _is_factory(replay):
            rng = np.random.default_rng([self.seed_value, 1])  # its own stream, saved with it
            space = self.env_codec.normalized_space()
            buffer = ReplayBuffer(settings.buffer_size, observation_space, space, self.device,
                                  seed=rng)  # fmt: skip
            replay = buffer if replay is None else replay(buffer)
        if not isinstance(replay, ReplaySource):
            raise TypeError(
                f"replay {type(replay).__name__} lacks add/sample/__len__/state/load_state"
            )
        self.replay = replay
        if isinstance(replay, torch.nn.Module):  # a replay part with state of its own
            self.register_part("replay", replay)
        if latent_action is not None:
            self.register_part("latent_action", latent_action)
        self.batch_size = int(settings.batch_size)
        self.learning_starts = int(settings.learning_starts)
        self.train_freq = int(settings.train_freq)
        self.gradient_steps = int(settings.gradient_steps)
        self.env_steps = 0
        self.vector_steps = 0
        self.num_updates = 0

    # ------------------------------------------------------------------ acting
    def warming_up(self) -> bool:
        return self.env_steps < self.learning_starts

    def act(self, obs: Any, *, explore: bool) -> Any:
        n = _batch_size(obs)
        if explore and self.warming_up():
            return self.env_codec.to_env(self.env_codec.random(n, self.np_rng))
        with torch.no_grad():
            obs_t = self.obs_to_tensor(obs)
            action = self.policy_action(self.encoder(obs_t), explore)
        if self.latent_action is not None:
            return self.env_codec.to_env(self.latent_action.decode(action, obs_t))
        return self.codec.to_env(action)

    def policy_action(self, features: Any, explore: bool) -> Any:
        """Normalised actions of the current policy (exploration noise included if asked)."""
        raise NotImplementedError

    def rollout_policy(self, obs: Any) -> Any:
        """Normalised exploring actions for a batch of observation tensors, without
        gradients: what a world model's imagined rollouts act with (the agent's generator
        draws the noise, so it is saved like every other draw)."""
        with torch.no_grad():
            return self.policy_action(self.encoder(obs), explore=True)

    # ------------------------------------------------------------------ recording
    def record(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        self.replay.add(obs, self.env_codec.from_env(action), reward, next_obs,
                        terminated, truncated)  # fmt: skip
        self.env_steps += int(np.asarray(reward).reshape(-1).shape[0])
        self.vector_steps += 1

    def ready_to_update(self) -> bool:
        return (
            self.env_steps >= self.learning_starts
            and len(self.replay) >= self.batch_size
            and self.vector_steps % self.train_freq == 0
        )

    # ------------------------------------------------------------------ learning
    def sample_batch(self, batch_size: int) -> Any:
        """A replay batch in the algorithm's action space: with a latent action part, the
        stored env actions move to ``batch.raw_action`` and ``batch.action`` holds their
        latents under the current encoder."""
        batch = self.replay.sample(batch_size)
        if self.latent_action is not None:
            batch.raw_action = batch.action
            batch.action = self.latent_action.encode(batch.obs, *batch.action)
        return batch

    def critic_step(
        self,
        batch: Any,
        target: torch.Tensor,
        optimizer: torch.optim.Optimizer,
        max_grad_norm: float | None,
    ) -> tuple[Any, torch.Tensor, dict[str, float]]:
        """One gradient step of ``self.critic`` (and the encoder) toward ``target``: the
        critic's own ``td_loss`` plus the critic's and encoder's auxiliary losses. Sets
        ``batch.features``; returns the features (with their graph), the loss and the
        critic's statistics."""
        features = self.encoder(batch.obs)
        loss, stats = self.critic.td_loss(features, batch.action, target, batch)
        batch.features = features
        loss = add_aux_losses(loss, [self.critic, self.encoder], batch)
        gradient_step(optimizer, loss, max_grad_norm)
        return features, loss, stats

    # ------------------------------------------------------------------ state
    def extra_state(self) -> dict:
        return {
            "env_steps": self.env_steps,
            "vector_steps": self.vector_steps,
            "num_updates": self.num_updates,
            "replay": self.replay.state(),
        }

    def load_extra_state(self, state: dict) -> None:
        self.env_steps = int(state["env_steps"])
        self.vector_steps = int(state["vector_steps"])
        self.num_updates = int(state["num_updates"])
        self.replay.load_state(state["replay"])


def _is_factory(replay: Any) -> bool:
    """A replay slot given as a wrapper factory: ``factory(default_buffer) -> ReplaySource``
    (e.g. a generative replay that mixes synthetic rows into the default buffer's batches)."""
    return callable(replay) and not isinstance(replay, ReplaySource)


def _batch_size(obs: Any) -> int:
    if isinstance(obs, dict):
        return _batch_size(next(iter(obs.values())))
    return int(np.shape(obs)[0])
