"""A diffusion actor over action probabilities, for discrete SAC: together, D2SAC (Du et
al., AGOD / D2SAC for network optimisation).

The denoising chain, conditioned on the state, produces a vector x; the policy is
softmax(``logit_scale`` tanh(x)). The chain predicts the clean sample (x0) and is not
clipped: with noise prediction and a clip at every step, the chain's first steps amplified
the denoiser's output past the clip, every logit saturated (measured: all 36 of the case
study's discrete actions at +1 after 2,000 env steps, both seeds), the policy was uniform,
the greedy action always index 0, and no gradient passed the clip to learn from. tanh
bounds the logits as the clip did, with a gradient everywhere.

Discrete SAC needs only the log-probabilities of every action, which this gives exactly (no
log-probability of a continuous chain is needed), and its losses back-propagate through the
chain. Exploring and in the losses the chain samples (DDPM, noise from the algorithm's
generator); greedy, it runs DDIM from zero noise, so the greedy action is a deterministic
function of the state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F

from gaidrl.agents.parts import Actor, ActorOutput, ActorSupport, categorical_sample
from gaidrl.agents.parts.context import PartContext
from gaidrl.agents.parts.spaces import IncompatiblePartError
from gaidrl.enhance.diffusion_actor import denoise
from gaidrl.generative.diffusion import ConditionalDiffusion


class DiffusionCategoricalActor(Actor):
    """Discrete actions from state-conditioned denoised logits."""

    supports = ActorSupport(frozenset({"discrete"}), differentiable=False, log_prob=True)

    def __init__(
        self,
        feature_dim: int,
        n_actions: int,
        n_steps: int = 5,
        schedule: str = "vp",
        hidden: Sequence[int] = (256, 256),
        logit_scale: float = 5.0,
        activation: str = "mish",
    ) -> None:
        super().__init__()
        if not logit_scale > 0:
            raise ValueError(f"logit_scale must be > 0, got {logit_scale!r}")
        self.model = ConditionalDiffusion(
            n_actions, feature_dim, n_steps=n_steps, schedule=schedule, prediction="x0",
            clip=None, hidden=tuple(hidden), activation=activation,
        )  # fmt: skip
        self.logit_scale = float(logit_scale)

    def log_probs(
        self,
        features: Any,
        *,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """(batch, n_actions) log-probabilities of one pass of the chain."""
        x = denoise(self.model, features, deterministic, generator)
        return F.log_softmax(self.logit_scale * torch.tanh(x), dim=-1)

    def forward(
        self,
        features: Any,
        *,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> ActorOutput:
        logp = self.log_probs(features, deterministic=deterministic, generator=generator)
        action = categorical_sample(logp, deterministic, generator)
        return ActorOutput(action, logp.gather(-1, action[:, None]).squeeze(-1))


def build(
    context: PartContext,
    n_steps: int = 5,
    schedule: str = "vp",
    hidden: Sequence[int] | None = None,
    logit_scale: float = 5.0,
    activation: str = "mish",
) -> DiffusionCategoricalActor:
    """``parts.actor.name: diffusion_categorical`` (with ``algo.name: sac_discrete``: D2SAC)."""
    if context.num_choices == 0 or context.box_dim != 0:
        raise IncompatiblePartError(
            "the diffusion categorical actor chooses among Discrete actions; the action space "
            f"is {context.action_space}. For Box actions use parts.actor.name: diffusion"
        )
    return DiffusionCategoricalActor(
        context.features("diffusion categorical actor"), context.num_choices, n_steps=n_steps,
        schedule=schedule, hidden=context.widths(hidden), logit_scale=logit_scale,
        activation=activation,
    )  # fmt: skip
