"""Pluggable parts of an algorithm: encoder, actor, critic, replay source.

An algorithm receives its parts through its constructor and speaks to them only through the
small interfaces below, so a generative part (diffusion actor, Transformer actor, VAE
encoder, GAN critic, generative replay, world model) plugs in without touching the
algorithm file. The seams:

* every part is a :class:`Part` (an ``nn.Module``) and may own extra parameters with their
  own optimizers (:meth:`Part.optimizers`: those parameters are kept out of the algorithm's
  optimizer), add a loss term to the loss of the optimizer that trains it
  (:meth:`Part.auxiliary_loss`), run its own step after every gradient step
  (:meth:`Part.extra_update`, with ``batch.features`` detached), keep non-parameter state
  (:meth:`Part.part_state`) and a random generator of its own (``self.generator``, shared
  with its target copy), and reach the agent's replay and encoder through a narrow handle
  (:meth:`Part.attach` gets a :class:`~gaidrl.agents.parts.context.PartHandle`, never the
  agent). All of it goes into ``Agent.training_state()``.
* parts are built from a run config by short names (``parts.actor.name: deterministic``,
  :mod:`gaidrl.agents.parts.builders`) or import paths; a builder gets a
  :class:`~gaidrl.agents.parts.context.PartContext` (spaces, the encoder's feature size,
  ``num_envs``, device, the algorithm's settings, a seed for its generator).
* an :class:`Encoder` turns observations (arrays, or dicts such as tokens + mask) into what
  actor and critic read: usually a flat feature vector (``feature_dim``), or the observation
  itself (:class:`PassThroughEncoder`) for an actor that reads a dict directly.
* an :class:`Actor` declares what it :attr:`~Actor.supports` (action kinds, differentiable
  action, tractable log-probability); actions are *normalised*: in [-1, 1] for Box
  dimensions, indices for Discrete, ``(index, box)`` for Tuple(Discrete, Box).
* a critic declares what it ``estimates`` (Q(s, a) heads, Q(s, .), V(s)); a Q critic returns
  one value per head (twin critics: ``num_q=2``) and owns its regression loss
  (:meth:`QCritic.td_loss`), so a GAN critic can replace the TD error with its own.
* a replay source is anything with ``add``/``sample``/``__len__``/``state``/``load_state``
  (:class:`ReplaySource`); :class:`gaidrl.data.replay.ReplayBuffer` is the default.

:func:`check_actor`, :func:`check_critic` and :func:`action_kind` refuse impossible
combinations with a message that says what is unsupported and what would work; the errors are
``ValueError`` so the registry can show them as config errors.
"""

from gaidrl.agents.parts.actors import (
    Actor,
    ActorOutput,
    ActorSupport,
    CategoricalActor,
    DeterministicActor,
    GaussianActor,
    HybridActor,
    categorical_sample,
    check_actor,
)
from gaidrl.agents.parts.core import (
    Part,
    add_aux_losses,
    first_q,
    main_parameters,
    mlp,
    run_extra_updates,
    soft_update,
    target_copy,
)
from gaidrl.agents.parts.critics import (
    CRITIC_KINDS,
    DiscreteQCritic,
    DiscreteQHeads,
    QCritic,
    VCritic,
    check_critic,
)
from gaidrl.agents.parts.encoders import (
    Encoder,
    FlattenEncoder,
    MLPEncoder,
    PassThroughEncoder,
    flat_features,
)
from gaidrl.agents.parts.replay import ReplaySource
from gaidrl.agents.parts.spaces import (
    ActionKind,
    IncompatiblePartError,
    action_kind,
    box_dim,
    num_choices,
    require_kind,
)

__all__ = [
    "CRITIC_KINDS", "ActionKind", "Actor", "ActorOutput", "ActorSupport", "CategoricalActor",
    "DeterministicActor", "DiscreteQCritic", "DiscreteQHeads", "Encoder", "FlattenEncoder",
    "GaussianActor", "HybridActor", "IncompatiblePartError", "MLPEncoder", "Part",
    "PassThroughEncoder", "QCritic", "ReplaySource", "VCritic", "action_kind", "add_aux_losses",
    "box_dim", "categorical_sample", "check_actor", "check_critic", "first_q", "flat_features",
    "main_parameters", "mlp", "num_choices", "require_kind", "run_extra_updates", "soft_update",
    "target_copy",
]  # fmt: skip
