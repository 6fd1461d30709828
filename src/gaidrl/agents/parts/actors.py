"""Actors: features -> normalised actions, each declaring what it supports."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.parts.core import Part, mlp
from gaidrl.agents.parts.spaces import ActionKind, IncompatiblePartError


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


def categorical_sample(
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
        logp_all = self.log_probs(features)
        action = categorical_sample(logp_all, deterministic, generator)
        return ActorOutput(action, logp_all.gather(-1, action[:, None]).squeeze(-1))

    def log_probs(self, features, *, deterministic=False, generator=None) -> torch.Tensor:
        """Log-probabilities of every action, (batch, n_actions): what discrete SAC needs."""
        return F.log_softmax(self.net(features), -1)

    def evaluate(self, features, action) -> tuple[torch.Tensor, torch.Tensor]:
        logp_all = self.log_probs(features)
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
        choice = categorical_sample(logp_all, deterministic, generator)
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
