"""Critics: Q(s, a) with several heads, Q(s, .) for discrete actions, and V(s).

Each critic declares what it :attr:`estimates` (one of :data:`CRITIC_KINDS`), and an
algorithm checks it (:func:`check_critic`) before training, as it checks its actor: a V(s)
critic for TD3, or a Q(s, a) one for PPO, is refused when the agent is built, with the
config names that would fit, instead of a shape error deep inside the first update.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gaidrl.agents.parts.core import Part, mlp
from gaidrl.agents.parts.spaces import IncompatiblePartError

CRITIC_KINDS: dict[str, tuple[str, str]] = {
    "q": ("Q(s, a) heads for Box actions, (num_q, batch)", "q, gan or quantile"),
    "discrete_q": ("Q(s, .) over every discrete action, (batch, n)", "discrete_q"),
    "discrete_q_heads": ("several Q(s, .) heads, (num_q, batch, n)", "discrete_q_heads"),
    "v": ("V(s), (batch,)", "v"),
}
"""What a critic estimates -> (its output, the ``parts.critic.name`` values that build it)."""


def check_critic(critic: Any, algo: str, wanted: str) -> None:
    """Refuse a critic that does not estimate what ``algo`` needs (``wanted``, a key of
    :data:`CRITIC_KINDS`), saying what it gives and which config names would fit."""
    name = type(critic).__name__
    need, names = CRITIC_KINDS[wanted]
    has = getattr(critic, "estimates", None)
    if has not in CRITIC_KINDS:
        raise IncompatiblePartError(
            f"{algo}: critic {name} declares no `estimates` (one of {', '.join(CRITIC_KINDS)}); "
            "subclass QCritic, DiscreteQCritic, DiscreteQHeads or VCritic, or set it"
        )
    if has != wanted:
        raise IncompatiblePartError(
            f"{algo} cannot use critic {name}: it estimates {CRITIC_KINDS[has][0]}, {algo} "
            f"needs {need}; use parts.critic.name: {names}"
        )


class QCritic(Part):
    """Q(s, a) for Box actions with ``num_q`` independent heads (2 = twin critics).

    :meth:`forward` returns (num_q, batch). :meth:`td_loss` is the regression toward the
    Bellman target the algorithm computed; a critic may replace it (a GAN critic trains a
    generator against a discriminator instead of the squared TD error).
    """

    estimates = "q"
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

    estimates = "discrete_q"

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


class DiscreteQHeads(Part):
    """``num_q`` independent Q(s, .) heads for Discrete actions: (num_q, batch, n_actions)
    (discrete SAC's twin critics)."""

    estimates = "discrete_q_heads"

    def __init__(
        self, feature_dim: int, n_actions: int, num_q: int = 2, hidden: Sequence[int] = (256, 256)
    ) -> None:
        super().__init__()
        self.num_q = num_q
        self.heads = nn.ModuleList(mlp(feature_dim, n_actions, hidden) for _ in range(num_q))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return torch.stack([head(features) for head in self.heads])

    def td_loss(
        self, features: Any, action: torch.Tensor, target: torch.Tensor, batch: Any
    ) -> tuple[torch.Tensor, dict[str, float]]:
        index = action.long()[None, :, None].expand(self.num_q, -1, 1)
        q = self(features).gather(-1, index).squeeze(-1)  # (num_q, batch)
        loss = F.mse_loss(q, target.expand_as(q), reduction="none").mean(-1).sum()
        return loss, {"q_mean": float(q.detach().mean())}


class VCritic(Part):
    """V(s): (batch,)."""

    estimates = "v"

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
