"""A diffusion (GDM) actor: the policy is the end of a denoising chain conditioned on the
state (Diffusion-QL, Wang et al. 2023; the paper's GDM-enhanced TD3).

Why it fits TD3 and DDPG unchanged: the chain is differentiable end to end, so the critic's
gradient reaches the denoiser through every step (the simple route of Diffusion-QL), and the
algorithm needs nothing but a differentiable action. It has no tractable log-probability, so
SAC and PPO refuse it (their checks say so).

* Acting while exploring and in the algorithm's losses: ancestral DDPM sampling (fresh
  noise from the algorithm's generator), the stochastic policy of Diffusion-QL; or, with
  ``sampler: ddim``, DDIM (eta = 0) from a random start, stochastic through that start only.
  ``sampler_steps`` runs either on fewer, evenly strided steps than the model was trained
  with: a shorter chain to act with and to back-propagate through.
* Greedy acting (evaluation): DDIM from zero initial noise (eta = 0), so the greedy action is
  a deterministic function of the state and evaluations repeat exactly; on ``greedy_steps``
  steps, by default ``sampler_steps``.
* ``bc_weight`` > 0 adds the denoising loss on replayed actions to the actor's loss
  (Diffusion-QL's behaviour-cloning term, which keeps the policy near the data); its noise
  comes from the actor's own generator, saved with the agent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from gaidrl.agents.parts import Actor, ActorOutput, ActorSupport
from gaidrl.agents.parts.context import PartContext
from gaidrl.generative.diffusion import SAMPLERS, ConditionalDiffusion
from gaidrl.generative.layers import check_choice


def denoise(
    model: ConditionalDiffusion,
    features: torch.Tensor,
    deterministic: bool,
    generator: torch.Generator | None,
    greedy_steps: int | None = None,
    sampler: str = "ddpm",
    steps: int | None = None,
) -> torch.Tensor:
    """The chain's output given the state, (batch, data_dim): greedy, DDIM from zero noise
    on ``greedy_steps`` steps (a deterministic function of the state); otherwise ``sampler``
    on ``steps`` steps drawing from ``generator``. Both differentiable."""
    if deterministic:
        start = features.new_zeros((features.shape[0], model.data_dim))
        return model.sample(features, sampler="ddim", steps=greedy_steps, initial_noise=start)
    return model.sample(features, generator=generator, sampler=sampler, steps=steps)


class DiffusionActor(Actor):
    """Normalised Box actions in [-1, 1] from a state-conditioned denoising chain."""

    supports = ActorSupport(frozenset({"box"}), differentiable=True, log_prob=False)

    def __init__(
        self,
        feature_dim: int,
        action_dim: int,
        n_steps: int = 5,
        schedule: str = "vp",
        hidden: Sequence[int] = (256, 256),
        bc_weight: float = 0.0,
        greedy_steps: int | None = None,
        generator: torch.Generator | None = None,
        activation: str = "mish",
        sampler: str = "ddpm",
        sampler_steps: int | None = None,
    ) -> None:
        super().__init__()
        if not bc_weight >= 0:
            raise ValueError(f"bc_weight must be >= 0, got {bc_weight!r}")
        self.model = ConditionalDiffusion(
            action_dim, feature_dim, n_steps=n_steps, schedule=schedule,
            prediction="epsilon", clip=1.0, hidden=tuple(hidden), activation=activation,
        )  # fmt: skip
        self.sampler = check_choice("sampler", sampler, SAMPLERS)
        self.sampler_steps = sampler_steps
        self.greedy_steps = sampler_steps if greedy_steps is None else greedy_steps
        for name, steps in (("sampler_steps", sampler_steps), ("greedy_steps", self.greedy_steps)):
            try:  # refused now, not when first acting
                self.model.sampling_steps(steps)
            except ValueError as err:
                raise ValueError(f"{name}: {err}") from None
        self.bc_weight = float(bc_weight)
        self.generator = generator if generator is not None else torch.Generator()

    def forward(
        self,
        features: Any,
        *,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> ActorOutput:
        # the chain's last step returns its clipped clean sample: already in [-1, 1]
        action = denoise(self.model, features, deterministic, generator, self.greedy_steps,
                         self.sampler, self.sampler_steps)  # fmt: skip
        return ActorOutput(action)

    def auxiliary_loss(self, batch: Any) -> torch.Tensor | None:
        """``bc_weight`` x the denoising loss of the replayed actions given their states."""
        if self.bc_weight == 0 or batch.features is None:
            return None
        return self.bc_weight * self.model.loss(batch.action, batch.features, self.generator)


def build(
    context: PartContext,
    n_steps: int = 5,
    schedule: str = "vp",
    hidden: Sequence[int] | None = None,
    bc_weight: float = 0.0,
    greedy_steps: int | None = None,
    activation: str = "mish",
    sampler: str = "ddpm",
    sampler_steps: int | None = None,
) -> DiffusionActor:
    """``parts.actor.name: diffusion``; the hidden widths default to the algorithm's.
    ``activation``: the denoiser's, ``mish`` (Diffusion-QL's), ``silu`` or ``relu``;
    ``sampler`` (``ddpm`` or ``ddim``) and ``sampler_steps`` (1 to ``n_steps``): the chain that
    acts and is back-propagated through; ``greedy_steps``: evaluation's DDIM chain."""
    context.require_box(
        "the diffusion actor", "For Discrete actions use parts.actor.name: diffusion_categorical "
        "with algo.name: sac_discrete (D2SAC)",
    )  # fmt: skip
    return DiffusionActor(
        context.features("diffusion actor"), context.box_dim, n_steps=n_steps,
        schedule=schedule, hidden=context.widths(hidden), bc_weight=bc_weight,
        greedy_steps=greedy_steps, generator=context.generator(), activation=activation,
        sampler=sampler, sampler_steps=sampler_steps,
    )  # fmt: skip
