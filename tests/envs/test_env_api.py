"""Gymnasium API of gaidrl/UAVNearFar-v0: checker, vector env == single envs, info, errors."""

from __future__ import annotations

import itertools
import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import gaidrl  # noqa: F401  (registers the env id)
from gaidrl.envs import ENV_ID, UAVNearFarEnv, UAVNearFarVectorEnv, make_config

ACTION_MODES = ("continuous", "discrete", "hybrid")
OBS_MODES = ("compact", "channel", "tokens")
ALL_MODES = list(itertools.product(ACTION_MODES, OBS_MODES))
METRIC_KEYS = (
    "rates", "near_rates", "far_rates", "relay_rate", "sum_rate", "mean_rate", "fairness",
    "utility", "bs_power_w", "uav_power_w", "bs_power_fraction", "uav_power_fraction",
    "boundary_violation_m", "backhaul_shortfall", "uav_position", "user_mask",
)  # fmt: skip
FAST = settings(max_examples=30, deadline=None)


def _equal(a, b) -> bool:
    """Bitwise equality of observations (arrays or dicts of arrays)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b)


def _row(batched, i: int):
    """Sub-environment i of a batched observation."""
    return {k: v[i] for k, v in batched.items()} if isinstance(batched, dict) else batched[i]


def _batch(mode: str, actions: list):
    """Stack single-env actions into one vector-env action."""
    if mode == "hybrid":
        return (np.array([a[0] for a in actions]), np.stack([a[1] for a in actions]))
    return np.stack([np.asarray(a) for a in actions])


def _positions(obs) -> np.ndarray:
    return obs["tokens"][:, 3:6] if isinstance(obs, dict) else obs[: 3 + 2 * 8]


# ----------------------------------------------------------------------------- env checker
@pytest.mark.parametrize(("action_mode", "obs_mode"), ALL_MODES)
def test_gymnasium_env_checker_passes(action_mode, obs_mode):
    env = UAVNearFarEnv(action_mode, obs_mode)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(env, skip_render_check=True)
    # The observation Boxes are unbounded on purpose; nothing else may be flagged.
    other = [str(w.message) for w in caught if "infinity" not in str(w.message)]
    assert not other, other


@pytest.mark.filterwarnings("ignore:.*infinity")
def test_gym_make_and_make_vec_work():
    env = gym.make(ENV_ID, action_mode="hybrid", obs_mode="tokens", episode_length=7)
    obs, _ = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.unwrapped.config.episode_length == 7
    venv = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(venv.unwrapped, UAVNearFarVectorEnv) and venv.num_envs == 3
    obs, info = venv.reset(seed=4)
    assert obs.shape == (3, *venv.single_observation_space.shape)
    assert venv.observation_space.contains(obs)
    obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
    assert rew.shape == term.shape == trunc.shape == (3,)
    assert info["rates"].shape == (3, 8)
    venv.close()


# ----------------------------------------------------------------------------- vector == single
@pytest.mark.parametrize(
    ("action_mode", "obs_mode"),
    [
        ("continuous", "compact"),
        ("discrete", "tokens"),
        ("hybrid", "channel"),
        ("hybrid", "tokens"),
    ],
)
def test_vector_env_replays_single_envs_bitwise_across_autoreset(action_mode, obs_mode):
    n, seed, length, steps = 3, 11, 4, 13  # 3 autoresets per sub-env
    opts = {"episode_length": length, "user_speed_mps": 2.0}
    venv = UAVNearFarVectorEnv(n, action_mode, obs_mode, **opts)
    singles = [UAVNearFarEnv(action_mode, obs_mode, **opts) for _ in range(n)]
    vobs, vinfo = venv.reset(seed=seed)
    for i, env in enumerate(singles):
        obs, info = env.reset(seed=seed + i)
        assert _equal(obs, _row(vobs, i))
        assert info["n_near_users"] == vinfo["n_near_users"][i]
    space = singles[0].action_space
    space.seed(123)
    n_final = 0
    for _ in range(steps):
        actions = [space.sample() for _ in range(n)]
        vobs, vrew, vterm, vtrunc, vinfo = venv.step(_batch(action_mode, actions))
        for i, env in enumerate(singles):
            obs, rew, term, trunc, info = env.step(actions[i])
            assert rew == vrew[i] and term == vterm[i] and trunc == vtrunc[i]
            for key in METRIC_KEYS:
                assert np.array_equal(info[key], vinfo[key][i]), key
            if trunc:
                n_final += 1
                assert vinfo["_final_obs"][i]
                assert _equal(obs, _row(vinfo["final_obs"], i))
                obs, _ = env.reset()  # continues the env's own generator, like autoreset
            assert _equal(obs, _row(vobs, i))
    assert n_final == 3 * n


def test_vector_env_accepts_a_seed_list():
    venv = UAVNearFarVectorEnv(2)
    vobs, _ = venv.reset(seed=[7, 3])
    for i, s in enumerate((7, 3)):
        obs, _ = UAVNearFarEnv().reset(seed=s)
        assert _equal(obs, vobs[i])
    with pytest.raises(ValueError, match="2 entries"):
        venv.reset(seed=[1, 2, 3])


def test_vector_env_must_be_reset_before_step():
    venv = UAVNearFarVectorEnv(2)
    with pytest.raises(RuntimeError, match="reset"):
        venv.step(venv.action_space.sample())


# ----------------------------------------------------------------------------- seeding
def _rollout(seed: int, mode=("continuous", "compact"), steps: int = 5):
    env = UAVNearFarEnv(*mode)
    out = [env.reset(seed=seed)[0]]
    env.action_space.seed(0)
    for _ in range(steps):
        obs, rew, _, _, info = env.step(env.action_space.sample())
        out += [obs, rew, info["rates"]]
    return out


@pytest.mark.parametrize("mode", [("continuous", "compact"), ("discrete", "tokens")])
def test_same_seed_same_numbers_different_seed_different_layout(mode):
    a, b, c = _rollout(5, mode), _rollout(5, mode), _rollout(6, mode)
    assert all(_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(_positions(a[0]), _positions(c[0]))


def test_reset_without_seed_draws_a_new_layout():
    env = UAVNearFarEnv()
    first, _ = env.reset(seed=1)
    second, _ = env.reset()
    assert not np.array_equal(_positions(first), _positions(second))
    again, _ = env.reset(seed=1)
    assert _equal(first, again)


def test_fixed_layout_gives_the_same_layout_every_reset():
    env = UAVNearFarEnv(obs_mode="tokens", fixed_layout=True, layout_seed=3)
    first, _ = env.reset(seed=0)
    for s in (None, 1, 99):
        obs, _ = env.reset(seed=s)
        assert _equal(obs, first)
    other, _ = UAVNearFarEnv(obs_mode="tokens", fixed_layout=True, layout_seed=4).reset(seed=0)
    assert not _equal(other, first)


# ----------------------------------------------------------------------------- info and reward
@pytest.mark.parametrize(("action_mode", "obs_mode"), ALL_MODES)
def test_info_metrics_every_step(action_mode, obs_mode):
    env = UAVNearFarEnv(action_mode, obs_mode, episode_length=6)
    env.action_space.seed(1)
    for episode in range(2):
        env.reset(seed=episode)
        for _ in range(6):
            _, _, _, _, info = env.step(env.action_space.sample())
            assert set(METRIC_KEYS) <= set(info)
            rates, mask = info["rates"], info["user_mask"]
            k = int(mask.sum())
            assert rates.shape == mask.shape == (8,)
            assert np.all(np.isfinite(rates)) and np.all(rates >= 0)
            assert np.all(rates[~mask] == 0)
            assert np.array_equal(rates, np.concatenate([info["near_rates"], info["far_rates"]]))
            assert info["sum_rate"] == pytest.approx(rates.sum(), rel=1e-12)
            assert info["mean_rate"] == pytest.approx(rates.sum() / k, rel=1e-12)
            assert 1 / k - 1e-12 <= info["fairness"] <= 1 + 1e-12
            for key in ("bs_power_fraction", "uav_power_fraction"):
                assert 0.0 <= info[key] <= 1.0 + 1e-12, key
            assert info["far_rates"].sum() <= info["relay_rate"] * (1 + 1e-9) + 1e-12
            assert 0.0 <= info["backhaul_shortfall"] <= 1.0


def _reward_from_info(config, info) -> float:
    """The reward formula documented in the env's docstring, recomputed from info."""
    c = config
    power = 0.5 * (info["bs_power_fraction"] + info["uav_power_fraction"])
    violation = min(info["boundary_violation_m"] / (c.uav_max_speed_mps * c.slot_s), 1.0)
    rates = info["rates"][info["user_mask"]]
    if c.reward_alpha == 1.0:
        utilities = np.log1p(rates)
        reference = math.log1p(c.rate_reference_bps_hz)
    else:
        exponent = 1.0 - c.reward_alpha
        utilities = ((1.0 + rates) ** exponent - 1.0) / exponent
        reference = ((1.0 + c.rate_reference_bps_hz) ** exponent - 1.0) / exponent
    assert info["utility"] == pytest.approx(utilities.mean(), rel=1e-9)
    served = math.tanh(utilities.mean() / reference)
    return served * (1.0 - c.reward_power_weight * power) - c.reward_boundary_weight * violation


weights = st.fixed_dictionaries(
    {
        "reward_alpha": st.sampled_from([0.0, 0.5, 1.0, 2.0, 10.0]),
        "reward_power_weight": st.floats(0.0, 0.99),
        "reward_boundary_weight": st.floats(0.0, 3.0),
        "rate_reference_bps_hz": st.floats(0.1, 20.0),
    }
)


@FAST
@given(
    weights,
    st.lists(
        st.lists(st.floats(-1.0, 1.0, width=32), min_size=13, max_size=13), min_size=1, max_size=4
    ),
    st.integers(0, 2**16),
)
def test_reward_within_bounds_and_equals_the_documented_formula(w, actions, seed):
    env = UAVNearFarEnv(**w)
    low, high = env.config.reward_bounds()
    env.reset(seed=seed)
    for a in actions:
        _, reward, _, _, info = env.step(np.array(a, dtype=np.float32))
        assert low - 1e-12 <= reward <= high + 1e-12
        assert reward == pytest.approx(_reward_from_info(env.config, info), abs=1e-9)


def test_alpha_zero_without_power_cost_is_the_former_rate_only_reward():
    """Figures of the rate-only reward (fairness and power weights 0) carry over exactly."""
    env = UAVNearFarEnv(reward_alpha=0.0, reward_power_weight=0.0)
    env.reset(seed=3)
    env.action_space.seed(3)
    for _ in range(3):
        action = env.action_space.sample()
        action[:2] = 0.0  # hover: no boundary penalty
        _, reward, _, _, info = env.step(action)
        assert reward == pytest.approx(math.tanh(info["mean_rate"] / 5.0), rel=1e-12)


def test_leaving_the_area_is_penalised_and_stopped_at_the_border():
    env = UAVNearFarEnv(reward_boundary_weight=2.0)
    env.reset(seed=0)
    west = np.zeros(env.action_space.shape, np.float32)
    west[0] = -1.0
    violations = []
    for _ in range(15):  # the UAV starts within 200 m of x = 0
        _, reward, _, _, info = env.step(west)
        violations.append(info["boundary_violation_m"])
        assert info["uav_position"][0] >= 0.0
    assert violations[-1] == pytest.approx(20.0)  # a whole slot's flight was cut off
    assert reward == pytest.approx(_reward_from_info(env.config, info))
    assert reward <= 1.0 - 2.0


def test_reward_bounds_of_the_config():
    c = make_config({"reward_power_weight": 0.3, "reward_boundary_weight": 2.0})
    assert c.reward_bounds() == (-2.0, 1.0)


@pytest.mark.parametrize(
    ("option", "hint"),
    [("reward_fairness_weight", "Jain's index paid silence"), ("reward_rate_weight", "alpha")],
)
def test_removed_reward_options_say_what_replaced_them(option, hint):
    with pytest.raises(TypeError, match=f"{option}' was removed: .*{hint}"):
        make_config({option: 1.0})


# ----------------------------------------------------------------------------- episodes
@pytest.mark.parametrize("length", [1, 5])
def test_episode_truncates_at_length_never_terminates_and_step_after_end_raises(length):
    env = UAVNearFarEnv(episode_length=length)
    for _ in range(2):
        env.reset(seed=0)
        for t in range(length):
            _, _, terminated, truncated, _ = env.step(env.action_space.sample())
            assert terminated is False
            assert truncated is (t == length - 1)
        with pytest.raises(RuntimeError, match="reset"):
            env.step(env.action_space.sample())


def test_default_episode_is_100_slots_and_obs_reports_elapsed_time():
    env = UAVNearFarEnv()
    obs, _ = env.reset(seed=0)
    elapsed_index = 3 + 16 + 8 + 9 + 9  # after UAV, positions, relative far positions, gains, rates
    assert obs[elapsed_index] == 0.0
    for t in range(100):
        obs, _, _, truncated, _ = env.step(env.action_space.sample())
        assert obs[elapsed_index] == pytest.approx((t + 1) / 100)
    assert truncated


def test_tokens_mode_varies_the_number_of_users_and_the_mask_matches():
    env = UAVNearFarEnv(action_mode="discrete", obs_mode="tokens", episode_length=2)
    counts = set()
    for seed in range(20):
        obs, info = env.reset(seed=seed)
        n_near, n_far = info["n_near_users"], info["n_far_users"]
        counts.add((n_near, n_far))
        assert 1 <= n_near <= 4 and 1 <= n_far <= 4
        mask = obs["mask"].astype(bool)
        expected = np.r_[True, np.arange(4) < n_near, np.arange(4) < n_far]
        assert np.array_equal(mask, expected)
        assert np.all(obs["tokens"][~mask] == 0)  # absent users carry no features
        assert np.all(obs["tokens"][mask, :3].sum(-1) == 1)  # one-hot node type
        _, _, _, _, step_info = env.step(0)
        assert np.array_equal(step_info["user_mask"], mask[1:])
        assert np.all(step_info["rates"][~mask[1:]] == 0)
        assert np.all(step_info["rates"][mask[1:]] > 0)
    assert len(counts) > 3


def test_compact_mode_keeps_every_user_unless_asked():
    env = UAVNearFarEnv()
    for seed in range(5):
        _, info = env.reset(seed=seed)
        assert (info["n_near_users"], info["n_far_users"]) == (4, 4)
    varied = UAVNearFarEnv(vary_user_count=True)
    counts = {tuple(varied.reset(seed=s)[1].values()) for s in range(20)}
    assert len(counts) > 1
    obs, info = varied.reset(seed=0)
    assert np.array_equal(obs[-8:], np.r_[np.arange(4) < info["n_near_users"],
                                          np.arange(4) < info["n_far_users"]])  # fmt: skip


def test_users_are_in_their_zones_and_the_uav_in_the_area():
    env = UAVNearFarEnv()
    sim = env.sim
    for seed in range(10):
        env.reset(seed=seed)
        near = np.linalg.norm(sim.near_pos[0, :, :2], axis=-1)
        far = np.linalg.norm(sim.far_pos[0, :, :2], axis=-1)
        assert np.all(near < sim.rayleigh_m) and np.all(far > sim.rayleigh_m)
        assert np.all(sim.near_pos[0, :, 0] > 0) and np.all(sim.far_pos[0, :, 0] > 0)
        assert np.all(sim.uav_pos[0] >= sim.area_low) and np.all(sim.uav_pos[0] <= sim.area_high)


# ----------------------------------------------------------------------------- config errors
def test_unknown_config_key_raises_naming_the_key():
    with pytest.raises(TypeError, match="n_antenas"):
        UAVNearFarEnv(n_antenas=64)
    with pytest.raises(TypeError, match="bogus_option"):
        UAVNearFarVectorEnv(2, bogus_option=1)
    with pytest.raises(TypeError, match="n_antenas"):
        make_config({"n_antenas": 64})


def test_config_overrides_reach_the_env():
    env = UAVNearFarEnv(obs_mode="channel", n_antennas=128, n_near_users=2, n_far_users=3)
    obs, _ = env.reset(seed=0)
    assert env.sim.rayleigh_m == pytest.approx(127**2 * env.sim.wavelength / 2)
    assert obs.shape == env.observation_space.shape
    assert env.observation_space.shape[0] == (3 + 10 + 6 + 6 + 6 + 1 + 5) + 3 * 2 * 128
    _, _, _, _, info = env.step(env.action_space.sample())
    assert info["rates"].shape == (5,)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"action_mode": "cont"}, ["'cont'", "continuous", "discrete", "hybrid"]),
        ({"obs_mode": "pixels"}, ["'pixels'", "compact", "channel", "tokens"]),
        ({"render_mode": "ansi"}, ["'ansi'", "rgb_array", "human"]),
    ],
)
def test_bad_modes_raise_naming_allowed_values(kwargs, words):
    for make in (UAVNearFarEnv, lambda **k: UAVNearFarVectorEnv(2, **k)):
        with pytest.raises(ValueError) as err:
            make(**kwargs)
        for word in words:
            assert word in str(err.value)


@pytest.mark.parametrize(
    "overrides",
    [{"n_antennas": 0}, {"episode_length": -1}, {"min_near_users": 5},
     {"near_max_distance_fraction": 1.5}, {"area_x_m": (10.0, 0.0)}, {"uav_altitude_m": 300.0},
     {"reward_power_weight": -1.0}, {"reward_power_weight": 1.0}, {"reward_alpha": -0.5},
     {"reward_alpha": 11.0}, {"power_templates": ()}, {"preset": "rural"},
     {"far_clusters": 0}],
)  # fmt: skip
def test_invalid_config_values_raise(overrides):
    with pytest.raises(ValueError):
        UAVNearFarEnv(**overrides)


def test_config_and_overrides_are_exclusive():
    with pytest.raises(TypeError, match="not both"):
        UAVNearFarEnv(config=make_config(), episode_length=3)
    env = UAVNearFarEnv(config=make_config({"episode_length": 3}))
    assert env.config.episode_length == 3


def test_small_array_whose_near_zone_is_empty_is_rejected_by_the_config():
    with pytest.raises(ValueError, match="near_min_distance_m"):
        env = UAVNearFarEnv(n_antennas=32)
        env.reset(seed=0)
        near_d = np.linalg.norm(env.sim.near_pos[0, :, :2], axis=-1)
        assert np.all(near_d < env.sim.rayleigh_m), "near users outside the near field"


def test_step_plan_masks_absent_users_and_caps_the_boundary_penalty():
    from gaidrl.envs.simulator import SlotPlan

    env = UAVNearFarEnv(obs_mode="tokens", reward_boundary_weight=0.7)
    seed = next(s for s in range(50) if env.reset(seed=s)[1]["n_far_users"] < 4)
    env.reset(seed=seed)
    near_mask, far_mask = env.sim.near_mask[0], env.sim.far_mask[0]
    plan = SlotPlan(
        uav_position=np.array([[600.0, 0.0, 100.0]]),  # a teleport: allowed for references
        bs_power_w=np.full((1, 5), 0.2),
        uav_power_w=np.full((1, 4), 0.25),
    )
    _, reward, _, _, info = env.step_plan(plan, np.array([1e4]))
    assert np.array_equal(info["uav_position"], [600.0, 0.0, 100.0])
    # Power sent to absent users is neither used nor counted.
    assert info["bs_power_w"] == pytest.approx(0.2 * (near_mask.sum() + 1))
    assert info["uav_power_w"] == pytest.approx(0.25 * far_mask.sum())
    assert np.all(info["rates"][~np.r_[near_mask, far_mask]] == 0)
    # A huge violation costs at most the boundary weight: the reward stays in its bounds.
    low, _ = env.config.reward_bounds()
    assert reward >= low
    assert reward == pytest.approx(_reward_from_info(env.config, info))


def test_users_walk_slowly_and_stay_in_their_zones():
    venv = UAVNearFarVectorEnv(16, user_speed_mps=4.0, episode_length=60)
    venv.reset(seed=2)
    sim = venv.sim
    near_hi, far_lo = 0.8 * sim.rayleigh_m, 1.2 * sim.rayleigh_m
    start = np.concatenate([sim.near_pos, sim.far_pos], axis=1)
    venv.action_space.seed(0)
    for _ in range(59):
        before = np.concatenate([sim.near_pos, sim.far_pos], axis=1)
        venv.step(venv.action_space.sample())
        after = np.concatenate([sim.near_pos, sim.far_pos], axis=1)
        assert np.all(np.linalg.norm(after - before, axis=-1) <= 4.0 * (1 + 1e-12))
        near_d = np.linalg.norm(sim.near_pos[..., :2], axis=-1)
        far_d = np.linalg.norm(sim.far_pos[..., :2], axis=-1)
        assert np.all((near_d >= 20.0) & (near_d <= near_hi))
        assert np.all(far_d >= far_lo * (1 - 1e-12))
        assert np.all(sim.far_pos[..., 0] <= 1000.0) and np.all(np.abs(sim.far_pos[..., 1]) <= 600)
    assert np.mean(np.linalg.norm(after - start, axis=-1) > 1.0) > 0.9  # they do move


def test_observe_beam_gains_appends_the_masked_beam_gain_matrix_in_db():
    from gaidrl.envs.observations import GAIN_OFFSET_DB, GAIN_SCALE_DB

    plain = UAVNearFarVectorEnv(3, vary_user_count=True)
    env = UAVNearFarVectorEnv(3, vary_user_count=True, observe_beam_gains=True)
    k = env.config.n_near_users + 1
    assert env.single_observation_space.shape[0] == plain.single_observation_space.shape[0] + k * k
    obs, _ = env.reset(seed=11)
    base, _ = plain.reset(seed=11)
    np.testing.assert_array_equal(obs[:, : base.shape[1]], base)  # the rest is unchanged
    tail = obs[:, base.shape[1] :].reshape(3, k, k)
    present = np.concatenate([env.sim.near_mask, np.ones((3, 1), bool)], axis=-1)
    expected = (10 * np.log10(env.sim.gains) + GAIN_OFFSET_DB) / GAIN_SCALE_DB
    both = present[:, :, None] & present[:, None, :]
    np.testing.assert_allclose(tail[both], expected[both], rtol=1e-5)
    assert np.all(tail[~both] == 0)  # absent users' rows and columns are zero
    assert (~both).any(), "the seed should draw a network with an absent near user"
    # its last diagonal entry is the relay beam's focused gain, which compact already carries
    c = env.config
    relay_gain_index = 3 + 2 * c.max_users + 2 * c.n_far_users + c.n_near_users
    np.testing.assert_allclose(tail[:, -1, -1], obs[:, relay_gain_index], rtol=1e-5)


def test_beam_gains_with_the_tokens_observation_are_refused_not_ignored():
    with pytest.raises(ValueError, match="observe_beam_gains .* tokens observation has no place"):
        UAVNearFarVectorEnv(2, obs_mode="tokens", observe_beam_gains=True)
