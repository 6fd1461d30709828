"""PPO: proximal policy optimisation with the clipped objective (Schulman et al., 2017).

Collect ``n_steps`` vector steps, estimate advantages with GAE (bootstrapping truncated
episodes with V(final_obs)), then take several epochs of minibatch steps on the clipped
surrogate, a (clipped) value loss and an entropy bonus, with one optimizer over actor,
critic and encoder. Box actions use an unbounded Gaussian that is clipped only on its way to
the env (so log-probabilities stay exact); Discrete actions a categorical. Hybrid
Tuple(Discrete, Box) actions: see :mod:`gaidrl.agents.hybrid`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from gaidrl.agents.actions import ActionCodec
from gaidrl.agents.base import Agent, build_hparams, gradient_step, hparams_signature, make_adam
from gaidrl.agents.off_policy import _batch_size
from gaidrl.agents.parts import (
    Actor,
    CategoricalActor,
    Encoder,
    FlattenEncoder,
    GaussianActor,
    IncompatiblePartError,
    VCritic,
    add_aux_losses,
    box_dim,
    check_actor,
    check_critic,
    flat_features,
    main_parameters,
    num_choices,
    require_kind,
    run_extra_updates,
)
from gaidrl.data.rollout import RolloutBuffer


@dataclass
class PPOConfig:
    """Hyper-parameters of PPO."""

    lr: float = 3e-4
    """Adam step size (actor, critic and encoder share one optimizer)."""
    n_steps: int = 128
    """Vector-env steps per rollout; a rollout holds n_steps * num_envs transitions."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda: 0 = one-step TD advantages, 1 = Monte Carlo."""
    n_epochs: int = 10
    """Passes over each rollout."""
    n_minibatches: int = 4
    """Minibatches per pass."""
    clip_coef: float = 0.2
    """Clip range of the probability ratio."""
    clip_value: bool = True
    """Clip the value update around the old values too."""
    ent_coef: float = 0.0
    """Weight of the entropy bonus."""
    vf_coef: float = 0.5
    """Weight of the value loss."""
    max_grad_norm: float | None = 0.5
    """Gradient-norm clip (None: no clipping)."""
    normalize_advantage: bool = True
    """Standardise advantages per minibatch."""
    target_kl: float | None = None
    """Stop the epochs early when the approximate KL exceeds this (None: never)."""
    init_log_std: float = 0.0
    """Initial log-std of the default Gaussian head."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden widths of the default MLP actor and critic (tanh)."""


@hparams_signature(PPOConfig)
class PPO(Agent):
    """PPO for Box and Discrete action spaces (hybrid: :class:`gaidrl.agents.hybrid.HybridPPO`)."""

    kinds: ClassVar[tuple[str, ...]] = ("box", "discrete")
    algo_name: ClassVar[str] = "PPO"

    def __init__(
        self,
        observation_space: gym.Space,
        action_space: gym.Space,
        num_envs: int = 1,
        device: torch.device | str = "cpu",
        *,
        actor: Actor | None = None,
        critic: nn.Module | None = None,
        encoder: Encoder | None = None,
        seed: int | None = None,
        config: PPOConfig | None = None,
        **hparams: Any,
    ) -> None:
        name = self.algo_name
        cfg = build_hparams(type(self).Config, config, hparams, name)
        kind = require_kind(name, action_space, self.kinds, "Use hybrid_ppo for "
                            "Tuple(Discrete, Box) actions, ppo for Box or Discrete.")  # fmt: skip
        super().__init__(observation_space, action_space, num_envs, device, seed)
        self.cfg = cfg
        self.codec = ActionCodec(action_space)
        self.encoder = encoder if encoder is not None else FlattenEncoder(observation_space)
        if actor is None:
            actor = self.default_actor(flat_features(self.encoder, "actor"), kind)
        check_actor(actor, name, kind, log_prob=True,
                    suggestion=f"{name} needs log pi(a|s) of stored actions (evaluate()); use "
                    "GaussianActor(squash=False), CategoricalActor or HybridActor, or TD3/DDPG "
                    "for an actor without a log-probability (e.g. a diffusion actor).")  # fmt: skip
        if type(actor).evaluate is Actor.evaluate:
            raise IncompatiblePartError(
                f"{name} cannot use actor {type(actor).__name__}: it gives no log-probability "
                "of a stored action (evaluate()), which the clipped ratio needs; use "
                "GaussianActor, CategoricalActor or HybridActor (a diffusion categorical actor "
                "fits sac_discrete)"
            )
        if critic is None:
            critic = VCritic(flat_features(self.encoder, "critic"), cfg.hidden)
        check_critic(critic, name, "v")
        self.actor, self.critic = actor, critic
        self.to(self.device)
        params = main_parameters(self.actor, self.critic, self.encoder)
        self.optimizer = make_adam(params, lr=cfg.lr, device=self.device, eps=1e-5)
        self.register_optimizer("ppo", self.optimizer)
        for slot in ("actor", "critic", "encoder"):
            self.register_part(slot, getattr(self, slot))
        self.rollout = RolloutBuffer(cfg.n_steps, num_envs, observation_space,
                                     _raw_action_space(action_space), self.device)  # fmt: skip
        self.env_steps = 0
        self.num_updates = 0
        self._pending: tuple[Any, np.ndarray, np.ndarray] | None = None

    def default_actor(self, feature_dim: int, kind: str) -> Actor:
        cfg = self.cfg
        if kind == "discrete":
            return CategoricalActor(feature_dim, num_choices(self.action_space), cfg.hidden)
        return GaussianActor(feature_dim, box_dim(self.action_space), cfg.hidden, squash=False,
                             init_log_std=cfg.init_log_std, activation=nn.Tanh)  # fmt: skip

    # ------------------------------------------------------------------ acting
    def value(self, obs: Any) -> np.ndarray:
        """V(obs) in float32, also when called inside a mixed-precision update (the
        bootstrap value of the rollout's last step), like the values stored while acting."""
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            return self.critic(self.encoder(self.obs_to_tensor(obs))).cpu().numpy()

    def act(self, obs: Any, *, explore: bool) -> Any:
        with torch.no_grad():
            features = self.encoder(self.obs_to_tensor(obs))
            out = self.actor(features, deterministic=not explore, generator=self.torch_rng)
            if explore:  # keep what record() needs: the raw action, its log-prob, V(s)
                value = self.critic(features).cpu().numpy()
                self._pending = (_numpy(out.action), out.log_prob.cpu().numpy(), value)
        return self.codec.to_env(out.action)

    # ------------------------------------------------------------------ recording
    def record(self, obs, action, reward, next_obs, terminated, truncated) -> None:
        n = _batch_size(obs)
        pending, self._pending = self._pending, None
        if pending is None or np.shape(pending[1])[0] != n:
            pending = self._recompute(obs, action)
        raw, log_prob, value = pending
        reward = np.asarray(reward, np.float32).reshape(-1).copy()
        terminated = np.asarray(terminated, bool).reshape(-1)
        truncated = np.asarray(truncated, bool).reshape(-1)
        cut = truncated & ~terminated
        if cut.any():  # the episode goes on beyond the time limit: bootstrap with V(final_obs)
            reward[cut] += self.cfg.gamma * self.value(next_obs)[cut]
        self.rollout.add(obs, raw, log_prob, value, reward, terminated | truncated, next_obs)
        self.env_steps += n

    def _recompute(self, obs: Any, action: Any) -> tuple[Any, np.ndarray, np.ndarray]:
        """Log-prob and value of actions taken without a preceding ``act(explore=True)``."""
        raw = self.codec.from_env(action)
        with torch.no_grad():
            features = self.encoder(self.obs_to_tensor(obs))
            log_prob, _ = self.actor.evaluate(features, _tensor(raw, self.device))
            value = self.critic(features)
        return raw, log_prob.cpu().numpy(), value.cpu().numpy()

    def ready_to_update(self) -> bool:
        return self.rollout.full

    # ------------------------------------------------------------------ learning
    def update(self) -> dict[str, float]:
        cfg = self.cfg
        self.rollout.compute_gae(self.value(self.rollout.last_obs), cfg.gamma, cfg.gae_lambda)
        size = self.rollout.n_steps * self.rollout.num_envs
        mb_size = max(1, size // cfg.n_minibatches)
        sums: dict[str, float] = {}
        count = 0
        for _ in range(cfg.n_epochs):
            kls = []
            for mb in self.rollout.minibatches(mb_size, self.torch_rng):
                stats = self._step(mb)
                kls.append(stats["approx_kl"])
                for k, v in stats.items():
                    sums[k] = sums.get(k, 0.0) + v
                count += 1
            if cfg.target_kl is not None and float(np.mean(kls)) > cfg.target_kl:
                break
        self.rollout.reset()
        self.num_updates += 1
        return {k: v / max(count, 1) for k, v in sums.items()}

    def _step(self, mb) -> dict[str, float]:
        cfg = self.cfg
        features = self.encoder(mb.obs)
        log_prob, entropy = self.actor.evaluate(features, mb.action)
        value = self.critic(features)
        log_ratio = log_prob - mb.log_prob
        ratio = log_ratio.exp()
        adv = mb.advantage
        if cfg.normalize_advantage and adv.numel() > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        clipped_ratio = ratio.clamp(1 - cfg.clip_coef, 1 + cfg.clip_coef)
        pg_loss = torch.max(-adv * ratio, -adv * clipped_ratio).mean()
        if cfg.clip_value:
            clipped = mb.value + (value - mb.value).clamp(-cfg.clip_coef, cfg.clip_coef)
            v_loss = 0.5 * torch.max((value - mb.returns) ** 2, (clipped - mb.returns) ** 2).mean()
        else:
            v_loss = 0.5 * ((value - mb.returns) ** 2).mean()
        loss = pg_loss - cfg.ent_coef * entropy.mean() + cfg.vf_coef * v_loss
        mb.features = features
        loss = add_aux_losses(loss, [self.actor, self.critic, self.encoder], mb)
        gradient_step(self.optimizer, loss, cfg.max_grad_norm)
        with torch.no_grad():
            approx_kl = ((ratio - 1) - log_ratio).mean().item()
            clip_frac = ((ratio - 1).abs() > cfg.clip_coef).float().mean().item()
        stats = {"policy_loss": pg_loss.item(), "value_loss": v_loss.item(),
                 "entropy": entropy.mean().item(), "approx_kl": approx_kl,
                 "clip_fraction": clip_frac}  # fmt: skip
        return stats | run_extra_updates(self._parts, mb)

    # ------------------------------------------------------------------ state
    def extra_state(self) -> dict:
        return {"env_steps": self.env_steps, "num_updates": self.num_updates,
                "rollout": self.rollout.state()}  # fmt: skip

    def load_extra_state(self, state: dict) -> None:
        self.env_steps = int(state["env_steps"])
        self.num_updates = int(state["num_updates"])
        self.rollout.load_state(state["rollout"])
        self._pending = None


def _raw_action_space(space: gym.Space) -> gym.Space:
    """What the rollout stores: indices and unclipped Box samples."""
    codec = ActionCodec(space)
    dim = box_dim(space)
    box = gym.spaces.Box(-np.inf, np.inf, (dim,), np.float32)
    if codec.kind == "discrete":
        return space
    if codec.kind == "box":
        return box
    return gym.spaces.Tuple((space.spaces[0], box))


def _numpy(x: Any) -> Any:
    if isinstance(x, tuple):
        return tuple(_numpy(v) for v in x)
    return x.cpu().numpy()


def _tensor(x: Any, device: torch.device) -> Any:
    if isinstance(x, tuple):
        return tuple(_tensor(v, device) for v in x)
    return torch.as_tensor(x, device=device)
