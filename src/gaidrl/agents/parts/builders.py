"""Builders of the built-in parts, by the short names a run config uses (``parts.SLOT.name``).

Each takes the :class:`PartContext` and the part's ``params``; defaults follow the
algorithm's own settings (``hidden``, ``n_critics``), so naming a part with no params builds
what the algorithm would have built itself.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from gaidrl.agents.parts.actors import (
    CategoricalActor,
    DeterministicActor,
    GaussianActor,
    HybridActor,
)
from gaidrl.agents.parts.context import PartContext
from gaidrl.agents.parts.critics import DiscreteQCritic, DiscreteQHeads, QCritic, VCritic
from gaidrl.agents.parts.encoders import FlattenEncoder, MLPEncoder, PassThroughEncoder
from gaidrl.agents.parts.spaces import IncompatiblePartError


# ---------------------------------------------------------------------------- encoders
def flatten_encoder(context: PartContext) -> FlattenEncoder:
    """Flatten a Box observation (or concatenate a Dict's entries): no parameters."""
    return FlattenEncoder(context.observation_space)


def identity_encoder(context: PartContext) -> PassThroughEncoder:
    """Hand the observation on unchanged, to an actor and critic that read it themselves
    (e.g. the Transformer actor and critic over the case study's tokens)."""
    return PassThroughEncoder()


def mlp_encoder(
    context: PartContext, features: int = 128, hidden: Sequence[int] = (256,)
) -> MLPEncoder:
    """Flatten, then an MLP with an activated output of ``features`` features."""
    return MLPEncoder(context.observation_space, features, tuple(hidden))


# ---------------------------------------------------------------------------- actors
DISCRETE_ACTORS = (
    "For Discrete actions use parts.actor.name: categorical (or "
    "diffusion_categorical with sac_discrete), hybrid for Tuple(Discrete, Box)"
)
DISCRETE_CRITICS = "For Discrete actions use parts.critic.name: discrete_q or discrete_q_heads"
BOX_ACTORS = "For Box actions use parts.actor.name: deterministic, gaussian or diffusion"
BOX_CRITICS = "For Box actions use parts.critic.name: q, gan or quantile"


def deterministic_actor(
    context: PartContext, hidden: Sequence[int] | None = None
) -> DeterministicActor:
    """tanh-MLP policy for Box actions (DDPG, TD3)."""
    context.require_box("the deterministic actor", DISCRETE_ACTORS)
    return DeterministicActor(context.features("actor"), context.box_dim, context.widths(hidden))


ON_POLICY = ("ppo", "hybrid_ppo")  # their Gaussian is unsquashed, with tanh layers


def gaussian_actor(
    context: PartContext,
    hidden: Sequence[int] | None = None,
    squash: bool | None = None,
    init_log_std: float | None = None,
) -> GaussianActor:
    """Diagonal Gaussian policy for Box actions: tanh-squashed for SAC, unsquashed with a
    state-independent std for PPO (the defaults follow the algorithm)."""
    context.require_box("the Gaussian actor", DISCRETE_ACTORS)
    on_policy = context.algo in ON_POLICY
    return GaussianActor(
        context.features("actor"), context.box_dim, context.widths(hidden),
        squash=(not on_policy) if squash is None else squash,
        init_log_std=context.setting("init_log_std", 0.0) if init_log_std is None else init_log_std,
        activation=nn.Tanh if on_policy else nn.ReLU,
    )  # fmt: skip


def categorical_actor(
    context: PartContext, hidden: Sequence[int] | None = None
) -> CategoricalActor:
    """Softmax policy for Discrete actions: tanh layers for PPO, ReLU for discrete SAC (the
    defaults follow the algorithm)."""
    context.require_discrete("the categorical actor", BOX_ACTORS)
    return CategoricalActor(context.features("actor"), context.num_choices, context.widths(hidden),
                            nn.Tanh if context.algo in ON_POLICY else nn.ReLU)  # fmt: skip


def hybrid_actor(
    context: PartContext, hidden: Sequence[int] | None = None, init_log_std: float = -0.5
) -> HybridActor:
    """Categorical choice plus Gaussian parameters for Tuple(Discrete, Box) (hybrid PPO)."""
    if not (context.num_choices and context.box_dim):
        raise IncompatiblePartError(
            f"the hybrid actor serves Tuple(Discrete, Box) actions; the action space is "
            f"{context.action_space}. {BOX_ACTORS}"
        )
    return HybridActor(context.features("actor"), context.num_choices, context.box_dim,
                       context.widths(hidden), init_log_std=init_log_std)  # fmt: skip


# ---------------------------------------------------------------------------- critics
def q_critic(
    context: PartContext, hidden: Sequence[int] | None = None, num_q: int | None = None
) -> QCritic:
    """Q(s, a) heads for Box actions; ``num_q`` defaults to the algorithm's ``n_critics``."""
    context.require_box("the Q(s, a) critic", DISCRETE_CRITICS)
    return QCritic(context.features("critic"), context.box_dim, context.heads(num_q),
                   context.widths(hidden))  # fmt: skip


def discrete_q_heads(
    context: PartContext, hidden: Sequence[int] | None = None, num_q: int | None = None
) -> DiscreteQHeads:
    """Several Q(s, .) heads for Discrete actions (discrete SAC's twin critics)."""
    context.require_discrete("the Q(s, .) heads", BOX_CRITICS)
    return DiscreteQHeads(context.features("critic"), context.num_choices, context.heads(num_q),
                          context.widths(hidden))  # fmt: skip


def discrete_q_critic(
    context: PartContext, hidden: Sequence[int] | None = None, dueling: bool | None = None
) -> DiscreteQCritic:
    """Q(s, .) for Discrete actions (DQN); ``dueling`` defaults to the algorithm's."""
    context.require_discrete("the Q(s, .) critic", BOX_CRITICS)
    duel = dueling if dueling is not None else bool(context.setting("dueling", False))
    return DiscreteQCritic(context.features("critic"), context.num_choices,
                           context.widths(hidden), dueling=duel)  # fmt: skip


def v_critic(context: PartContext, hidden: Sequence[int] | None = None) -> VCritic:
    """V(s) (PPO's baseline)."""
    return VCritic(context.features("critic"), context.widths(hidden))


# ---------------------------------------------------------------------------- the defaults
DEFAULT_ACTORS: dict[str, str | None] = {
    "td3": "deterministic", "ddpg": "deterministic", "sac": "gaussian", "ppo": None,
    "sac_discrete": "categorical", "hybrid_ppo": "hybrid",
}  # fmt: skip
"""Algorithm -> the MLP actor it builds by default (PPO's follows the action space)."""
DEFAULT_CRITICS: dict[str, str] = {
    "td3": "q", "ddpg": "q", "sac": "q", "dqn": "discrete_q",
    "sac_discrete": "discrete_q_heads", "ppo": "v", "hybrid_ppo": "v",
}  # fmt: skip
"""Algorithm -> the MLP critic it builds by default."""


def default_builder(slot: str, context: PartContext, who: str):
    """The builder of the MLP actor or critic the algorithm would build itself, or an error
    naming the algorithms that have one (``who``: the part asking)."""
    table = DEFAULT_ACTORS if slot == "actor" else DEFAULT_CRITICS
    if context.algo not in table:
        raise IncompatiblePartError(
            f"{who} stands for the MLP {slot} of its algorithm; {context.algo!r} has none "
            f"here, allowed: {', '.join(sorted(table))}"
        )
    name = table[context.algo]
    if name is None:  # PPO: by the action space
        name = "categorical" if context.num_choices and not context.box_dim else "gaussian"
    return BUILDERS[slot][name]


def mlp_actor(context: PartContext, hidden: Sequence[int] | None = None):
    """The algorithm's own MLP actor (deterministic for TD3/DDPG, Gaussian for SAC/PPO,
    categorical for discrete SAC/PPO, hybrid for hybrid PPO), with ``hidden`` widths."""
    return default_builder("actor", context, "the mlp actor")(context, hidden=hidden)


def mlp_critic(context: PartContext, hidden: Sequence[int] | None = None):
    """The algorithm's own MLP critic (Q(s, a) heads, Q(s, .) or V(s)), with ``hidden``
    widths; its other settings (heads, dueling) follow the algorithm's."""
    return default_builder("critic", context, "the mlp critic")(context, hidden=hidden)


# ---------------------------------------------------------------------------- replay
def uniform_replay(context: PartContext):
    """The default buffer itself (uniform sampling). A replay builder returns a factory
    ``factory(default_buffer) -> ReplaySource``: the agent builds its seeded default buffer
    and hands it over, so a replay part wraps it instead of replacing it."""
    return _unchanged


def _unchanged(buffer):
    return buffer


BUILDERS = {
    "actor": {"deterministic": deterministic_actor, "gaussian": gaussian_actor,
              "categorical": categorical_actor, "hybrid": hybrid_actor},
    "critic": {"q": q_critic, "discrete_q": discrete_q_critic,
               "discrete_q_heads": discrete_q_heads, "v": v_critic},
}  # fmt: skip
"""The MLP actors and critics by name, for :func:`default_builder`."""
MODULE = "gaidrl.agents.parts.builders"
BUILT_IN: dict[str, dict[str, str]] = {
    "encoder": {
        "flatten": f"{MODULE}:flatten_encoder",
        "identity": f"{MODULE}:identity_encoder",
        "mlp": f"{MODULE}:mlp_encoder",
        "transformer": "gaidrl.enhance.transformer_encoder:build",
        "vae": "gaidrl.enhance.vae_encoder:build",
    },
    "actor": {
        "mlp": f"{MODULE}:mlp_actor",
        "deterministic": f"{MODULE}:deterministic_actor",
        "gaussian": f"{MODULE}:gaussian_actor",
        "categorical": f"{MODULE}:categorical_actor",
        "hybrid": f"{MODULE}:hybrid_actor",
        "diffusion": "gaidrl.enhance.diffusion_actor:build",
        "diffusion_categorical": "gaidrl.enhance.diffusion_categorical_actor:build",
        "transformer": "gaidrl.enhance.transformer_parts:build_actor",
    },
    "critic": {
        "mlp": f"{MODULE}:mlp_critic",
        "q": f"{MODULE}:q_critic",
        "discrete_q": f"{MODULE}:discrete_q_critic",
        "discrete_q_heads": f"{MODULE}:discrete_q_heads",
        "v": f"{MODULE}:v_critic",
        "gan": "gaidrl.enhance.gan_critic:build",
        "quantile": "gaidrl.enhance.quantile_critic:build",
        "transformer": "gaidrl.enhance.transformer_parts:build_critic",
    },
    "latent_action": {"hyar": "gaidrl.enhance.hyar:build"},
    "replay": {
        "uniform": f"{MODULE}:uniform_replay",
        "generative": "gaidrl.enhance.generative_replay:build",
        "world_model": "gaidrl.enhance.world_model:build",
    },
}
"""slot -> short name -> ``module:callable``; the registry starts from this table."""
