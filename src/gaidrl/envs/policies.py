"""Reference policies that learn nothing: the floor (random), a sensible rule (heuristic), the
achievable yardstick (planner: flies within the UAV's speed limit, optimises power each slot)
and the loose upper bound (oracle: teleports the UAV each slot). Learned policies are reported
as "percent of planner" and "percent of oracle".

Each policy returns, for every network of a :class:`UAVNearFarVectorEnv`, a :class:`SlotPlan`
(UAV position after the slot, BS and UAV powers) and the boundary violation in metres; the
env serves it with ``step_plan``. They act on the simulator's true state, so they work in any
action or observation mode.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gaidrl.envs import search
from gaidrl.envs.actions import heuristic_command
from gaidrl.envs.search import Objective
from gaidrl.envs.simulator import NearFarSimulator, SlotPlan
from gaidrl.envs.uav_nearfar import UAVNearFarVectorEnv


class ReferencePolicy(Protocol):
    name: str

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]: ...


AGENT_INTERFACE_OPTIONS = ("action_mode", "action_base", "residual_scale", "render_mode")


def reference_env_kwargs(env_kwargs: dict) -> dict:
    """An env's options without those that only shape an agent's interface (action mode,
    residual base, rendering): the same networks, for reference policies to serve. The
    observation mode stays: in ``tokens`` mode the number of users varies."""
    return {k: v for k, v in env_kwargs.items() if k not in AGENT_INTERFACE_OPTIONS}


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
class PlannerPolicy:
    """Speed-feasible planner, the achievable yardstick: it flies as a real UAV can and
    optimises the power each slot.

    Each slot, for each network:

    * target: where a teleporting UAV would serve this slot best (:func:`search.grid_search`:
      a ``grid`` over the area, ``refine_rounds`` local refinements, template powers, scored
      on ``objective``). The target changes only when the new one scores ``switch_margin``
      (relative) above the current target at this slot, so near-ties do not make it dither;
    * flight: straight toward the target at up to ``uav_max_speed_mps`` for one slot (never
      faster, never out of the area, at the same altitude);
    * power: at the position reached, the best template allocation and the equal full-power
      split, each climbed by :func:`search.refine_power` (``power_iterations`` steps).

    It knows the true state (positions, channels), as the oracle does, and does not look
    ahead in time.
    """

    objective: Objective = "reward"
    grid: tuple[int, int] = (11, 13)
    refine_rounds: int = 2
    refine_points: int = 5
    switch_margin: float = 0.005
    power_iterations: int = 80
    name: str = "planner"

    def __post_init__(self) -> None:
        search.check_objective(self.objective)
        self._target: np.ndarray | None = None

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]:
        sim = env.sim
        found = search.grid_search(
            sim, self.objective, self.grid, self.refine_rounds, self.refine_points
        )
        target = found.position
        if self._target is not None and self._target.shape == target.shape:
            kept = search.best_position(sim, self._target[:, None, :2], self.objective)
            switch = found.score > kept.score + self.switch_margin * np.abs(kept.score)
            switch |= sim.t == 0  # a new episode: no target yet
            target = np.where(switch[:, None], target, kept.position)
        self._target = target
        step = target - sim.uav_pos
        reach = sim.config.uav_max_speed_mps * sim.config.slot_s
        length = np.linalg.norm(step, axis=-1, keepdims=True)
        position = sim.uav_pos + step * np.minimum(1.0, reach / np.maximum(length, 1e-12))
        best = search.optimise_power_at(
            sim, position[:, None], self.objective, self.power_iterations
        )
        return SlotPlan(position, best.bs_w[:, 0], best.uav_w[:, 0]), np.zeros(env.num_envs)


@dataclass
class OraclePolicy:
    """Per-slot search with a teleporting UAV: the loose upper bound ("percent of oracle").

    Each slot, for each network, it searches (and nothing else):

    * UAV position: a ``grid`` (nx, ny) of points spanning the flight area at the UAV's
      current altitude, then ``refine_rounds`` finer ``refine_points`` x ``refine_points``
      grids centred on the best point so far, each spanning two spacings of the grid before,
      scored with template powers (:func:`search.template_powers`: 8 relay shares x 3
      near-user x 2 far-user split rules, full power);
    * the reference policies named in ``shadows`` (default: heuristic and planner), each run
      on its own copy of the env in step with this one (users move regardless of actions, so
      the copies see the same users): the positions they fly to and the powers they send
      (random is not shadowed: its draws are its own stream; it is the floor, far below);
    * power: at the best grid position and at each shadow's position, the best template
      allocation and the equal full-power split (at a shadow's position: the shadow's own
      powers instead), each climbed by projected gradient ascent on the power fractions and
      split logits (``power_iterations`` steps, :func:`search.refine_power`);

    and serves what scores best on ``objective`` ("reward": the env's reward, whose boundary
    penalty it never incurs; "sum_rate", "utility" or "fairness"). Each shadow's exact plan
    is a candidate, so slot by slot the oracle scores at least what every shadowed reference
    scores, on its objective. Teleporting makes the slots independent, so the per-slot best
    is the best over the episode within this search space: a bound on what any policy finds
    with it, not a proof of global optimality.
    """

    objective: Objective = "reward"
    grid: tuple[int, int] = (11, 13)
    refine_rounds: int = 3
    refine_points: int = 7
    power_iterations: int = 80
    shadows: tuple[str, ...] = ("heuristic", "planner")
    name: str = "oracle"

    def __post_init__(self) -> None:
        search.check_objective(self.objective)
        unknown = sorted(set(self.shadows) - set(SHADOWABLE))
        if unknown:
            raise ValueError(f"unknown oracle shadows {unknown}; allowed: {', '.join(SHADOWABLE)}")
        self._shadows: list[tuple[ReferencePolicy, UAVNearFarVectorEnv]] = []

    def plan(self, env: UAVNearFarVectorEnv) -> tuple[SlotPlan, np.ndarray]:
        sim = env.sim
        best = search.grid_search(
            sim, self.objective, self.grid, self.refine_rounds, self.refine_points
        )
        plans = self._shadow_plans(env)
        positions = np.stack([best.position, *(p.uav_position for p in plans)], axis=1)
        # starts: the best template at each position (at the grid's point, its own powers),
        # and the equal full-power split there or each shadow's own powers at its position
        equal_bs, equal_uav = search.equal_full_power(sim, 1)
        own = (
            np.concatenate([equal_bs, *(p.bs_power_w[:, None] for p in plans)], axis=1),
            np.concatenate([equal_uav, *(p.uav_power_w[:, None] for p in plans)], axis=1),
        )
        choice = search.optimise_power_at(
            sim, positions, self.objective, self.power_iterations, own
        )
        pick = np.argmax(choice.score, axis=1)
        rows = np.arange(env.num_envs)
        plan = SlotPlan(positions[rows, pick], choice.bs_w[rows, pick], choice.uav_w[rows, pick])
        return plan, np.zeros(env.num_envs)

    def _shadow_plans(self, env: UAVNearFarVectorEnv) -> list[SlotPlan]:
        """This slot's plan of each shadowed reference, each stepped on its own env copy."""
        if not self.shadows:
            return []
        if not self._shadows or not _same_users(self._shadows[0][1].sim, env.sim):
            self._shadows = [
                (SHADOWABLE[name](objective=self.objective) if name == "planner"
                 else SHADOWABLE[name](), copy.deepcopy(env))
                for name in self.shadows
            ]  # fmt: skip
        plans = []
        for policy, shadow in self._shadows:
            plan, violation = policy.plan(shadow)
            shadow.step_plan(plan, violation)
            plans.append(plan)
        return plans


SHADOWABLE = {"heuristic": HeuristicPolicy, "planner": PlannerPolicy}


def _same_users(a: NearFarSimulator, b: NearFarSimulator) -> bool:
    """Whether two simulators hold the same users at the same slot (a shadow is in step)."""
    return all(
        np.array_equal(getattr(a, name), getattr(b, name))
        for name in ("t", "near_pos", "far_pos", "near_mask", "far_mask")
    )


REFERENCE_POLICIES = {
    "random": RandomPolicy,
    "heuristic": HeuristicPolicy,
    "planner": PlannerPolicy,
    "oracle": OraclePolicy,
}


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


def score_references(
    env_kwargs: dict,
    first_seed: int,
    episodes: int,
    names: tuple[str, ...] = tuple(REFERENCE_POLICIES),
) -> dict[str, dict[str, np.ndarray]]:
    """Per-episode metrics of the named references on layouts ``first_seed ...
    first_seed + episodes - 1``: policy name -> metric name -> array (episodes,).

    One network per layout, all served at once, on the agent's env options stripped of
    its interface (:func:`reference_env_kwargs`); ``random`` is seeded with 0, so every
    caller scores the same figures on the same layouts.
    """
    env = UAVNearFarVectorEnv(episodes, **reference_env_kwargs(env_kwargs))
    try:
        return {
            name: run_reference_episodes(
                make_reference(name, seed=0) if name == "random" else make_reference(name),
                env,
                first_seed,
            )
            for name in names
        }
    finally:
        env.close()
