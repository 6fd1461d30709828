"""Small helpers over batched vector-env data (observations may be arrays or dicts of arrays)."""

from __future__ import annotations

from typing import Any

import numpy as np


def true_next_obs(next_obs: Any, info: dict[str, Any]) -> Any:
    """``next_obs`` with the true last observation put back for sub-envs that just ended.

    With same-step autoreset the vector env returns the first observation of the next episode;
    the last one of the ended episode is in ``info["final_obs"]`` (mask ``_final_obs``). The
    native case-study env gives it batched; ``SyncVectorEnv`` gives an object array of
    per-env observations.
    """
    mask = info.get("_final_obs")
    if mask is None or not np.any(mask):
        return next_obs
    final = info["final_obs"]
    ended = np.flatnonzero(mask)
    if isinstance(next_obs, dict):
        out = {k: v.copy() for k, v in next_obs.items()}
        for key in out:
            for i in ended:
                out[key][i] = final[i][key] if _per_env(final) else final[key][i]
        return out
    out = next_obs.copy()
    for i in ended:
        out[i] = final[i]
    return out


def _per_env(final: Any) -> bool:
    return isinstance(final, np.ndarray) and final.dtype == object


def scalar_metrics(info: dict[str, Any], num_envs: int) -> dict[str, np.ndarray]:
    """Per-sub-env numeric metrics of ``info`` (shape (num_envs,)), e.g. the case study's
    ``sum_rate``, ``fairness``, ``bs_power_fraction``; masks and final_* entries are left out.

    A sub-env that just ended reports its last step's values: with same-step autoreset,
    ``SyncVectorEnv`` moves them to ``info["final_info"]`` and leaves the reset's info in
    their place (so e.g. "fell into a pit" would read 0 on the very step it happened)."""
    out = _numeric(info, num_envs)
    final = info.get("final_info")
    if isinstance(final, dict):
        for key, value in _numeric(final, num_envs).items():
            mask = np.asarray(final.get(f"_{key}", np.ones(num_envs, bool)), bool)
            out[key] = np.where(mask, value, out.get(key, value))
    return out


def _numeric(info: dict[str, Any], num_envs: int) -> dict[str, np.ndarray]:
    out = {}
    for key, value in info.items():
        if key.startswith("_") or key.startswith("final_"):
            continue
        numeric = isinstance(value, np.ndarray) and value.dtype.kind in "biuf"
        if numeric and value.shape == (num_envs,):
            out[key] = value.astype(np.float64)
    return out


def index_obs(obs: Any, i: int) -> Any:
    """Observation of sub-env ``i``."""
    if isinstance(obs, dict):
        return {k: v[i] for k, v in obs.items()}
    return obs[i]
