"""Reference policies that learn nothing: the floor (random), a sensible rule (heuristic) and
the yardstick (oracle) that every learned policy is reported against as "percent of oracle".

Each policy returns, for every network of a :class:`UAVNearFarVectorEnv`, a :class:`SlotPlan`
(UAV position after the slot, BS and UAV powers) and the boundary violation in metres; the
env serves it with ``step_plan``. They act on the simulator's true state, so they work in any
action or observation mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from gaidrl.envs import physics
from gaidrl.envs.actions import heuristic_command
from gaidrl.envs.simulator import SlotPlan
from gaidrl.envs.uav_nearfar import UAVNearFarVectorEnv

NEAR_SPLITS = ("equal", "inverse_gain", "proportional_gain")


class ReferencePolicy(Protocol):
    name: str

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]: ...


AGENT_INTERFACE_OPTIONS = ("action_mode", "action_base", "residual_scale", "render_mode")


def reference_env_kwargs(env_kwargs: dict) -> dict:
    """An env's options without those that only shape an agent's interface (action mode,
    residual base, rendering): the same networks, for reference policies to serve. The
    observation mode stays: in ``tokens`` mode the number of users varies."""
    return {k: v for k, v in env_kwargs.items() if k not in AGENT_INTERFACE_OPTIONS}


def equal_split(mask: np.ndarray) -> np.ndarray:
    """Equal shares over the active entries of ``mask`` (B, K)."""
    weights = mask.astype(float)
    return weights / weights.sum(axis=-1, keepdims=True)


@dataclass
class RandomPolicy:
    """Uniform samples from the env's own action space, decoded as an agent's would be."""

    seed: int | None = None
    name: str = "random"

    def __post_init__(self) -> None:
        self._seeded = False

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]:
        if not self._seeded:
            env.action_space.seed(self.seed)
            self._seeded = True
        return env.decoder.decode(env.action_space.sample(), batched=True)


@dataclass
class HeuristicPolicy:
    """Fly at full speed toward the centroid of the far users; full, equally split power."""

    name: str = "heuristic"

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]:
        return env.decoder.continuous_plan(heuristic_command(env.sim))


@dataclass
class OraclePolicy:
    """Per-slot exhaustive search with a teleporting UAV: the "how close to optimal" yardstick.

    Each slot, for each network, it searches (and nothing else):

    * UAV position: a ``grid`` (nx, ny) of points spanning the flight area at the UAV's
      current altitude, then ``refine_rounds`` finer ``refine_points`` x ``refine_points``
      grids centred on the best point so far, each spanning two spacings of the grid before;
    * BS power: total fraction in ``bs_fractions``; the relay beam gets a share in
      ``relay_shares`` of it and the near users split the rest equally, inversely to their
      focused beam gain (equal received power) or in proportion to it (favouring strong users);
    * UAV power: total fraction in ``uav_fractions``, split over far users equally or
      inversely to their path gain (equal received SNR);

    and keeps the combination with the best ``objective`` ("reward": the env's reward,
    "sum_rate", or "fairness") for that slot. Teleporting makes slots independent and users
    move regardless of actions, so the per-slot best is the best over the episode within this
    search space. It is a grid optimum, not a proof of optimality.
    """

    grid: tuple[int, int] = (21, 25)
    refine_rounds: int = 2
    refine_points: int = 7
    relay_shares: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8)
    bs_fractions: tuple[float, ...] = (1.0,)
    uav_fractions: tuple[float, ...] = (1.0,)
    objective: Literal["reward", "sum_rate", "fairness"] = "reward"
    name: str = "oracle"

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]:
        sim = env.sim
        low, high = sim.area_low[:2], sim.area_high[:2]
        xs = np.linspace(low[0], high[0], self.grid[0])
        ys = np.linspace(low[1], high[1], self.grid[1])
        candidates = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(1, -1, 2)
        candidates = np.broadcast_to(candidates, (env.num_envs, *candidates.shape[1:]))
        spacing = np.array([xs[1] - xs[0], ys[1] - ys[0]])
        best = self._search(env, candidates)
        offsets = np.linspace(-1.0, 1.0, self.refine_points)
        local = np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(1, -1, 2)
        for _ in range(self.refine_rounds):
            around = np.clip(best[0][:, None, :2] + local * spacing, low, high)
            best = self._search(env, around, incumbent=best)
            spacing = spacing * 2.0 / (self.refine_points - 1)
        position, bs_w, uav_w, _ = best
        return SlotPlan(position, bs_w, uav_w), np.zeros(env.num_envs)

    def _search(self, env: UAVNearFarVectorEnv, xy: np.ndarray, incumbent=None):
        """Best (position, bs_w, uav_w, score) over positions xy (B, P, 2) and power options."""
        sim = env.sim
        b, p = xy.shape[:2]
        altitude = np.broadcast_to(sim.uav_pos[:, None, 2:3], (b, p, 1))
        uav = np.concatenate([xy, altitude], axis=-1)
        near = np.broadcast_to(sim.near_pos[:, None], (b, p, *sim.near_pos.shape[1:]))
        points = np.concatenate([near, uav[:, :, None, :]], axis=2)
        gains = physics.focused_beam_gains(
            points, sim.elements[:, 1], sim.config.bs_height_m, sim.wavelength, sim.beta0
        )
        far_gain = physics.air_to_ground_gain(uav, sim.far_pos[:, None], sim.beta0, *sim.los_args())
        bs_w, uav_w = self._power_options(env, far_gain)  # (B, P, A, K+1), (B, P, A, Kf)
        metrics = sim.evaluate(
            gains[:, :, None], far_gain[:, :, None], bs_w, uav_w,
            sim.near_mask[:, None, None], sim.far_mask[:, None, None], np.zeros((b, p, 1)),
        )  # fmt: skip
        score = getattr(metrics, self.objective).reshape(b, -1)
        flat = np.argmax(score, axis=1)
        pos_i, opt_i = np.unravel_index(flat, (p, bs_w.shape[2]))
        rows = np.arange(b)
        result = (
            uav[rows, pos_i],
            bs_w[rows, pos_i, opt_i],
            uav_w[rows, pos_i, opt_i],
            score[rows, flat],
        )
        if incumbent is None:
            return result
        keep = incumbent[3] >= result[3]
        return tuple(
            np.where(_expand(keep, new), old, new)
            for old, new in zip(incumbent, result, strict=True)
        )

    def _power_options(self, env: UAVNearFarVectorEnv, far_gain: np.ndarray):
        """Candidate powers in watts: (B, P, A, K_near + 1) for the BS, (B, P, A, K_far) UAV."""
        sim = env.sim
        b, p = far_gain.shape[:2]
        near_splits = np.stack(
            [
                equal_split(sim.near_mask),
                inverse_split(sim.near_gain, sim.near_mask),
                inverse_split(1.0 / sim.near_gain, sim.near_mask),
            ],
            axis=1,
        )[:, None]  # (B, 1, 3, Kn)
        far_splits = np.stack(
            [np.broadcast_to(equal_split(sim.far_mask)[:, None], far_gain.shape),
             inverse_split(far_gain, sim.far_mask[:, None])],
            axis=2,
        )  # fmt: skip  # (B, P, 2, Kf)
        bs_options, uav_options = [], []
        for bs_fraction in self.bs_fractions:
            for share in self.relay_shares:
                relay = np.full((b, 1, len(NEAR_SPLITS), 1), share)
                bs_split = bs_fraction * np.concatenate([(1.0 - share) * near_splits, relay], -1)
                for uav_fraction in self.uav_fractions:
                    for near_option in range(len(NEAR_SPLITS)):
                        for far_option in range(2):
                            bs_options.append(bs_split[:, :, near_option])
                            uav_options.append(uav_fraction * far_splits[:, :, far_option])
        bs_w = np.broadcast_to(
            np.stack(bs_options, axis=2), (b, p, len(bs_options), bs_split.shape[-1])
        )
        uav_w = np.stack(uav_options, axis=2)
        return bs_w * sim.bs_power_max_w, uav_w * sim.uav_power_max_w


def inverse_split(gain: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shares inversely proportional to ``gain`` over active users: equal received power."""
    weights = np.where(mask, 1.0 / np.maximum(gain, 1e-300), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)


def _expand(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    return mask.reshape(mask.shape + (1,) * (like.ndim - 1))


REFERENCE_POLICIES = {"random": RandomPolicy, "heuristic": HeuristicPolicy, "oracle": OraclePolicy}


def make_reference(name: str, **kwargs) -> ReferencePolicy:
    if name not in REFERENCE_POLICIES:
        raise ValueError(
            f"unknown reference policy {name!r}; allowed: {sorted(REFERENCE_POLICIES)}"
        )
    return REFERENCE_POLICIES[name](**kwargs)


EPISODE_METRICS = ("reward", "sum_rate", "mean_rate", "fairness", "bs_power_fraction",
                   "uav_power_fraction", "backhaul_shortfall")  # fmt: skip


def run_reference_slots(
    policy: ReferencePolicy,
    env: UAVNearFarVectorEnv,
    seed: int,
    on_slot: Callable[[int, UAVNearFarVectorEnv], None] | None = None,
) -> dict[str, np.ndarray]:
    """One episode in every network of ``env`` (reset with ``seed``), slot by slot.

    Returns metric name -> array (episode_length, num_envs). ``on_slot(t, env)`` runs after
    each slot is served (pictures); after the last slot the env has already drawn new layouts.
    """
    env.reset(seed=seed)
    slots = env.config.episode_length
    traces = {name: np.zeros((slots, env.num_envs)) for name in EPISODE_METRICS}
    for t in range(slots):
        plan, violation = policy.plan(env)
        _, reward, _, _, info = env.step_plan(plan, violation)
        traces["reward"][t] = reward
        for name in EPISODE_METRICS[1:]:
            traces[name][t] = info[name]
        if on_slot is not None:
            on_slot(t, env)
    return traces


def run_reference_episodes(
    policy: ReferencePolicy, env: UAVNearFarVectorEnv, seed: int
) -> dict[str, np.ndarray]:
    """Per-episode slot means: metric name -> array (num_envs,)."""
    traces = run_reference_slots(policy, env, seed)
    return {name: trace.mean(axis=0) for name, trace in traces.items()}
