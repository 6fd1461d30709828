"""A small parameterised-action task in the spirit of Platform (Masson et al. 2016).

The usual hybrid-action benchmarks (Platform, Goal) install only from old git repositories,
so gaidrl ships this one to check hybrid-action agents (HybridPPO, latent-action TD3) on a
task that is not the case study.

A runner on a line starts at 0 and must reach ``length`` (10 m) across ``n_gaps`` pits whose
places and widths are drawn at each reset. Each step it picks one of three moves and that
move's distance (the action is ``(index, parameters)``, a Tuple(Discrete(3), Box(-1, 1, (3,))):
only the chosen move's parameter is read, as in Platform):

====  =====  ==========================  ===========
index move   distance (m) for p in [-1, 1]  energy cost
====  =====  ==========================  ===========
0     run    0.1 .. 1.0                  0
1     hop    0.5 .. 1.5                  0.02
2     leap   1.0 .. 3.0                  0.05
====  =====  ==========================  ===========

A run stops at the edge of a pit and falls in if it would cross it; a hop or a leap flies
over and falls in if it lands inside one. Falling ends the episode (terminated). Reward per
step: the distance gained divided by ``length`` minus the energy cost, so a full crossing
earns 1 minus what the jumps cost, and a fall keeps only the progress made. Episodes are
truncated after ``max_steps`` (30). Observation (Box(5,), all about 0..1): position / length,
distance to the next pit's start and its width (both / 3 m; 0 when no pit is left),
distance to the goal / length, and the share of steps left.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

PLATFORM_ID = "gaidrl/Platform-v0"
MOVES = ("run", "hop", "leap")
RANGES = ((0.1, 1.0), (0.5, 1.5), (1.0, 3.0))  # metres, for p = -1 .. 1
COSTS = (0.0, 0.02, 0.05)
SCALE = 3.0  # metres: the observation's unit for pits


class PlatformEnv(gym.Env):
    """Cross the pits to the goal with (move, distance) actions."""

    metadata = {"render_modes": []}

    def __init__(self, length: float = 10.0, n_gaps: int = 3, max_steps: int = 30) -> None:
        if not length > 0 or n_gaps < 0 or max_steps < 1:
            raise ValueError(f"need length > 0, n_gaps >= 0, max_steps >= 1; got {length}, "
                             f"{n_gaps}, {max_steps}")  # fmt: skip
        self.length, self.n_gaps, self.max_steps = float(length), int(n_gaps), int(max_steps)
        self.action_space = gym.spaces.Tuple(
            (gym.spaces.Discrete(3), gym.spaces.Box(-1.0, 1.0, (3,), np.float32))
        )
        self.observation_space = gym.spaces.Box(-1.0, 2.0, (5,), np.float32)
        self.gaps = np.zeros((0, 2))
        self.x, self.t = 0.0, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        # pits in equal sections after the first 1.5 m, each at least 1 m from the next
        section = (self.length - 2.5) / max(self.n_gaps, 1)
        gaps = []
        for i in range(self.n_gaps):
            width = self.np_random.uniform(0.4, 1.4)
            start = 1.5 + i * section + self.np_random.uniform(0.0, max(section - width - 1.0, 0.0))
            gaps.append((start, start + width))
        self.gaps = np.asarray(gaps, dtype=np.float64).reshape(-1, 2)
        self.x, self.t = 0.0, 0
        return self._obs(), {}

    def distance(self, move: int, parameter: float) -> float:
        """The distance in metres of ``move`` with parameter ``parameter`` in [-1, 1]."""
        low, high = RANGES[move]
        return low + (high - low) * (float(np.clip(parameter, -1.0, 1.0)) + 1.0) / 2.0

    def step(self, action: Any):
        move, params = int(action[0]), np.asarray(action[1], dtype=np.float64).reshape(-1)
        if not 0 <= move < 3 or params.shape != (3,):
            raise ValueError(f"action must be (index in 0..2, 3 parameters), got {action!r}")
        start = self.x
        target = start + self.distance(move, params[move])
        fell = False
        ahead = [g for g in self.gaps if g[1] > start]
        if move == 0 and ahead and target > ahead[0][0]:  # a run cannot cross a pit
            target, fell = ahead[0][0] + 1e-6, True
        elif move > 0:
            fell = any(a < target < b for a, b in self.gaps)
        target = min(target, self.length)
        self.x, self.t = target, self.t + 1
        reward = (target - start) / self.length - COSTS[move]
        terminated = fell or self.x >= self.length
        truncated = not terminated and self.t >= self.max_steps
        info = {"fell": fell, "reached": self.x >= self.length, "position": self.x}
        return self._obs(), float(reward), bool(terminated), bool(truncated), info

    def _obs(self) -> np.ndarray:
        ahead = [g for g in self.gaps if g[1] > self.x]
        to_gap, width = ((ahead[0][0] - self.x) / SCALE, (ahead[0][1] - ahead[0][0]) / SCALE) \
            if ahead else (0.0, 0.0)  # fmt: skip
        return np.array([self.x / self.length, to_gap, width, (self.length - self.x) / self.length,
                         1.0 - self.t / self.max_steps], dtype=np.float32)  # fmt: skip


def scripted_action(obs: np.ndarray) -> tuple[int, np.ndarray]:
    """A hand-written policy that knows the rules: run up to the next pit, then hop or leap
    just across it. It crosses every layout (tested): the task is feasible."""
    to_gap, width = obs[1] * SCALE, obs[2] * SCALE
    params = np.zeros(3, np.float32)
    if width == 0 or to_gap > 0.3:  # no pit near: run, stopping short of it
        run = min(1.0, max(to_gap - 0.1, 0.1)) if width else 1.0
        params[0] = 2 * (run - 0.1) / 0.9 - 1
        return 0, params
    jump = to_gap + width + 0.2  # land 0.2 m past the pit
    move = 1 if jump <= 1.5 else 2
    low, high = RANGES[move]
    params[move] = np.clip(2 * (jump - low) / (high - low) - 1, -1, 1)
    return move, params
