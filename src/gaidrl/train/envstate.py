"""Capture and restore the complete state of a training vector env, for exact resume.

Three cases, tried in this order:

* an env with ``get_state()`` / ``set_state(state)`` methods: it knows best;
* the native case-study vector env: its whole state lives in ``env.sim`` (numpy arrays, the
  last slot's metrics and one ``np.random.Generator`` per sub-env), all saved;
* a Gymnasium ``SyncVectorEnv`` (what ``gym.make_vec(..., "sync")`` builds): every *plain*
  attribute (numbers, strings, numpy arrays, ``np.random.Generator`` states, and lists,
  tuples, dicts of these) of the vector env and of every wrapper layer of every sub-env is
  saved. That is the full dynamic state of classic-control envs (CartPole, Pendulum,
  MountainCar, Acrobot) behind the standard wrappers. Envs whose state lives in other
  objects (a Box2D world, a MuJoCo model) are NOT captured exactly: :func:`capture_env_state`
  lists the attributes it skipped so the caller can warn.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from gaidrl.train.seeding import generator_state, set_generator_state

_RNG = "__rng__"
# Attributes that are configuration, code or caches, never dynamic state worth restoring.
_SKIP = {"env", "envs", "env_fns", "spec", "metadata", "_saved_kwargs", "_cached_spec",
         "action_space", "observation_space", "single_action_space",
         "single_observation_space", "_action_space", "_observation_space", "_metadata",
         "screen", "clock", "render_mode", "autoreset_mode"}  # fmt: skip


def capture_env_state(env: Any) -> dict[str, Any]:
    """Everything needed to continue ``env`` exactly where it is, as plain data."""
    if callable(getattr(env, "get_state", None)) and callable(getattr(env, "set_state", None)):
        return {"kind": "custom", "state": env.get_state()}
    sim = getattr(env, "sim", None)
    if sim is not None and hasattr(sim, "rngs"):
        return {"kind": "nearfar", "state": _capture_sim(env)}
    if hasattr(env, "envs"):
        layers, skipped = [], []
        for i, sub in enumerate(env.envs):
            for depth, layer in enumerate(_layers(sub)):
                state, missed = _plain_attributes(layer)
                layers.append(state)
                skipped += [f"envs[{i}].{depth}:{type(layer).__name__}.{name}" for name in missed]
        vector, missed = _plain_attributes(env)
        skipped += [f"vector.{name}" for name in missed]
        return {"kind": "sync", "vector": vector, "layers": layers, "skipped": skipped}
    return {"kind": "unsupported", "type": type(env).__name__}


def restore_env_state(env: Any, state: dict[str, Any]) -> None:
    """Put ``env`` (built from the same config) back into a captured state."""
    kind = state["kind"]
    if kind == "custom":
        env.set_state(state["state"])
    elif kind == "nearfar":
        _restore_sim(env, state["state"])
    elif kind == "sync":
        layers = [layer for sub in env.envs for layer in _layers(sub)]
        if len(layers) != len(state["layers"]):
            raise ValueError("saved env state has a different wrapper stack than this env")
        for layer, saved in zip(layers, state["layers"], strict=True):
            _set_attributes(layer, saved)
        _set_attributes(env, state["vector"])
    else:
        raise ValueError(f"env of type {state.get('type')} has no restorable state")


def skipped_attributes(state: dict[str, Any]) -> list[str]:
    """Attributes a capture could not save (empty when the capture is complete)."""
    if state["kind"] == "unsupported":
        return ["<whole env>"]
    return list(state.get("skipped", []))


# ------------------------------------------------------------------ case-study simulator
def _capture_sim(env: Any) -> dict[str, Any]:
    sim = env.sim
    arrays = {k: v.copy() for k, v in vars(sim).items() if isinstance(v, np.ndarray)}
    metrics = sim.last_metrics
    return {
        "arrays": arrays,
        "last_metrics": None if metrics is None else {
            f.name: np.array(getattr(metrics, f.name)) for f in dataclasses.fields(metrics)
        },
        "rngs": [generator_state(rng) for rng in sim.rngs],
        "started": bool(getattr(env, "_started", True)),
    }  # fmt: skip


def _restore_sim(env: Any, state: dict[str, Any]) -> None:
    sim = env.sim
    for name, value in state["arrays"].items():
        current = getattr(sim, name, None)
        if not isinstance(current, np.ndarray) or current.shape != value.shape:
            raise ValueError(f"saved env state does not fit this env (sim.{name} differs)")
        setattr(sim, name, value.copy())
    if state["last_metrics"] is not None:
        cls = type(sim.last_metrics) if sim.last_metrics is not None else _slot_metrics_class()
        sim.last_metrics = cls(**{k: v.copy() for k, v in state["last_metrics"].items()})
    if len(state["rngs"]) != len(sim.rngs):
        raise ValueError("saved env state has a different number of sub-envs")
    for rng, saved in zip(sim.rngs, state["rngs"], strict=True):
        set_generator_state(rng, saved)
    if hasattr(env, "_started"):
        env._started = state["started"]


def _slot_metrics_class() -> type:
    from gaidrl.envs.simulator import SlotMetrics

    return SlotMetrics


# ------------------------------------------------------------------ generic Gymnasium envs
def _layers(env: Any) -> list[Any]:
    out = [env]
    while hasattr(out[-1], "env") and out[-1].env is not out[-1]:
        out.append(out[-1].env)
    return out


def _plain_attributes(obj: Any) -> tuple[dict[str, Any], list[str]]:
    saved, skipped = {}, []
    for name, value in vars(obj).items():
        if name in _SKIP:
            continue
        if isinstance(value, np.random.Generator):
            saved[name] = {_RNG: generator_state(value)}
        elif _is_plain(value):
            saved[name] = _copy_plain(value)
        else:
            skipped.append(name)
    return saved, skipped


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, np.generic)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biufc"
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def _copy_plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [_copy_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy_plain(v) for k, v in value.items()}
    return value


def _set_attributes(obj: Any, saved: dict[str, Any]) -> None:
    for name, value in saved.items():
        if isinstance(value, dict) and set(value) == {_RNG}:
            rng = getattr(obj, name, None)
            if not isinstance(rng, np.random.Generator):
                rng = np.random.Generator(getattr(np.random, value[_RNG]["bit_generator"])())
            set_generator_state(rng, value[_RNG])
            setattr(obj, name, rng)
        else:
            setattr(obj, name, _copy_plain(value))
