"""Gymnasium envs of the UAV-assisted near-field/far-field case study (DESIGN.md section 3).

A base station with an extremely large linear array (N = 256 elements at 28 GHz, Rayleigh
distance about 350 m) serves K_near users inside the Rayleigh distance directly with
beamfocusing, and one more beam to a UAV relay that decodes and forwards to K_far users
beyond it on its own band, split into orthogonal sub-bands.

* Channel: exact spherical wave per element, h_n = sqrt(beta0) / r_n exp(-j 2 pi r_n / lambda),
  beta0 = (lambda / 4 pi)^2; matched-filter beams w_k = h_k / |h_k| on the full band B.
* SINR_k = p_k |h_k^H w_k|^2 / (sum_{j != k} p_j |h_k^H w_j|^2 + sigma^2), the UAV being one
  more beam; sigma^2 = -174 dBm/Hz + 10 log10(B) + NF.
* UAV -> far user k: gain beta0 / d_k^2 (optionally the expected probabilistic-LoS gain),
  sub-band B_UAV / K_far, rate log2(1 + p_k g_k K_far / sigma_UAV^2) / K_far. Decode and
  forward: far rates are scaled down together when their sum exceeds the BS -> UAV rate.
* Rates are bit/s/Hz of the BS band B (far rates are multiplied by B_UAV / B).
* Reward, bounded in [-w_boundary, 1]:
  tanh(U / U(rate_ref)) (1 - w_power P) - w_boundary V, where U is the mean alpha-fair
  utility of the active users' rates, U(R) = ((1 + R)^(1 - alpha) - 1) / (1 - alpha)
  (log(1 + R) at the default alpha = 1, proportional fairness; alpha = 0 is the mean rate),
  P the mean of the BS and UAV power fractions used, and V the distance by which the UAV's
  commanded flight left the area over one slot's longest flight, capped at 1 (the UAV is
  stopped at the border). It never falls when one user's rate rises (the others fixed), and
  silence (no rate for anyone) scores 0, below any service: U(0) = 0 and power costs only a
  share (w_power < 1) of what it buys. Jain's index is reported, not rewarded (all-zero rates
  have index 1).
* Episodes: ``episode_length`` slots of ``slot_s`` seconds, then truncated (never terminated).

``info`` holds, every step: ``rates`` (near users, then far users), ``near_rates``,
``far_rates``, ``relay_rate``, ``sum_rate``, ``mean_rate``, ``fairness`` (Jain's index),
``utility`` (the reward's U), ``bs_power_w``,
``uav_power_w``, ``bs_power_fraction``, ``uav_power_fraction``, ``boundary_violation_m``,
``backhaul_shortfall``, ``uav_position``, ``user_mask``.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from gaidrl.envs.actions import ActionDecoder
from gaidrl.envs.config import ACTION_MODES, OBS_MODES, UAVNearFarConfig, make_config
from gaidrl.envs.observations import ObservationBuilder
from gaidrl.envs.simulator import NearFarSimulator, SlotMetrics, SlotPlan

ENV_ID = "gaidrl/UAVNearFar-v0"
RENDER_MODES = ["rgb_array", "human"]


def _check_modes(action_mode: str, obs_mode: str, render_mode: str | None) -> None:
    if action_mode not in ACTION_MODES:
        raise ValueError(f"unknown action_mode {action_mode!r}; allowed: {', '.join(ACTION_MODES)}")
    if obs_mode not in OBS_MODES:
        raise ValueError(f"unknown obs_mode {obs_mode!r}; allowed: {', '.join(OBS_MODES)}")
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ValueError(f"unknown render_mode {render_mode!r}; allowed: {RENDER_MODES} or None")


def _resolve_config(config: UAVNearFarConfig | None, overrides: dict[str, Any]) -> UAVNearFarConfig:
    if config is not None and overrides:
        raise TypeError("pass either config=UAVNearFarConfig(...) or keyword overrides, not both")
    return config if config is not None else make_config(overrides)


def metrics_info(sim: NearFarSimulator, m: SlotMetrics) -> dict[str, np.ndarray]:
    """Batched info dict of one slot's metrics, every entry with a leading batch axis."""
    return {
        "rates": np.concatenate([m.near_rates, m.far_rates], axis=-1),
        "near_rates": m.near_rates,
        "far_rates": m.far_rates,
        "relay_rate": m.relay_rate,
        "sum_rate": m.sum_rate,
        "mean_rate": m.mean_rate,
        "fairness": m.fairness,
        "utility": m.utility,
        "bs_power_w": m.bs_power_w,
        "uav_power_w": m.uav_power_w,
        "bs_power_fraction": m.bs_power_w / sim.bs_power_max_w,
        "uav_power_fraction": m.uav_power_w / sim.uav_power_max_w,
        "boundary_violation_m": m.boundary_violation_m,
        "backhaul_shortfall": m.backhaul_shortfall,
        "uav_position": sim.uav_pos.copy(),
        "user_mask": np.concatenate([sim.near_mask, sim.far_mask], axis=-1),
    }


class UAVNearFarEnv(gym.Env):
    """One UAV-assisted near-field/far-field network. See the module docstring for the model."""

    metadata = {"render_modes": RENDER_MODES, "render_fps": 10}

    def __init__(
        self,
        action_mode: str = "continuous",
        obs_mode: str = "compact",
        render_mode: str | None = None,
        config: UAVNearFarConfig | None = None,
        **overrides: Any,
    ):
        _check_modes(action_mode, obs_mode, render_mode)
        self.config = _resolve_config(config, overrides)
        self.action_mode, self.obs_mode, self.render_mode = action_mode, obs_mode, render_mode
        self.sim = NearFarSimulator(
            self.config, 1, self.config.varies_user_count(obs_mode), obs_mode == "channel"
        )
        self.decoder = ActionDecoder(self.sim, action_mode)
        self.observer = ObservationBuilder(self.sim, obs_mode)
        self.action_space = self.decoder.space
        self.observation_space = self.observer.space
        self._renderer = None

    def _obs(self):
        obs = self.observer.build()
        if isinstance(obs, dict):
            return {k: v[0] for k, v in obs.items()}
        return obs[0]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        if seed is not None:
            self.sim.seed(0, seed)
        self.sim.reset(np.array([0]))
        if self.render_mode == "human":
            self.render()
        return self._obs(), {"n_near_users": int(self.sim.near_mask.sum()),
                             "n_far_users": int(self.sim.far_mask.sum())}  # fmt: skip

    def step(self, action):
        plan, violation = self.decoder.decode(action, batched=False)
        return self._advance(plan, violation)

    def step_plan(self, plan: SlotPlan, boundary_violation_m: np.ndarray | None = None):
        """Serve a slot from an explicit plan (teleports allowed): how reference policies act."""
        return self._advance(plan, boundary_violation_m)

    def _advance(self, plan: SlotPlan, violation: np.ndarray | None):
        if self.sim.done[0]:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        metrics = self.sim.advance(plan, violation)
        info = {
            k: (v[0] if v.ndim > 1 else float(v[0]))
            for k, v in metrics_info(self.sim, metrics).items()
        }
        truncated = bool(self.sim.done[0])
        if self.render_mode == "human":
            self.render()
        return self._obs(), float(metrics.reward[0]), False, truncated, info

    def render(self):
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode='rgb_array'")
            return None
        from gaidrl.envs.render import HumanWindow, render_rgb

        if self.render_mode == "rgb_array":
            return render_rgb(self.sim, 0)
        if self._renderer is None:
            self._renderer = HumanWindow()
        self._renderer.show(self.sim, 0)
        return None

    def close(self):
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None


class UAVNearFarVectorEnv(VectorEnv):
    """``num_envs`` networks stepped by one numpy computation (not a loop over single envs).

    Sub-environment i of ``reset(seed=s)`` replays the single env reset with seed s + i.
    Autoreset happens in the same step: ``info["final_obs"]`` (with mask ``_final_obs``)
    holds the last observation of the episodes that just ended, and the metric entries of
    ``info`` are those of the slot just served for every sub-environment.
    """

    metadata = {"render_modes": RENDER_MODES, "autoreset_mode": AutoresetMode.SAME_STEP}

    def __init__(
        self,
        num_envs: int = 1,
        action_mode: str = "continuous",
        obs_mode: str = "compact",
        render_mode: str | None = None,
        config: UAVNearFarConfig | None = None,
        **overrides: Any,
    ):
        _check_modes(action_mode, obs_mode, render_mode)
        if not isinstance(num_envs, (int, np.integer)) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        self.config = _resolve_config(config, overrides)
        self.num_envs = int(num_envs)
        self.action_mode, self.obs_mode, self.render_mode = action_mode, obs_mode, render_mode
        self.sim = NearFarSimulator(
            self.config,
            self.num_envs,
            self.config.varies_user_count(obs_mode),
            obs_mode == "channel",
        )
        self.decoder = ActionDecoder(self.sim, action_mode)
        self.observer = ObservationBuilder(self.sim, obs_mode)
        self.single_action_space = self.decoder.space
        self.single_observation_space = self.observer.space
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._started = False

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict | None = None):
        if seed is not None:
            seeds = (
                [seed + i for i in range(self.num_envs)] if isinstance(seed, int) else list(seed)
            )
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed list must have {self.num_envs} entries, got {len(seeds)}")
            for i, s in enumerate(seeds):
                self.sim.seed(i, s)
            self._np_random_seed = seeds[0]
        self.sim.reset(np.arange(self.num_envs))
        self._started = True
        info = {
            "n_near_users": self.sim.near_mask.sum(-1),
            "n_far_users": self.sim.far_mask.sum(-1),
        }
        return self.observer.build(), info

    def step(self, actions):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        plan, violation = self.decoder.decode(actions, batched=True)
        return self.step_plan(plan, violation)

    def step_plan(self, plan: SlotPlan, boundary_violation_m: np.ndarray | None = None):
        """Serve a slot from explicit plans (teleports allowed): how reference policies act."""
        if not self._started:
            raise RuntimeError("call reset() before step_plan()")
        metrics = self.sim.advance(plan, boundary_violation_m)
        info: dict[str, Any] = metrics_info(self.sim, metrics)
        rewards = metrics.reward.astype(np.float64)
        truncated = self.sim.done.copy()
        terminated = np.zeros(self.num_envs, dtype=bool)
        obs = self.observer.build()
        if truncated.any():
            info["final_obs"], info["_final_obs"] = obs, truncated
            ended = np.flatnonzero(truncated)
            self.sim.reset(ended)
            obs = self.observer.build()
        return obs, rewards, terminated, truncated, info

    def render(self):
        if self.render_mode != "rgb_array":
            return None
        from gaidrl.envs.render import render_rgb

        return tuple(render_rgb(self.sim, i) for i in range(self.num_envs))
