"""Deterministic evaluation: an agent acts greedily on fixed, seeded episodes.

Every evaluation of a run replays the same layouts (seeds from :func:`eval_env_seeds`), so
its numbers are comparable across time and with the reference policies on the same seeds.
Per episode it reports the return, the length and the mean over the episode's steps of every
numeric metric the env puts in ``info`` (case study: sum rate, fairness, power fractions...).
Evaluation draws nothing from the global RNGs the training run uses: their states are put
back afterwards, so how often one evaluates never changes the training numbers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gaidrl.train.seeding import capture_rng_state, restore_rng_state
from gaidrl.train.vector import scalar_metrics

log = logging.getLogger(__name__)


@dataclass
class EvalResult:
    """Per-episode numbers of one evaluation: name -> array (episodes,)."""

    episodes: dict[str, np.ndarray] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for name, values in self.episodes.items():
            out[f"{name}_mean"] = float(np.mean(values))
            if name == "return":
                out["return_std"] = float(np.std(values))
        out["episodes"] = float(len(self.episodes.get("return", [])))
        return out


def evaluate(
    agent: Any,
    env: Any,
    seeds: list[int],
    max_steps: int = 100_000,
    on_step: Callable[[Any, int, np.ndarray], None] | None = None,
) -> EvalResult:
    """Run one greedy episode per seed, ``env.num_envs`` at a time.

    ``on_step(env, vector_step, ended)`` is called after every env step of the first round,
    ``ended`` marking the sub-envs whose episode just ended (rendering uses it). The global
    RNGs and the agent's own (its parts' included) are put back afterwards, so an evaluation
    with a stochastic sampler does not change the training that follows.
    """
    n = env.num_envs
    rng_state = capture_rng_state()
    agent_rng = agent.rng_state() if hasattr(agent, "rng_state") else None
    per_episode: dict[str, list[float]] = {}
    try:
        for start in range(0, len(seeds), n):
            chunk = seeds[start : start + n]
            padded = chunk + [chunk[-1] + 7_919 * (k + 1) for k in range(n - len(chunk))]
            rows = _run_round(agent, env, padded, max_steps, on_step if start == 0 else None)
            for row in rows[: len(chunk)]:
                for key, value in row.items():
                    per_episode.setdefault(key, []).append(value)
    finally:
        restore_rng_state(rng_state)
        if agent_rng is not None:
            agent.load_rng_state(agent_rng)
    return EvalResult({k: np.asarray(v) for k, v in per_episode.items()})


def _run_round(agent, env, seeds, max_steps, on_step) -> list[dict[str, float]]:
    n = env.num_envs
    obs, _ = env.reset(seed=seeds)
    active = np.ones(n, dtype=bool)
    returns, lengths = np.zeros(n), np.zeros(n, dtype=np.int64)
    sums: dict[str, np.ndarray] = {}
    for t in range(max_steps):
        with torch.no_grad():
            action = agent.act(obs, explore=False)
        obs, reward, terminated, truncated, info = env.step(action)
        if on_step is not None:
            on_step(env, t, np.asarray(terminated) | np.asarray(truncated))
        returns += np.where(active, reward, 0.0)
        lengths += active
        for key, value in scalar_metrics(info, n).items():
            sums.setdefault(key, np.zeros(n))
            sums[key] += np.where(active, value, 0.0)
        active &= ~(np.asarray(terminated) | np.asarray(truncated))
        if not active.any():
            break
    else:
        log.warning("evaluation stopped after %d steps with episodes still running", max_steps)
    rows = []
    for i in range(n):
        row = {"return": float(returns[i]), "length": float(lengths[i])}
        row |= {k: float(v[i] / max(lengths[i], 1)) for k, v in sums.items()}
        rows.append(row)
    return rows


YARDSTICKS = ("planner", "oracle")  # the references an agent is read against, in percent


def reference_means(
    env_id: str, env_kwargs: dict[str, Any], seeds: list[int]
) -> dict[str, dict[str, float]]:
    """Mean per-episode metrics of the case study's planner and oracle on the evaluation
    seeds: {"planner": {...}, "oracle": {...}}.

    Empty when the reference policies are not available (the caller then reports no
    percentages) or the env is not the case study.
    """
    from gaidrl.envs import ENV_ID

    if env_id != ENV_ID or not seeds:
        return {}
    try:
        from gaidrl.envs.policies import score_references
    except ImportError:
        log.info("reference policies unavailable; no percent-of-oracle in evaluations")
        return {}
    if seeds != list(range(seeds[0], seeds[0] + len(seeds))):
        raise ValueError("reference policies need consecutive seeds")
    scores = score_references(env_kwargs, seeds[0], len(seeds), YARDSTICKS)
    return {
        name: {metric: float(np.mean(values)) for metric, values in per_episode.items()}
        for name, per_episode in scores.items()
    }


def percent_of_references(
    summary: dict[str, float], references: dict[str, dict[str, float]]
) -> dict[str, float]:
    """The agent's mean reward per step and sum rate as percentages of each reference's
    (``percent_of_oracle_reward``, ``percent_of_planner_sum_rate``, ...), and the
    references' own figures (``oracle_reward_per_step``, ``planner_sum_rate``, ...).

    The references maximise the reward, so only the reward percentages are read against an
    upper bound; on sum rate a policy that gives up fairness may exceed 100 %.
    """
    out: dict[str, float] = {}
    per_step = None  # case-study episodes all have the same length, so this is their mean
    if summary.get("length_mean", 0.0) > 0 and "return_mean" in summary:
        per_step = summary["return_mean"] / summary["length_mean"]
    agent = {"reward": per_step, "sum_rate": summary.get("sum_rate_mean")}
    for name, means in references.items():
        for metric, value in agent.items():
            if value is not None and means.get(metric, 0.0) > 0:
                out[f"percent_of_{name}_{metric}"] = 100.0 * value / means[metric]
        # the references' numbers are means over slots; their reward is per step
        out |= {f"{name}_{'reward_per_step' if k == 'reward' else k}": v for k, v in means.items()}
    return out
