"""Each algorithm learns the tiny Reach task (random policy about -11 per episode).

Thresholds are loose but far from what an untrained or broken agent scores; budgets are
small so the file runs in well under a minute on one core.
"""

from __future__ import annotations

import pytest
from agent_setups import SETUPS, build
from tiny_envs import Driver, evaluate, make_vec

# name -> (vector steps, threshold on the mean greedy return)
BUDGETS = {
    "td3": (600, -2.0),
    "td3_ensemble": (600, -2.0),
    "ddpg": (600, -2.0),
    "sac": (700, -2.0),
    "dqn": (600, -4.0),
    "sac_discrete": (600, -4.0),
    "ppo": (1000, -2.5),
    "ppo_discrete": (500, -4.0),
    "hybrid": (1200, -2.5),
}


@pytest.mark.parametrize("name", list(BUDGETS))
def test_learns_reach(name: str) -> None:
    _, mode, n, _ = SETUPS[name]
    env = make_vec(mode, n)
    agent = build(name, env, seed=1)
    before = evaluate(agent, mode)
    steps, threshold = BUDGETS[name]
    driver = Driver(agent, env, seed=1)
    driver.run(steps)
    after = evaluate(agent, mode)
    assert driver.stats, "the agent never updated"
    assert all(v == v for v in driver.stats[-1].values()), driver.stats[-1]  # no NaN
    assert after > threshold, f"{name}: greedy return {after:.2f} (before {before:.2f})"
