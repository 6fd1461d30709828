"""The Part base class and the small helpers every algorithm uses with its parts:
an MLP, target copies, Polyak averaging, auxiliary losses and the parameters to train."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from gaidrl.generative.layers import mlp

__all__ = ["Part", "add_aux_losses", "first_q", "main_parameters", "mlp", "run_extra_updates",
           "soft_update", "target_copy"]  # fmt: skip


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
        """A step of the part's own after every gradient step of the algorithm, with the
        batch that step used; ``batch.features`` then holds the encoder's features of
        ``batch.obs``, detached from every graph (build your own graph from them, or from
        ``batch.obs``). Returns scalar stats."""
        return {}

    def part_state(self) -> dict:
        """Non-parameter state (counters, RNGs...) as plain data; parameters and registered
        optimizers are saved by the agent already."""
        return {}

    def load_part_state(self, state: dict) -> None:
        """Inverse of :meth:`part_state` (numpy arrays come back as CPU tensors)."""

    def attach(self, handle: Any) -> None:
        """Called once when an agent adopts the part, with a
        :class:`~gaidrl.agents.parts.context.PartHandle` (the agent's replay and encoder).

        A part that draws random numbers keeps a ``torch.Generator`` as ``self.generator``
        (e.g. from :meth:`PartContext.generator`): the agent saves and restores its state
        with its own, and its target copy shares it."""


def target_copy(module: nn.Module) -> nn.Module:
    """A frozen copy for target networks (parameters never receive gradients).

    Random generators held by the module are shared with the copy, not copied: one stream
    per part, which the agent saves (a copied generator would be saved nowhere)."""
    generators = {
        id(value): value
        for sub in module.modules()
        for value in vars(sub).values()
        if isinstance(value, torch.Generator)
    }
    target = copy.deepcopy(module, memo=dict(generators))
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
    """Call every part's ``extra_update`` (after each gradient step) with ``batch.features``
    detached, and prefix its stats with the slot name."""
    features = getattr(batch, "features", None)
    if isinstance(features, torch.Tensor):
        batch.features = features.detach()
    elif isinstance(features, dict):
        batch.features = {k: v.detach() for k, v in features.items()}
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
