"""Names in a run config -> the things they build: algorithms, envs and parts.

An algorithm or part name is either a registered short name (``td3``, ``sac``...) or an
import path ``package.module:Name``, so a user's own class plugs in without editing this
file. Imports are lazy: naming ``td3`` imports only ``gaidrl.agents.td3``.

Combinations the algorithm cannot handle (a discrete action space for TD3, a part without a
log-probability for SAC...) are refused by the algorithm's own checks; this module turns
them into one-line :class:`ConfigError` messages that say which key to change.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from typing import Any

import gymnasium as gym
import torch
from pydantic import TypeAdapter, ValidationError

from gaidrl.experiments.config import ConfigError, EnvConfig, RunConfig

CASE_STUDY_ID = "gaidrl/UAVNearFar-v0"

# short name -> (module, preferred class names). The module's Agent subclass is used.
ALGORITHMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "td3": ("gaidrl.agents.td3", ("TD3",)),
    "ddpg": ("gaidrl.agents.ddpg", ("DDPG",)),
    "sac": ("gaidrl.agents.sac", ("SAC",)),
    "sac_discrete": ("gaidrl.agents.sac_discrete", ("DiscreteSAC",)),
    "ppo": ("gaidrl.agents.ppo", ("PPO",)),
    "dqn": ("gaidrl.agents.dqn", ("DQN",)),
    "hybrid_ppo": ("gaidrl.agents.hybrid", ("HybridPPO",)),
}
RENAMED_ALGORITHMS = {"hybrid": "hybrid_ppo"}  # old name -> new name

# slot -> short name -> "module:callable" of a part builder (the built-in parts first).
PARTS: dict[str, dict[str, str]] = {}

AGENT_METHODS = ("act", "record", "ready_to_update", "update", "training_state",
                 "load_training_state")  # fmt: skip


def register_algorithm(name: str, target: str | type) -> None:
    """Make ``name`` usable as ``algo.name`` (target: a class or 'module:Class')."""
    _CUSTOM_ALGOS[name] = target


def register_part(slot: str, name: str, target: str) -> None:
    """Make ``name`` usable as ``parts.<slot>.name`` (target: 'module:callable')."""
    PARTS.setdefault(slot, {})[name] = target


def _register_built_in_parts() -> None:
    from gaidrl.agents.parts.builders import BUILT_IN

    for slot, names in BUILT_IN.items():
        for name, target in names.items():
            register_part(slot, name, target)


_CUSTOM_ALGOS: dict[str, str | type] = {}


def algorithm_names() -> list[str]:
    return sorted(set(ALGORITHMS) | set(_CUSTOM_ALGOS))


# ------------------------------------------------------------------ algorithms
def algorithm_class(name: str) -> type:
    """The class behind ``algo.name``; a clear error if it is unknown or not importable."""
    if name in _CUSTOM_ALGOS:
        target = _CUSTOM_ALGOS[name]
        return target if isinstance(target, type) else _import_path(target, "algo.name")
    if ":" in name:
        cls = _import_path(name, "algo.name")
        _check_agent_class(cls, name)
        return cls
    if name in RENAMED_ALGORITHMS:
        raise ConfigError(
            f"bad value for 'algo.name': {name!r} was renamed {RENAMED_ALGORITHMS[name]!r}"
        )
    if name not in ALGORITHMS:
        raise ConfigError(
            f"bad value for 'algo.name': unknown algorithm {name!r}; allowed: "
            f"{', '.join(algorithm_names())} or an import path 'package.module:Class'"
        )
    module_name, preferred = ALGORITHMS[name]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            raise ConfigError(
                f"algorithm {name!r} is not available in this gaidrl ({module_name} is missing)"
            ) from None
        raise
    for cls_name in preferred:
        if isinstance(getattr(module, cls_name, None), type):
            return getattr(module, cls_name)
    found = [
        obj for obj in vars(module).values()
        if isinstance(obj, type) and obj.__module__ == module_name
        and all(hasattr(obj, m) for m in AGENT_METHODS) and not inspect.isabstract(obj)
    ]  # fmt: skip
    if len(found) != 1:
        raise ConfigError(f"cannot tell which class of {module_name} is the {name!r} agent")
    return found[0]


def _check_agent_class(cls: Any, name: str) -> None:
    missing = [m for m in AGENT_METHODS if not hasattr(cls, m)]
    if not isinstance(cls, type) or missing:
        raise ConfigError(
            f"bad value for 'algo.name': {name} is not an agent class "
            f"(missing {', '.join(missing) or 'a class'}); see docs/agent_contract.md"
        )


def _import_path(path: str, key: str) -> Any:
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(f"bad value for '{key}': cannot import {module_name} ({err})") from None
    if not hasattr(module, attr):
        raise ConfigError(f"bad value for '{key}': {module_name} has no attribute {attr!r}")
    return getattr(module, attr)


def check_params(target: Any, params: dict[str, Any], key: str, reserved: set[str]) -> None:
    """Refuse keys the constructor does not take, naming the allowed ones."""
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
        return
    allowed = sorted(
        n for n, p in sig.parameters.items()
        if n not in reserved and n != "self"
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    )  # fmt: skip
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown key '{key}.{unknown[0]}'; allowed keys here: {', '.join(allowed) or 'none'}"
        )
    taken = sorted(set(params) & reserved)
    if taken:
        raise ConfigError(f"'{key}.{taken[0]}' is set by the trainer, not in the config")


# ------------------------------------------------------------------ envs
def make_env(env: EnvConfig, num_envs: int | None = None, render_mode: str | None = None):
    """The vector env of a config: the case study natively, any other id via make_vec (sync).

    Every env autoresets in the same step and reports the last observation of an ended
    episode in ``info["final_obs"]`` with mask ``info["_final_obs"]``.
    """
    n = env.num_envs if num_envs is None else num_envs
    kwargs = dict(env.kwargs)
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    try:
        if env.id == CASE_STUDY_ID:
            from gaidrl.envs import UAVNearFarVectorEnv

            return UAVNearFarVectorEnv(n, **kwargs)
        return gym.make_vec(
            env.id, n, vectorization_mode="sync",
            vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP}, **kwargs,
        )  # fmt: skip
    except gym.error.Error as err:
        raise ConfigError(f"bad value for 'env.id': {err}") from None
    except (TypeError, ValueError) as err:
        raise ConfigError(f"bad value in 'env.kwargs' of {env.id}: {err}") from None


# ------------------------------------------------------------------ parts
def part_names(slot: str) -> list[str]:
    return sorted(PARTS.get(slot, {}))


def part_builder(slot: str, name: str) -> Any:
    """The builder behind ``parts.<slot>.name``: a short name of the slot or an import path."""
    key = f"parts.{slot}.name"
    target = PARTS.get(slot, {}).get(name, name)
    if ":" not in target:
        known = ", ".join(part_names(slot)) or "none built in"
        raise ConfigError(
            f"bad value for '{key}': unknown {slot} part {name!r}; allowed: {known} or an "
            "import path 'package.module:callable'"
        )
    return _import_path(target, key)


def build_parts(
    config: RunConfig, env: Any, device: torch.device, settings: Any = None
) -> dict[str, Any]:
    """Build each configured part, the encoder first so that the others get its feature size,
    then a latent action part (HyAR), whose latent space is the action space the actor and
    critic are built for (the replay keeps the env's: it stores the env's actions).

    A builder receives what it names among its parameters: ``context`` (a
    :class:`~gaidrl.agents.parts.context.PartContext`) and/or any of its fields by name
    (``observation_space``, ``action_space``, ``feature_dim``, ``device``, ``num_envs``...),
    then the part's ``params``.
    """
    from gaidrl.agents.actions import ActionCodec
    from gaidrl.agents.parts import FlattenEncoder, IncompatiblePartError
    from gaidrl.agents.parts.context import PartContext, slot_seed

    obs_space, act_space = env.single_observation_space, env.single_action_space
    order = {"encoder": 0, "latent_action": 1}
    slots = sorted(config.parts, key=lambda s: order.get(s, 2))
    parts: dict[str, Any] = {}
    feature_dim = None
    if "encoder" not in config.parts:
        try:
            feature_dim = FlattenEncoder(obs_space).feature_dim  # the algorithms' default
        except IncompatiblePartError:
            feature_dim = None
    try:
        normalized = ActionCodec(act_space).normalized_space()
    except (TypeError, ValueError):
        normalized = act_space
    policy_space = None  # the latent action space, once a latent action part is built
    for slot in slots:
        part = config.parts[slot]
        key = f"parts.{slot}"
        builder = part_builder(slot, part.name)
        acts_in_latent = policy_space is not None and slot in ("actor", "critic")
        context = PartContext(
            observation_space=obs_space, action_space=policy_space if acts_in_latent else act_space,
            normalized_action_space=policy_space if acts_in_latent else normalized,
            feature_dim=None if slot == "encoder" else feature_dim, num_envs=env.num_envs,
            device=device, algo=config.algo.name, settings=settings,
            seed=slot_seed(config.seed, slot),
        )  # fmt: skip
        offered = {"context": context} | {
            f.name: getattr(context, f.name) for f in dataclasses.fields(context)
        }
        asked = _parameter_names(builder)
        check_params(builder, part.params, f"{key}.params", set(offered))
        try:
            parts[slot] = builder(**{k: v for k, v in offered.items() if k in asked},
                                  **part.params)  # fmt: skip
        except (TypeError, ValueError) as err:
            name = _param_named(str(err), part.params)
            if name is not None:
                raise ConfigError(f"bad value for '{key}.params.{name}': {err}") from None
            raise ConfigError(f"part '{key}' ({part.name}) refused its settings: {err}") from None
        if slot == "encoder":
            feature_dim = getattr(parts[slot], "feature_dim", None)
        if slot == "latent_action":
            policy_space = getattr(parts[slot], "latent_space", None)
    return parts


def _param_named(message: str, params: dict[str, Any]) -> str | None:
    """The configured parameter a builder's error is about, when its first words name one
    ("n_steps must be...", "unknown sampler 'x'..."), so the message can give the full key."""
    return next((w for w in re.findall(r"\w+", message)[:2] if w in params), None)


def _parameter_names(target: Any) -> set[str]:
    try:
        return set(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return set()


# ------------------------------------------------------------------ agent
def resolve_device(name: str) -> torch.device:
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"bad value for 'device': {name} asked for, but torch sees no GPU; "
                          "use --device cpu")  # fmt: skip
    return torch.device(name)


def build_agent(config: RunConfig, env: Any, device: torch.device) -> Any:
    """The configured algorithm with its parts, for the spaces of ``env``."""
    cls = algorithm_class(config.algo.name)
    obs_space, act_space = env.single_observation_space, env.single_action_space
    reserved = {"observation_space", "action_space", "num_envs", "device"}
    check_params(cls, config.algo.params, "algo.params", reserved | set(config.parts))
    params = _typed_params(cls, config.algo.params)
    parts = build_parts(config, env, device, _settings(cls, params))
    unknown_slots = sorted(set(parts) - _parameter_names(cls)) if parts else []
    if unknown_slots and not _has_var_kwargs(cls):
        raise ConfigError(
            f"unknown key 'parts.{unknown_slots[0]}': {config.algo.name} takes no such part"
        )
    try:
        return cls(
            observation_space=obs_space, action_space=act_space, num_envs=env.num_envs,
            device=device, **params, **parts,
        )  # fmt: skip
    except (TypeError, ValueError, NotImplementedError) as err:
        raise ConfigError(
            f"{config.algo.name} cannot run this setup (env {config.env.id}, "
            f"action space {act_space}): {err}"
        ) from None


def _typed_params(cls: type, params: dict[str, Any]) -> dict[str, Any]:
    """Check hyper-parameter types against the algorithm's ``Config`` dataclass, if it has one
    (a YAML list becomes the tuple the dataclass wants; 'abc' for a float is refused)."""
    hp_cls = getattr(cls, "Config", None)
    if not dataclasses.is_dataclass(hp_cls):
        return dict(params)
    names = {f.name for f in dataclasses.fields(hp_cls)}
    typed = {k: v for k, v in params.items() if k in names}
    try:
        checked = TypeAdapter(hp_cls).validate_python(typed)
    except ValidationError as err:
        first = err.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ConfigError(
            f"bad value for 'algo.params.{key}': {first['msg']} (got {first.get('input')!r})"
        ) from None
    except (TypeError, ValueError) as err:  # the dataclass's own __post_init__ checks
        raise ConfigError(f"bad value in 'algo.params': {err}") from None
    return {**params, **{k: getattr(checked, k) for k in typed}}


def _settings(cls: type, params: dict[str, Any]) -> Any:
    """The algorithm's hyper-parameter dataclass for these params (None without one)."""
    hp_cls = getattr(cls, "Config", None)
    if not dataclasses.is_dataclass(hp_cls):
        return None
    names = {f.name for f in dataclasses.fields(hp_cls)}
    return hp_cls(**{k: v for k, v in params.items() if k in names})


def _has_var_kwargs(target: Any) -> bool:
    try:
        params = inspect.signature(target).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind is p.VAR_KEYWORD for p in params)


_register_built_in_parts()
