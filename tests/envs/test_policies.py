"""Reference policies: the ordering oracle > heuristic > random holds on seeded episodes
(tests/envs/test_yardstick.py checks it slot by slot on many configs)."""

import numpy as np
import pytest

from gaidrl.envs import UAVNearFarVectorEnv
from gaidrl.envs.policies import OraclePolicy, make_reference, run_reference_episodes

EPISODES, SLOTS, SEED = 20, 12, 1234


@pytest.fixture(scope="module")
def results():
    env = UAVNearFarVectorEnv(EPISODES, episode_length=SLOTS)
    return {
        name: run_reference_episodes(
            make_reference(name, seed=SEED) if name == "random" else make_reference(name), env, SEED
        )
        for name in ("random", "heuristic", "oracle")
    }


def test_oracle_clears_the_heuristic_which_clears_random(results):
    reward = {name: r["reward"].mean() for name, r in results.items()}
    rate = {name: r["sum_rate"].mean() for name, r in results.items()}
    assert reward["oracle"] > 1.03 * reward["heuristic"], reward
    assert rate["heuristic"] > 1.2 * rate["random"], rate
    # the oracle shadows the heuristic, so it wins every episode, not just on average
    assert np.all(results["oracle"]["reward"] >= results["heuristic"]["reward"])


def test_oracle_objective_changes_what_it_picks():
    env = UAVNearFarVectorEnv(4, episode_length=3)
    quick = {"grid": (9, 9), "shadows": (), "power_iterations": 10}
    fair = run_reference_episodes(OraclePolicy(objective="fairness", **quick), env, 7)
    rate = run_reference_episodes(OraclePolicy(objective="sum_rate", **quick), env, 7)
    assert fair["fairness"].mean() > rate["fairness"].mean()
    assert rate["sum_rate"].mean() > fair["sum_rate"].mean()


def test_reference_policies_work_in_every_action_mode():
    for mode in ("continuous", "discrete", "hybrid"):
        env = UAVNearFarVectorEnv(3, action_mode=mode, obs_mode="tokens", episode_length=4)
        for name in ("random", "heuristic"):
            out = run_reference_episodes(make_reference(name), env, 0)
            assert np.all(np.isfinite(out["sum_rate"])) and np.all(out["sum_rate"] > 0)


def test_unknown_reference_policy_names_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: .*heuristic"):
        make_reference("greedy")


def _episode_metrics(env, act) -> np.ndarray:
    """Per-slot (sum rate, fairness, reward) of one episode on every network of ``env``."""
    env.reset(seed=7)
    rows = []
    for _ in range(env.config.episode_length):
        _, reward, _, _, info = act(env)
        rows.append(np.stack([info["sum_rate"], info["fairness"], reward]))
    return np.asarray(rows)


@pytest.mark.parametrize("uav_control", ["velocity", "waypoint"])
def test_zero_residual_on_the_heuristic_base_is_the_heuristic(uav_control):
    heuristic = make_reference("heuristic")
    plain = UAVNearFarVectorEnv(3, uav_control=uav_control)
    residual = UAVNearFarVectorEnv(3, uav_control=uav_control, action_base="heuristic")
    zeros = np.zeros((3, *residual.single_action_space.shape), np.float32)
    expected = _episode_metrics(plain, lambda e: e.step_plan(*heuristic.plan(e)))
    got = _episode_metrics(residual, lambda e: e.step(zeros))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
    # a residual is a correction to it: halving the UAV's power lowers the far users' rates
    cut = zeros.copy()
    cut[:, 2 + residual.config.n_near_users + 2] = -1.0  # UAV power fraction 1 -> 0.5
    assert _episode_metrics(residual, lambda e: e.step(cut))[:, 0].mean() < expected[:, 0].mean()


def test_residual_scale_shrinks_the_correction():
    index = 2 + UAVNearFarVectorEnv(1).config.n_near_users + 2  # UAV power fraction
    half = UAVNearFarVectorEnv(3, action_base="heuristic", residual_scale=0.5)
    full = UAVNearFarVectorEnv(3, action_base="heuristic")
    action = np.zeros((3, *full.single_action_space.shape), np.float32)
    action[:, index] = -1.0
    halved = action * 0.5
    got = _episode_metrics(half, lambda e: e.step(action))
    np.testing.assert_allclose(got, _episode_metrics(full, lambda e: e.step(halved)), rtol=1e-12)
    with pytest.raises(ValueError, match=r"residual_scale must lie in \(0, 2\]"):
        UAVNearFarVectorEnv(2, action_base="heuristic", residual_scale=0.0)
    with pytest.raises(ValueError, match="needs action_base='heuristic'"):
        UAVNearFarVectorEnv(2, residual_scale=0.5)


def test_residual_base_needs_continuous_actions_and_a_known_name():
    with pytest.raises(ValueError, match="action_mode='continuous'"):
        UAVNearFarVectorEnv(2, action_mode="discrete", action_base="heuristic")
    with pytest.raises(ValueError, match="'none' or 'heuristic'"):
        UAVNearFarVectorEnv(2, action_base="oracle")


def test_reference_env_kwargs_keep_the_networks_and_drop_the_agent_interface():
    from gaidrl.envs.policies import reference_env_kwargs

    kwargs = {"action_mode": "hybrid", "action_base": "heuristic", "residual_scale": 0.5,
              "render_mode": "rgb_array", "obs_mode": "tokens", "n_antennas": 128}  # fmt: skip
    assert reference_env_kwargs(kwargs) == {"obs_mode": "tokens", "n_antennas": 128}


def test_score_references_strips_the_agent_interface_and_scores_each_layout():
    from gaidrl.envs.policies import score_references

    agent_kwargs = {"episode_length": 4, "action_mode": "hybrid", "residual_scale": 0.5}
    scores = score_references(agent_kwargs, 5, 3, names=("random", "heuristic"))
    assert set(scores) == {"random", "heuristic"}
    assert scores["heuristic"]["sum_rate"].shape == (3,)
    # the same layouts in the same order as a plain run over the references' env
    env = UAVNearFarVectorEnv(3, episode_length=4)
    plain = run_reference_episodes(make_reference("heuristic"), env, 5)
    np.testing.assert_array_equal(scores["heuristic"]["reward"], plain["reward"])
    # random is seeded with 0 inside, so a second call scores it the same
    again = score_references(agent_kwargs, 5, 3, names=("random",))
    np.testing.assert_array_equal(again["random"]["reward"], scores["random"]["reward"])
