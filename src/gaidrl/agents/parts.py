"""Pluggable parts of an algorithm: encoder, actor, critic, replay source.

An algorithm receives its parts through its constructor and speaks to them only through the
small interfaces below, so a generative part (diffusion actor, Transformer actor, VAE
encoder, GAN critic, generative replay, world model) plugs in without touching the
algorithm file. The seams:

* every part is a :class:`Part` (an ``nn.Module``) and may own extra parameters with their
  own optimizers (:meth:`Part.optimizers`: those parameters are kept out of the algorithm's
  optimizer), add a loss term to the loss of the optimizer that trains it
  (:meth:`Part.auxiliary_loss`), run its own step after each update round
  (:meth:`Part.extra_update`), keep non-parameter state (:meth:`Part.part_state`) and see
  the agent (:meth:`Part.attach`: e.g. a world model writing imagined transitions into
  ``agent.replay``). All of it goes into ``Agent.training_state()``.
* an :class:`Encoder` turns observations (arrays, or dicts such as tokens + mask) into what
  actor and critic read: usually a flat feature vector (``feature_dim``), or the observation
  itself (:class:`PassThroughEncoder`) for an actor that reads a dict directly.
* an :class:`Actor` declares what it :attr:`~Actor.supports` (action kinds, differentiable
  action, tractable log-probability); actions are *normalised*: in [-1, 1] for Box
  dimensions, indices for Discrete, ``(index, box)`` for Tuple(Discrete, Box).
* a Q critic returns one value per head (twin critics: ``num_q=2``) and owns its regression
  loss (:meth:`QCritic.td_loss`), so a GAN critic can replace the TD error with its own.
* a replay source is anything with ``add``/``sample``/``__len__``/``state``/``load_state``
  (:class:`ReplaySource`); :class:`gaidrl.data.replay.ReplayBuffer` is the default.

:func:`check_actor` and :func:`action_kind` refuse impossible combinations with a message
that says what is unsupported and what would work; the errors are ``ValueError`` so the
registry can show them as config errors.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import gymnasium as gym
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ActionKind = str  # "box" | "discrete" | "hybrid"
ACTION_KINDS = ("box", "discrete", "hybrid")


class IncompatiblePartError(ValueError):
    """A part cannot serve this algorithm or this action space."""


# ---------------------------------------------------------------------------- spaces
def action_kind(space: gym.Space) -> ActionKind:
    """``box``, ``discrete`` or ``hybrid`` (Tuple(Discrete, Box)); anything else is refused."""
    if isinstance(space, gym.spaces.Box):
        return "box"
    if isinstance(space, gym.spaces.Discrete):
        return "discrete"
    if (
        isinstance(space, gym.spaces.Tuple)
        and len(space.spaces) == 2
        and isinstance(space.spaces[0], gym.spaces.Discrete)
        and isinstance(space.spaces[1], gym.spaces.Box)
    ):
        return "hybrid"
    raise IncompatiblePartError(
        f"action space {space} is not supported; gaidrl agents handle Box, Discrete and "
        "Tuple(Discrete, Box)"
    )


def box_dim(space: gym.Space) -> int:
    """Flat size of the Box part of an action space (0 for Discrete)."""
    kind = action_kind(space)
    if kind == "box":
        return int(np.prod(space.shape))
    if kind == "hybrid":
        return int(np.prod(space.spaces[1].shape))
    return 0


def num_choices(space: gym.Space) -> int:
    """Number of discrete choices of a Discrete or hybrid action space."""
    kind = action_kind(space)
    if kind == "discrete":
        return int(space.n)
    if kind == "hybrid":
        return int(space.spaces[0].n)
    return 0


def require_kind(algo: str, space: gym.Space, allowed: Sequence[ActionKind], hint: str) -> str:
    """The action kind of ``space`` if ``algo`` handles it, else a clear error."""
    kind = action_kind(space)
    if kind not in allowed:
        raise IncompatiblePartError(
            f"{algo} cannot act in a {kind} action space ({space}); it handles "
            f"{', '.join(allowed)}. {hint}"
        )
    return kind


# ---------------------------------------------------------------------------- building blocks
def mlp(
    in_dim: int,
    out_dim: int,
    hidden: Sequence[int] = (256, 256),
    activation: type[nn.Module] = nn.ReLU,
) -> nn.Sequential:
    """A plain multi-layer perceptron (no activation on the output)."""
    layers: list[nn.Module] = []
    last = in_dim
    for width in hidden:
        layers += [nn.Linear(last, width), activation()]
        last = width
    layers.append(nn.Linear(last, out_dim))
    return nn.Sequential(*layers)


class Part(nn.Module):
    """Base of every part: the hooks an algorithm calls, all optional to override."""

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """Optimizers this part owns and steps itself (in :meth:`extra_update`/its loss)."""
        return {}

    def main_parameters(self) -> Iterator[nn.Parameter]:
        """Parameters the algorithm's optimizer should train: all but the part's own."""
        own = {id(p) for opt in self.optimizers().values() for g in opt.param_groups
               for p in g["params"]}  # fmt: skip
        return (p for p in self.parameters() if id(p) not in own)

    def auxiliary_loss(self, batch: Any) -> torch.Tensor | None:
        """A loss term added to the loss of the optimizer that trains this part."""
        return None

    def extra_update(self, batch: Any) -> dict[str, float]:
        """A step of the part's own, after each update round; returns scalar stats."""
        return {}

    def part_state(self) -> dict:
        """Non-parameter state (counters, RNGs...) as plain data; parameters and registered
        optimizers are saved by the agent already."""
        return {}

    def load_part_state(self, state: dict) -> None:
        """Inverse of :meth:`part_state` (numpy arrays come back as CPU tensors)."""

    def attach(self, agent: Any) -> None:
        """Called once when an agent adopts the part."""


def target_copy(module: nn.Module) -> nn.Module:
    """A frozen copy for target networks (parameters never receive gradients)."""
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


@torch.no_grad()
def soft_update(target: nn.Module, source: nn.Module, tau: float) -> None:
    """Polyak averaging; tau=1 is a hard copy. Buffers are copied as they are.

    One ``_foreach_lerp_`` over all parameters instead of a Python loop of ``lerp_``.
    """
    t_params, s_params = list(target.parameters()), list(source.parameters())
    if len(t_params) != len(s_params):
        raise ValueError(f"soft_update: {len(t_params)} target vs {len(s_params)} parameters")
    if t_params:
        torch._foreach_lerp_(t_params, s_params, tau)
    for t, s in zip(target.buffers(), source.buffers(), strict=True):
        t.copy_(s)


def first_q(critic: Any, features: Any, action: Any) -> torch.Tensor:
    """Q of a critic's first head: ``critic.first_q`` when it has one, else ``critic(...)[0]``."""
    fn = getattr(critic, "first_q", None)
    return fn(features, action) if fn is not None else critic(features, action)[0]


def add_aux_losses(loss: torch.Tensor, parts: Sequence[Any], batch: Any) -> torch.Tensor:
    """``loss`` plus every part's auxiliary loss (parts that are not :class:`Part` are skipped)."""
    for part in parts:
        fn = getattr(part, "auxiliary_loss", None)
        extra = fn(batch) if fn is not None else None
        if extra is not None:
            loss = loss + extra
    return loss


def run_extra_updates(parts: dict[str, Any], batch: Any) -> dict[str, float]:
    """Call every part's ``extra_update`` and prefix its stats with the slot name."""
    stats: dict[str, float] = {}
    for slot, part in parts.items():
        fn = getattr(part, "extra_update", None)
        if fn is not None:
            stats |= {f"{slot}/{k}": float(v) for k, v in fn(batch).items()}
    return stats


def main_parameters(*parts: nn.Module) -> list[nn.Parameter]:
    """The parameters an algorithm's optimizer trains for these parts (deduplicated)."""
    seen: set[int] = set()
    out = []
    for part in parts:
        params = part.main_parameters() if isinstance(part, Part) else part.parameters()
        for p in params:
            if id(p) not in seen and p.requires_grad:
                seen.add(id(p))
                out.append(p)
    return out


# ---------------------------------------------------------------------------- encoders
class Encoder(Part):
    """Observations -> what actor and critic read. ``feature_dim`` is None when not flat."""

    feature_dim: int | None


class FlattenEncoder(Encoder):
    """No parameters: flattens a Box observation, or concatenates a Dict's entries (sorted by
    key, each flattened and cast to float; a token mask becomes 0/1 features)."""

    def __init__(self, observation_space: gym.Space) -> None:
        super().__init__()
        if isinstance(observation_space, gym.spaces.Dict):
            self.keys: list[str] | None = sorted(observation_space.spaces)
            dims = [_flat_dim(observation_space.spaces[k]) for k in self.keys]
            self.feature_dim = int(sum(dims))
        else:
            self.keys = None
            self.feature_dim = _flat_dim(observation_space)

    def forward(self, obs: Any) -> torch.Tensor:
        if self.keys is None:
            return obs.float().flatten(1)
        return torch.cat([obs[k].float().flatten(1) for k in self.keys], dim=1)


class MLPEncoder(Encoder):
    """:class:`FlattenEncoder` followed by an MLP with an activated output."""

    def __init__(
        self, observation_space: gym.Space, feature_dim: int = 128, hidden: Sequence[int] = (256,)
    ) -> None:
        super().__init__()
        self.flatten = FlattenEncoder(observation_space)
        self.net = nn.Sequential(mlp(self.flatten.feature_dim, feature_dim, hidden), nn.ReLU())
        self.feature_dim = feature_dim

    def forward(self, obs: Any) -> torch.Tensor:
        return self.net(self.flatten(obs))


class PassThroughEncoder(Encoder):
    """Hands the observation on unchanged, for actors/critics that read dicts themselves."""

    feature_dim = None

    def forward(self, obs: Any) -> Any:
        return obs


def _flat_dim(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Box | gym.spaces.MultiBinary):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.Discrete):
        return 1
    raise IncompatiblePartError(
        f"FlattenEncoder cannot flatten {space}; give an encoder that reads it"
    )


def flat_features(encoder: Encoder, who: str) -> int:
    """The encoder's flat feature size, or an error naming why the default part cannot work."""
    dim = getattr(encoder, "feature_dim", None)
    if dim is None:
        raise IncompatiblePartError(
            f"the default MLP {who} needs flat features but {type(encoder).__name__} gives "
            "none; give a flat encoder (e.g. FlattenEncoder, MLPEncoder) or your own " + who
        )
    return int(dim)


# ---------------------------------------------------------------------------- actors
@dataclass(frozen=True)
class ActorSupport:
    """What an actor can do; algorithms check it before training (see :func:`check_actor`)."""

    kinds: frozenset[str]
    """Action kinds it produces: box, discrete, hybrid."""
    differentiable: bool
    """Its action is a differentiable function of its parameters (DDPG/TD3/SAC need it)."""
    log_prob: bool
    """It gives a tractable log-probability of an action (SAC/PPO need it)."""


@dataclass
class ActorOutput:
    """An actor's normalised action for a batch, and its log-probability when it has one."""

    action: Any
    log_prob: torch.Tensor | None = None


class Actor(Part):
    """Features -> normalised actions. Override :meth:`forward` (and :meth:`evaluate` when
    ``supports.log_prob``)."""

    supports: ActorSupport

    def forward(
        self,
        features: Any,
        *,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> ActorOutput:
        raise NotImplementedError

    def evaluate(self, features: Any, action: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probability and entropy of given actions (on-policy algorithms)."""
        raise NotImplementedError(f"{type(self).__name__} has no tractable log-probability")


def check_actor(
    actor: Any,
    algo: str,
    kind: ActionKind,
    *,
    differentiable: bool = False,
    log_prob: bool = False,
    suggestion: str = "",
) -> None:
    """Refuse an actor that cannot serve ``algo`` in a ``kind`` action space, saying why."""
    name = type(actor).__name__
    sup = getattr(actor, "supports", None)
    if not isinstance(sup, ActorSupport):
        raise IncompatiblePartError(
            f"{algo}: actor {name} declares no `supports` (an ActorSupport); subclass "
            "gaidrl.agents.parts.Actor and set it"
        )
    wrong = []
    if kind not in sup.kinds:
        wrong.append(f"{kind} actions (it produces {', '.join(sorted(sup.kinds))})")
    if differentiable and not sup.differentiable:
        wrong.append("a differentiable action")
    if log_prob and not sup.log_prob:
        wrong.append("a tractable log-probability")
    if wrong:
        raise IncompatiblePartError(
            f"{algo} cannot use actor {name}: it lacks {' and '.join(wrong)}. {suggestion}".strip()
        )


class DeterministicActor(Actor):
    """MLP with tanh output: the DDPG/TD3 policy (no log-probability)."""

    supports = ActorSupport(frozenset({"box"}), differentiable=True, log_prob=False)

    def __init__(self, feature_dim: int, action_dim: int, hidden: Sequence[int] = (256, 256)):
        super().__init__()
        self.net = mlp(feature_dim, action_dim, hidden)

    def forward(self, features, *, deterministic=False, generator=None) -> ActorOutput:
        return ActorOutput(torch.tanh(self.net(features)))


LOG_STD_MIN, LOG_STD_MAX = -5.0, 2.0


class GaussianActor(Actor):
    """Diagonal Gaussian policy with a reparameterised sample.

    ``squash=True`` (SAC): tanh of a state-dependent Gaussian, with the log-det correction.
    ``squash=False`` (PPO): an unbounded Gaussian with a state-independent log-std; the agent
    clips it to [-1, 1] only when sending it to the env, so log-probabilities stay exact.
    """

    supports = ActorSupport(frozenset({"box"}), differentiable=True, log_prob=True)

    def __init__(
        self,
        feature_dim: int,
        action_dim: int,
        hidden: Sequence[int] = (256, 256),
        squash: bool = True,
        init_log_std: float = 0.0,
        activation: type[nn.Module] = nn.ReLU,
    ) -> None:
        super().__init__()
        self.squash = squash
        if squash:
            self.net = mlp(feature_dim, 2 * action_dim, hidden, activation)
        else:
            self.net = mlp(feature_dim, action_dim, hidden, activation)
            self.log_std = nn.Parameter(torch.full((action_dim,), float(init_log_std)))

    def _mean_std(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(features)
        if self.squash:
            mean, log_std = out.chunk(2, dim=-1)
            log_std = LOG_STD_MIN + 0.5 * (LOG_STD_MAX - LOG_STD_MIN) * (torch.tanh(log_std) + 1)
        else:
            mean, log_std = out, self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).expand_as(out)
        return mean, log_std.exp()

    def forward(self, features, *, deterministic=False, generator=None) -> ActorOutput:
        mean, std = self._mean_std(features)
        if deterministic:
            u = mean
        else:
            noise = torch.randn(mean.shape, generator=generator, device=mean.device)
            u = mean + std * noise
        logp = _normal_log_prob(u, mean, std)
        if not self.squash:
            return ActorOutput(u, logp)
        action = torch.tanh(u)
        # log|d tanh(u)/du| = 2 (log 2 - u - softplus(-2u)), numerically stable
        logp = logp - (2 * (math.log(2) - u - F.softplus(-2 * u))).sum(-1)
        return ActorOutput(action, logp)

    def evaluate(self, features, action) -> tuple[torch.Tensor, torch.Tensor]:
        if self.squash:
            raise NotImplementedError("evaluate() is for the unsquashed (PPO) Gaussian")
        mean, std = self._mean_std(features)
        entropy = (0.5 + 0.5 * math.log(2 * math.pi) + std.log()).sum(-1)
        return _normal_log_prob(action, mean, std), entropy


def _normal_log_prob(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    return (-0.5 * ((x - mean) / std) ** 2 - std.log() - 0.5 * math.log(2 * math.pi)).sum(-1)


def _categorical_sample(
    logits: torch.Tensor, deterministic: bool, generator: torch.Generator | None
) -> torch.Tensor:
    if deterministic:
        return logits.argmax(-1)
    u = torch.rand(logits.shape, generator=generator, device=logits.device)
    exp_noise = (-torch.log(u.clamp_min(1e-20))).clamp_min(1e-20)
    gumbel = -torch.log(exp_noise)
    return (logits + gumbel).argmax(-1)


class CategoricalActor(Actor):
    """Softmax policy over Discrete actions (PPO)."""

    supports = ActorSupport(frozenset({"discrete"}), differentiable=False, log_prob=True)

    def __init__(
        self,
        feature_dim: int,
        n_actions: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
    ) -> None:
        super().__init__()
        self.net = mlp(feature_dim, n_actions, hidden, activation)

    def forward(self, features, *, deterministic=False, generator=None) -> ActorOutput:
        logp_all = F.log_softmax(self.net(features), -1)
        action = _categorical_sample(logp_all, deterministic, generator)
        return ActorOutput(action, logp_all.gather(-1, action[:, None]).squeeze(-1))

    def evaluate(self, features, action) -> tuple[torch.Tensor, torch.Tensor]:
        logp_all = F.log_softmax(self.net(features), -1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        return logp_all.gather(-1, action.long()[:, None]).squeeze(-1), entropy


class HybridActor(Actor):
    """Parameterised actions Tuple(Discrete, Box): a categorical head for the choice and a
    Gaussian head (unbounded, state-independent std) for the shared continuous parameters.
    The joint log-probability is the sum of both, as both are sampled independently given
    the state."""

    supports = ActorSupport(frozenset({"hybrid"}), differentiable=False, log_prob=True)

    def __init__(
        self,
        feature_dim: int,
        n_choices: int,
        box_dim: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
        init_log_std: float = -0.5,
    ) -> None:
        super().__init__()
        self.body = nn.Sequential(mlp(feature_dim, hidden[-1], hidden[:-1], activation),
                                  activation())  # fmt: skip
        self.logits = nn.Linear(hidden[-1], n_choices)
        self.mean = nn.Linear(hidden[-1], box_dim)
        self.log_std = nn.Parameter(torch.full((box_dim,), float(init_log_std)))

    def _heads(self, features):
        h = self.body(features)
        std = self.log_std.clamp(LOG_STD_MIN, LOG_STD_MAX).exp().expand(h.shape[0], -1)
        return F.log_softmax(self.logits(h), -1), self.mean(h), std

    def forward(self, features, *, deterministic=False, generator=None) -> ActorOutput:
        logp_all, mean, std = self._heads(features)
        choice = _categorical_sample(logp_all, deterministic, generator)
        if deterministic:
            box = mean
        else:
            box = mean + std * torch.randn(mean.shape, generator=generator, device=mean.device)
        logp = logp_all.gather(-1, choice[:, None]).squeeze(-1) + _normal_log_prob(box, mean, std)
        return ActorOutput((choice, box), logp)

    def evaluate(self, features, action) -> tuple[torch.Tensor, torch.Tensor]:
        choice, box = action
        logp_all, mean, std = self._heads(features)
        logp = logp_all.gather(-1, choice.long()[:, None]).squeeze(-1)
        logp = logp + _normal_log_prob(box, mean, std)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        entropy = entropy + (0.5 + 0.5 * math.log(2 * math.pi) + std.log()).sum(-1)
        return logp, entropy


# ---------------------------------------------------------------------------- critics
class QCritic(Part):
    """Q(s, a) for Box actions with ``num_q`` independent heads (2 = twin critics).

    :meth:`forward` returns (num_q, batch). :meth:`td_loss` is the regression toward the
    Bellman target the algorithm computed; a critic may replace it (a GAN critic trains a
    generator against a discriminator instead of the squared TD error).
    """

    num_q: int

    def __init__(
        self, feature_dim: int, action_dim: int, num_q: int = 2, hidden: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        self.num_q = num_q
        self.heads = nn.ModuleList(mlp(feature_dim + action_dim, 1, hidden) for _ in range(num_q))

    def forward(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        x = torch.cat([features, action], dim=-1)
        return torch.stack([h(x).squeeze(-1) for h in self.heads])

    def first_q(self, features: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Q of the first head only, (batch,): what the TD3/DDPG actor loss reads. Computing
        only that head spares the other heads' forward and (zero-gradient) backward passes.
        A subclass that overrides :meth:`forward` gets ``forward(...)[0]``."""
        if type(self).forward is not QCritic.forward:
            return self(features, action)[0]
        return self.heads[0](torch.cat([features, action], dim=-1)).squeeze(-1)

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        q = self(features, action)
        loss = F.mse_loss(q, target.expand_as(q), reduction="none").mean(-1).sum()
        return loss, {"q_mean": float(q.detach().mean())}


class DiscreteQCritic(Part):
    """Q(s, .) for Discrete actions: (batch, n_actions). Optional dueling heads."""

    def __init__(
        self,
        feature_dim: int,
        n_actions: int,
        hidden: Sequence[int] = (128, 128),
        dueling: bool = False,
    ) -> None:
        super().__init__()
        self.dueling = dueling
        if dueling:
            self.body = nn.Sequential(mlp(feature_dim, hidden[-1], hidden[:-1]), nn.ReLU())
            self.value = nn.Linear(hidden[-1], 1)
            self.advantage = nn.Linear(hidden[-1], n_actions)
        else:
            self.net = mlp(feature_dim, n_actions, hidden)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        if not self.dueling:
            return self.net(features)
        h = self.body(features)
        adv = self.advantage(h)
        return self.value(h) + adv - adv.mean(-1, keepdim=True)

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        q = self(features).gather(-1, action.long()[:, None]).squeeze(-1)
        return F.smooth_l1_loss(q, target), {"q_mean": float(q.detach().mean())}


class VCritic(Part):
    """V(s): (batch,)."""

    def __init__(
        self,
        feature_dim: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
    ) -> None:
        super().__init__()
        self.net = mlp(feature_dim, 1, hidden, activation)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.net(features).squeeze(-1)


# ---------------------------------------------------------------------------- replay
@runtime_checkable
class ReplaySource(Protocol):
    """Where off-policy algorithms store and sample transitions.

    Actions are stored normalised (the actor's action). ``sample`` returns a
    :class:`gaidrl.data.replay.Batch` of tensors; a generative replay may mix synthetic
    transitions into it. ``state``/``load_state`` give plain data for exact resume.
    """

    def add(self, obs: Any, action: Any, reward: Any, next_obs: Any, terminated: Any,
            truncated: Any) -> None: ...  # fmt: skip

    def sample(self, batch_size: int) -> Any: ...

    def __len__(self) -> int: ...

    def state(self) -> dict: ...

    def load_state(self, state: dict) -> None: ...
