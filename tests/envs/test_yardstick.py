"""The case study's yardstick: a reward silence cannot game, an oracle that bounds the
references on its objective, a speed-feasible planner, and scenario presets.

Configs vary user counts (1-8 on each side), antenna counts, carriers and presets, none of
which the reward or the references were tuned on.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

from gaidrl.envs import PRESETS, UAVNearFarVectorEnv, make_config, physics, search
from gaidrl.envs import reward as rewards
from gaidrl.envs.policies import OraclePolicy, PlannerPolicy, make_reference, run_reference_slots

CONFIGS = [
    {"n_near_users": 1, "n_far_users": 7},
    {"n_near_users": 8, "n_far_users": 1},
    {"n_near_users": 1, "n_far_users": 1, "n_antennas": 512},
    {"n_near_users": 6, "n_far_users": 2, "carrier_hz": 60e9},
    {"n_near_users": 3, "n_far_users": 8, "n_antennas": 128, "near_min_distance_m": 10.0},
    {"preset": "urban_split"},
    {"preset": "crowded_bs", "n_far_users": 5},
    {"reward_alpha": 0.0, "reward_power_weight": 0.0, "uav_control": "waypoint"},
]
IDS = ["1near7far", "8near1far", "1+1_512ant", "6near2far_60GHz", "3near8far_128ant",
       "urban_split", "crowded_bs", "rate_only"]  # fmt: skip


# ----------------------------------------------------------------------------- the reward
@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 10.0]),
    st.floats(0.0, 0.99),
    st.floats(0.1, 20.0),
    st.integers(1, 16),
    st.integers(0, 2**16),
)
def test_reward_never_falls_when_one_users_rate_rises(alpha, power_weight, rate_ref, k, seed):
    c = make_config({"reward_alpha": alpha, "reward_power_weight": power_weight,
                     "rate_reference_bps_hz": rate_ref})  # fmt: skip
    rng = np.random.default_rng(seed)
    rates = rng.exponential(3.0, (64, k)) * (rng.random((64, k)) > 0.2)
    mask = rng.random((64, k)) > 0.1
    mask[:, 0] = True
    power, violation = rng.random(64), rng.random(64) * (rng.random(64) > 0.5)
    before = rewards.reward(c, rewards.mean_utility(rates, mask, alpha), power, violation)
    user = rng.integers(0, k, 64)
    raised = rates.copy()
    raised[np.arange(64), user] += rng.exponential(1.0, 64)
    after = rewards.reward(c, rewards.mean_utility(raised, mask, alpha), power, violation)
    assert np.all(after >= before - 1e-12)
    low, high = c.reward_bounds()
    assert np.all((before >= low) & (before <= high))
    # silence: no rate for anyone, no power, no violation, scores exactly 0
    zero = rewards.reward(c, rewards.mean_utility(0 * rates, mask, alpha), 0 * power, 0 * power)
    assert np.all(zero == 0.0)


def _silence(env: UAVNearFarVectorEnv):
    """Hover and send nothing: both power fractions at their minimum."""
    action = np.zeros((env.num_envs, *env.single_action_space.shape), np.float32)
    kn = env.config.n_near_users
    action[:, 2] = action[:, 2 + kn + 2] = -1.0
    return env.step(action)


@pytest.mark.parametrize("overrides", CONFIGS, ids=IDS)
def test_silence_scores_below_the_heuristic_and_random_on_every_layout(overrides):
    env = UAVNearFarVectorEnv(8, episode_length=5, **overrides)
    env.reset(seed=11)
    silence = np.mean([_silence(env)[1] for _ in range(5)], axis=0)
    heuristic = run_reference_slots(make_reference("heuristic"), env, 11)["reward"].mean(0)
    random = run_reference_slots(make_reference("random", seed=5), env, 11)["reward"].mean(0)
    assert np.all(silence == 0.0)
    assert np.all(heuristic > silence), heuristic
    assert np.all(random > silence), random


# ----------------------------------------------------------------------------- references
# the tests that share it run on one test process (pytest-xdist --dist loadgroup)
SHARES_REFERENCE_SLOTS = pytest.mark.xdist_group("yardstick-reference-slots")


@pytest.fixture(scope="module")
def reference_slots():
    """Per-slot traces of every reference on each config (4 layouts, 6 slots)."""
    out = {}
    for key, overrides in zip(IDS, CONFIGS, strict=True):
        env = UAVNearFarVectorEnv(4, episode_length=6, **overrides)
        traces = {"random": run_reference_slots(make_reference("random", seed=3), env, 21)}
        for name in ("heuristic", "oracle"):
            traces[name] = run_reference_slots(make_reference(name), env, 21)
        trail: list[np.ndarray] = []

        def record(t, e, trail=trail):
            trail.append(e.sim.uav_pos.copy())

        traces["planner"] = run_reference_slots(PlannerPolicy(), env, 21, on_slot=record)
        env.reset(seed=21)
        start = env.sim.uav_pos.copy()
        out[key] = (traces, np.stack([start, *trail[:-1]]), env.config)
    return out


@SHARES_REFERENCE_SLOTS
@pytest.mark.parametrize("key", IDS)
def test_oracle_bounds_every_reference_slot_by_slot_on_its_objective(reference_slots, key):
    traces, _, _ = reference_slots[key]
    oracle = traces["oracle"]["reward"]
    for name in ("heuristic", "planner", "random"):
        assert np.all(oracle >= traces[name]["reward"] - 1e-6 * np.abs(oracle)), name
    assert traces["heuristic"]["reward"].mean() >= traces["random"]["reward"].mean()


@SHARES_REFERENCE_SLOTS
@pytest.mark.parametrize("key", IDS)
def test_planner_never_exceeds_the_speed_limit(reference_slots, key):
    _, positions, config = reference_slots[key]
    # positions: where the UAV was before each slot of the first episode, the last included
    flights = np.linalg.norm(np.diff(positions[: config.episode_length], axis=0), axis=-1)
    assert np.all(flights <= config.uav_max_speed_mps * config.slot_s + 1e-9)


def test_oracle_on_sum_rate_bounds_the_references_on_sum_rate():
    env = UAVNearFarVectorEnv(4, episode_length=4, n_near_users=6, n_far_users=2)
    oracle = run_reference_slots(OraclePolicy(objective="sum_rate"), env, 5)["sum_rate"]
    heuristic = run_reference_slots(make_reference("heuristic"), env, 5)["sum_rate"]
    planner = run_reference_slots(PlannerPolicy(objective="sum_rate"), env, 5)["sum_rate"]
    assert np.all(oracle >= heuristic - 1e-6 * oracle)
    assert np.all(oracle >= planner - 1e-6 * oracle)


def test_unknown_objective_and_shadow_name_the_allowed_ones():
    with pytest.raises(ValueError, match="allowed: reward, sum_rate"):
        OraclePolicy(objective="rate")
    with pytest.raises(ValueError, match="allowed: heuristic, planner"):
        OraclePolicy(shadows=("random",))


# ----------------------------------------------------------------------------- power search
def test_power_refinement_never_loses_its_start_and_nears_a_scipy_optimum():
    env = UAVNearFarVectorEnv(3, n_near_users=6, n_far_users=2)
    env.reset(seed=4)
    sim = env.sim
    position = sim.uav_pos[:, None] + np.array([300.0, 0.0, 0.0])
    best = search.optimise_power_at(sim, position, "reward", iterations=80)
    gains, far_gain = search.candidate_links(sim, position)
    bs_t, uav_t = search.template_powers(sim, far_gain)
    template_best = search.score(sim, gains, far_gain, bs_t, uav_t, "reward").max(axis=2)[:, 0]
    assert np.all(best.score[:, 0] >= template_best)
    for i in range(sim.num_envs):  # scipy L-BFGS-B from 5 starts, one network at a time

        def negative(x, i=i):
            params = np.broadcast_to(x, (sim.num_envs, 1, 1, x.size)).copy()
            bs, uav = search._to_watts(sim, params)
            return -search.score(sim, gains, far_gain, bs, uav, "reward")[i, 0, 0]

        kn = sim.config.n_near_users
        bounds = [(0, 1)] + [(-20, 20)] * (kn + 1) + [(0, 1)] + [(-20, 20)] * 2
        rng = np.random.default_rng(i)
        found = max(
            -minimize(negative, np.r_[1.0, rng.normal(0, 1, kn + 1), 1.0, rng.normal(0, 1, 2)],
                      method="L-BFGS-B", bounds=bounds).fun
            for _ in range(5)
        )  # fmt: skip
        assert best.score[i, 0] >= found - 0.002 * abs(found), (best.score[i, 0], found)


def test_shared_near_gains_equal_the_full_computation():
    rng = np.random.default_rng(0)
    lam = physics.wavelength(28e9)
    elements = physics.array_element_positions(256, lam / 2, 10.0)
    beta0 = physics.free_space_gain_at_1m(lam)
    near = np.concatenate([rng.uniform(20, 300, (3, 4, 2)), np.full((3, 4, 1), 1.5)], -1)
    uav = np.concatenate([rng.uniform(-600, 1000, (3, 9, 2)), np.full((3, 9, 1), 100.0)], -1)
    fast = physics.gains_with_moving_receiver(near, uav, elements[:, 1], 10.0, lam, beta0)
    points = np.concatenate([np.broadcast_to(near[:, None], (3, 9, 4, 3)), uav[:, :, None]], 2)
    full = physics.beam_gain_matrix(physics.near_field_channel(points, elements, lam, beta0))
    np.testing.assert_allclose(fast, full, rtol=1e-4, atol=1e-6 * full.max())


# ----------------------------------------------------------------------------- presets
def test_presets_apply_under_explicit_options_and_are_named():
    assert make_config({}) == make_config({"preset": "paper"})
    crowded = make_config({"preset": "crowded_bs", "n_far_users": 2})
    assert (crowded.preset, crowded.n_near_users, crowded.n_far_users) == ("crowded_bs", 8, 2)
    for name, options in PRESETS.items():
        config = make_config({"preset": name})
        assert all(getattr(config, k) == v for k, v in options.items()), name
    with pytest.raises(ValueError, match="unknown preset 'rural'; allowed: paper, urban_split"):
        make_config({"preset": "rural"})


def test_split_far_users_form_clusters_apart_in_angle():
    env = UAVNearFarVectorEnv(64, preset="urban_split")
    env.reset(seed=0)
    angles = np.degrees(np.arctan2(env.sim.far_pos[..., 1], env.sim.far_pos[..., 0]))
    first, second = angles[:, 0::2].mean(axis=1), angles[:, 1::2].mean(axis=1)
    assert np.all(first < second)  # cluster 0 in the lower sector of angles, cluster 1 above
    assert np.median(second - first) > 25.0
