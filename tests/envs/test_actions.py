"""Action decoding of the three modes: validity, invalid actions, flight limits, power splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gaidrl.envs import UAVNearFarEnv, UAVNearFarVectorEnv
from gaidrl.envs.actions import N_MOVES, InvalidActionError, move_directions, power_param_dim

FAST = settings(max_examples=40, deadline=None)
KN, KF = 4, 4
CONT_DIM = 2 + power_param_dim(UAVNearFarEnv().config)  # 2 + 11
PARAM_DIM = CONT_DIM - 2
N_DISCRETE = N_MOVES * 4
P_MAX_W = 1.0  # 30 dBm

unit = st.floats(-1.0, 1.0, width=32)
cont_action = st.lists(unit, min_size=CONT_DIM, max_size=CONT_DIM).map(
    lambda v: np.array(v, np.float32)
)
params = st.lists(unit, min_size=PARAM_DIM, max_size=PARAM_DIM).map(
    lambda v: np.array(v, np.float32)
)
hybrid_action = st.tuples(st.integers(0, N_MOVES - 1), params)
discrete_action = st.integers(0, N_DISCRETE - 1)
ACTIONS = {"continuous": cont_action, "discrete": discrete_action, "hybrid": hybrid_action}


def _assert_finite_step(out, env):
    obs, reward, terminated, truncated, info = out
    assert np.isfinite(reward)
    assert env.observation_space.contains(obs)
    for key, value in info.items():
        assert np.all(np.isfinite(np.asarray(value, dtype=float))), key
    assert np.all(info["rates"] >= 0)


# ----------------------------------------------------------------------------- valid actions
@pytest.mark.parametrize("mode", list(ACTIONS))
def test_actions_from_the_space_give_finite_metrics(mode):
    @FAST
    @given(st.lists(ACTIONS[mode], min_size=1, max_size=4), st.integers(0, 1000))
    def check(actions, seed):
        env = UAVNearFarEnv(mode, "tokens")
        env.reset(seed=seed)
        for a in actions:
            assert env.action_space.contains(a)
            _assert_finite_step(env.step(a), env)

    check()


@pytest.mark.parametrize("mode", ["continuous", "hybrid"])
@pytest.mark.parametrize("fill", [-1.0, 1.0, "alternate"])
def test_edge_values_give_finite_metrics(mode, fill):
    env = UAVNearFarEnv(mode, "channel", vary_user_count=True)
    dim = CONT_DIM if mode == "continuous" else PARAM_DIM
    values = np.where(np.arange(dim) % 2, 1.0, -1.0) if fill == "alternate" else np.full(dim, fill)
    values = values.astype(np.float32)
    for seed in range(3):
        env.reset(seed=seed)
        for move in range(N_MOVES):
            a = values if mode == "continuous" else (move, values)
            _assert_finite_step(env.step(a), env)


def test_every_discrete_index_is_valid():
    env = UAVNearFarEnv("discrete", episode_length=N_DISCRETE)
    env.reset(seed=0)
    for index in range(N_DISCRETE):
        _assert_finite_step(env.step(index), env)
    env.reset(seed=0)
    _assert_finite_step(env.step(np.int64(5)), env)  # numpy integers are fine too


def test_zero_power_is_allowed_and_gives_zero_rates():
    env = UAVNearFarEnv()
    env.reset(seed=0)
    a = np.zeros(CONT_DIM, np.float32)
    a[2] = a[2 + KN + 2] = -1.0  # BS and UAV power fractions = 0
    out = env.step(a)
    _assert_finite_step(out, env)
    info = out[4]
    assert info["bs_power_w"] == 0 and info["uav_power_w"] == 0
    assert np.all(info["rates"] == 0) and info["relay_rate"] == 0


# ----------------------------------------------------------------------------- invalid actions
BAD = [
    ("continuous", np.full(CONT_DIM, np.nan, np.float32), ["NaN"]),
    ("continuous", np.r_[np.inf, np.zeros(CONT_DIM - 1)], ["inf"]),
    ("continuous", np.zeros(CONT_DIM - 1, np.float32), ["shape", f"({CONT_DIM},)"]),
    ("continuous", np.zeros((1, CONT_DIM), np.float32), ["shape"]),
    ("continuous", np.r_[1.5, np.zeros(CONT_DIM - 1)], ["[-1, 1]", "1.5"]),
    ("continuous", np.r_[np.zeros(CONT_DIM - 1), -1.01], ["[-1, 1]"]),
    ("continuous", "fast", ["numeric"]),
    ("discrete", -1, ["integer", f"[0, {N_DISCRETE - 1}]"]),
    ("discrete", N_DISCRETE, ["integer", f"[0, {N_DISCRETE - 1}]"]),
    ("discrete", 2.5, ["integer"]),
    ("discrete", float("nan"), ["integer"]),
    ("discrete", "3", ["integer"]),
    ("discrete", [1, 2], ["shape"]),
    ("hybrid", np.zeros(PARAM_DIM + 1), ["tuple"]),
    ("hybrid", [0], ["tuple"]),
    ("hybrid", (0, np.zeros(PARAM_DIM), 1), ["tuple"]),
    ("hybrid", (N_MOVES, np.zeros(PARAM_DIM)), ["hybrid move", f"[0, {N_MOVES - 1}]"]),
    ("hybrid", (-1, np.zeros(PARAM_DIM)), ["hybrid move"]),
    ("hybrid", (1.5, np.zeros(PARAM_DIM)), ["hybrid move", "integer"]),
    ("hybrid", (0, np.zeros(PARAM_DIM - 1)), ["power_params", "shape"]),
    ("hybrid", (0, np.full(PARAM_DIM, np.nan)), ["power_params", "NaN"]),
    ("hybrid", (0, np.full(PARAM_DIM, 2.0)), ["power_params", "[-1, 1]"]),
]


@pytest.mark.parametrize(
    ("mode", "action", "words"), BAD, ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD)]
)
def test_invalid_action_raises_naming_the_problem_and_leaves_the_state(mode, action, words):
    env = UAVNearFarEnv(mode)
    env.reset(seed=0)
    before = (env.sim.uav_pos.copy(), env.sim.t.copy(), env.sim.near_pos.copy())
    with pytest.raises(InvalidActionError) as err:
        env.step(action)
    for word in words:
        assert word in str(err.value), (word, str(err.value))
    assert isinstance(err.value, ValueError)
    after = (env.sim.uav_pos, env.sim.t, env.sim.near_pos)
    assert all(np.array_equal(x, y) for x, y in zip(before, after, strict=True))
    _assert_finite_step(env.step(env.action_space.sample()), env)  # still usable


@FAST
@given(
    st.integers(0, CONT_DIM - 1),
    st.one_of(
        st.floats(1.0 + 1e-4, 1e6), st.floats(-1e6, -1.0 - 1e-4), st.just(np.nan), st.just(-np.inf)
    ),
)
def test_any_out_of_box_entry_is_rejected(index, value):
    env = UAVNearFarEnv()
    env.reset(seed=0)
    a = np.zeros(CONT_DIM)
    a[index] = value
    with pytest.raises(InvalidActionError, match=r"NaN or inf|\[-1, 1\]"):
        env.step(a)


@pytest.mark.parametrize(
    ("mode", "action", "word"),
    [
        ("continuous", np.zeros((2, CONT_DIM)), "shape"),
        ("continuous", np.zeros(CONT_DIM), "shape"),
        ("discrete", np.array([0, 1]), "shape"),
        ("discrete", np.array([0, 1, N_DISCRETE]), "integer"),
        ("hybrid", (np.array([0, 1, 2]), np.zeros((2, PARAM_DIM))), "shape"),
        ("hybrid", (np.array([0, 1, 2]), np.full((3, PARAM_DIM), np.nan)), "NaN"),
    ],
)
def test_vector_env_rejects_bad_batches(mode, action, word):
    venv = UAVNearFarVectorEnv(3, mode)
    venv.reset(seed=0)
    with pytest.raises(InvalidActionError, match=word):
        venv.step(action)


# ----------------------------------------------------------------------------- flight limits
def _check_flight(env, actions):
    c, sim = env.config, env.sim
    step_m = c.uav_max_speed_mps * c.slot_s
    env.reset(seed=0)
    for a in actions:
        if env.sim.done[0]:
            env.reset()
        before = sim.uav_pos[0].copy()
        _, _, _, _, info = env.step(a)
        after = sim.uav_pos[0]
        assert np.array_equal(info["uav_position"], after)
        assert np.linalg.norm(after - before) <= step_m * (1 + 1e-12), (before, after, a)
        assert np.all(after >= sim.area_low) and np.all(after <= sim.area_high), after
        assert 0.0 <= info["boundary_violation_m"] <= step_m * (1 + 1e-12)


SMALL_AREA = {"area_x_m": (0.0, 120.0), "area_y_m": (-60.0, 60.0), "episode_length": 8}


@FAST
@given(st.lists(cont_action, min_size=1, max_size=25))
def test_uav_never_exceeds_max_speed_nor_leaves_the_area_continuous(actions):
    _check_flight(UAVNearFarEnv(**SMALL_AREA), actions)


@FAST
@given(st.lists(discrete_action, min_size=1, max_size=25))
def test_uav_never_exceeds_max_speed_nor_leaves_the_area_discrete(actions):
    _check_flight(UAVNearFarEnv("discrete", uav_max_speed_mps=35.0, **SMALL_AREA), actions)


@FAST
@given(st.lists(hybrid_action, min_size=1, max_size=25))
def test_uav_never_exceeds_max_speed_nor_leaves_the_area_hybrid(actions):
    _check_flight(UAVNearFarEnv("hybrid", slot_s=0.5, **SMALL_AREA), actions)


def test_uav_starts_inside_a_custom_area_that_excludes_the_default_start():
    # The default start box is x in [x0, x0 + 200], y in [-100, 100].
    for area in ({"area_y_m": (200.0, 800.0)}, {"area_x_m": (0.0, 150.0)}):
        env = UAVNearFarEnv(**area)
        for seed in range(10):
            env.reset(seed=seed)
            pos = env.sim.uav_pos[0]
            assert np.all(pos >= env.sim.area_low) and np.all(pos <= env.sim.area_high), (area, pos)
        _check_flight(env, [np.zeros(CONT_DIM, np.float32)] * 3)  # hovering must not jump


@FAST
@given(st.lists(st.lists(unit, min_size=CONT_DIM + 1, max_size=CONT_DIM + 1), max_size=25))
def test_altitude_control_keeps_altitude_in_range_and_horizontal_speed_capped(actions):
    env = UAVNearFarEnv(uav_altitude_control=True, **SMALL_AREA)
    env.reset(seed=0)
    step_m = env.config.uav_max_speed_mps * env.config.slot_s
    for a in actions:
        if env.sim.done[0]:
            env.reset()
        before = env.sim.uav_pos[0].copy()
        env.step(np.array(a, np.float32))
        after = env.sim.uav_pos[0]
        assert np.linalg.norm((after - before)[:2]) <= step_m * (1 + 1e-12)
        assert abs(after[2] - before[2]) <= step_m * (1 + 1e-12)
        assert 50.0 <= after[2] <= 200.0


def test_altitude_control_keeps_the_3d_speed_capped():
    env = UAVNearFarEnv(uav_altitude_control=True)
    env.reset(seed=0)
    before = env.sim.uav_pos[0].copy()
    a = np.zeros(CONT_DIM + 1, np.float32)
    a[:3] = 1.0  # north-east and up at full command
    env.step(a)
    moved = np.linalg.norm(env.sim.uav_pos[0] - before)
    assert moved <= env.config.uav_max_speed_mps * env.config.slot_s * (1 + 1e-12), moved


def test_velocity_commands_are_scaled_and_capped():
    env = UAVNearFarEnv()
    env.reset(seed=0)
    env.sim.uav_pos[0] = [500.0, 0.0, 100.0]  # away from every border
    for vx, vy, expected in [(0.5, 0.0, (10.0, 0.0)), (1.0, 1.0, (20 / 2**0.5, 20 / 2**0.5)),
                             (0.0, -1.0, (0.0, -20.0)), (0.0, 0.0, (0.0, 0.0))]:  # fmt: skip
        a = np.zeros(CONT_DIM, np.float32)
        a[:2] = vx, vy
        before = env.sim.uav_pos[0].copy()
        env.step(a)
        np.testing.assert_allclose(env.sim.uav_pos[0] - before, [*expected, 0.0], atol=1e-6)


def test_discrete_and_hybrid_moves_follow_the_compass():
    dirs = move_directions()
    assert np.array_equal(dirs[0], [0.0, 0.0])
    np.testing.assert_allclose(np.linalg.norm(dirs[1:], axis=-1), 1.0)
    np.testing.assert_allclose(dirs[1], [1.0, 0.0], atol=1e-12)  # east
    np.testing.assert_allclose(dirs[3], [0.0, 1.0], atol=1e-12)  # north
    for mode in ("discrete", "hybrid"):
        env = UAVNearFarEnv(mode)
        env.reset(seed=0)
        env.sim.uav_pos[0] = [500.0, 0.0, 100.0]
        for move in range(N_MOVES):
            a = move * 4 + 2 if mode == "discrete" else (move, np.zeros(PARAM_DIM, np.float32))
            before = env.sim.uav_pos[0].copy()
            env.step(a)
            np.testing.assert_allclose(
                env.sim.uav_pos[0] - before, [*(20 * dirs[move]), 0], atol=1e-9
            )


# ----------------------------------------------------------------------------- power splits
def _plan(env, action):
    plan, _ = env.decoder.decode(action, batched=False)
    return plan.bs_power_w[0], plan.uav_power_w[0]


@FAST
@given(params, st.integers(0, 10_000))
def test_power_splits_sum_to_used_power_and_absent_users_get_none(p, seed):
    env = UAVNearFarEnv("hybrid", "tokens")
    env.reset(seed=seed)
    near_mask, far_mask = env.sim.near_mask[0], env.sim.far_mask[0]
    bs, uav = _plan(env, (0, p))
    p64 = np.asarray(p, np.float64)  # the env decodes in float64
    bs_fraction, uav_fraction = (p64[0] + 1) / 2, (p64[KN + 2] + 1) / 2
    assert bs.sum() == pytest.approx(bs_fraction * P_MAX_W, rel=1e-9, abs=1e-15)
    assert uav.sum() == pytest.approx(uav_fraction * P_MAX_W, rel=1e-9, abs=1e-15)
    assert np.all(bs >= 0) and np.all(uav >= 0)
    assert np.all(bs[:KN][~near_mask] == 0) and np.all(uav[~far_mask] == 0)
    # the split is a softmax of scaled logits over the users present (relay beam always on)
    logits = 3.0 * p64[1 : KN + 2]
    active = np.r_[near_mask, True]
    w = np.exp(logits[active] - logits[active].max())
    np.testing.assert_allclose(
        bs[active], bs_fraction * P_MAX_W * w / w.sum(), rtol=1e-9, atol=1e-15
    )
    _, _, _, _, info = env.step((0, p))
    assert info["bs_power_w"] == pytest.approx(bs.sum(), rel=1e-12, abs=1e-15)
    assert info["uav_power_w"] == pytest.approx(uav.sum(), rel=1e-12, abs=1e-15)
    assert info["bs_power_fraction"] == pytest.approx(bs_fraction, rel=1e-9, abs=1e-12)
    assert np.all(info["rates"][~np.r_[near_mask, far_mask]] == 0)


@FAST
@given(cont_action, st.integers(0, 10_000))
def test_continuous_power_matches_hybrid_power_of_the_same_parameters(a, seed):
    cont = UAVNearFarEnv("continuous", vary_user_count=True)
    hyb = UAVNearFarEnv("hybrid", vary_user_count=True)
    cont.reset(seed=seed)
    hyb.reset(seed=seed)
    for x, y in zip(_plan(cont, a), _plan(hyb, (0, a[2:])), strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("seed", range(6))
def test_discrete_templates_split_power_as_documented(seed):
    env = UAVNearFarEnv("discrete", "tokens")
    env.reset(seed=seed)
    near_mask, far_mask = env.sim.near_mask[0], env.sim.far_mask[0]
    for t, template in enumerate(env.config.power_templates):
        bs, uav = _plan(env, t)  # move 0 (hover) with template t
        assert bs.sum() == pytest.approx(template.bs_fraction * P_MAX_W)
        assert uav.sum() == pytest.approx(template.uav_fraction * P_MAX_W)
        assert np.all(bs[:KN][~near_mask] == 0) and np.all(uav[~far_mask] == 0)
        near = bs[:KN][near_mask]
        np.testing.assert_allclose(near, near[0])  # equal among near users
        assert bs[KN] == pytest.approx(template.relay_beam_weight * near[0])
        np.testing.assert_allclose(uav[far_mask], uav.sum() / far_mask.sum())


def test_waypoint_control_flies_toward_the_named_point_at_most_at_max_speed():
    env = UAVNearFarEnv(uav_control="waypoint")
    env.reset(seed=3)
    sim = env.sim
    step_m = env.config.uav_max_speed_mps * env.config.slot_s
    action = np.zeros(env.action_space.shape, np.float32)
    action[:2] = [1.0, 1.0]  # the area's far corner (x max, y max)
    before = sim.uav_pos[0].copy()
    env.step(action)
    moved = sim.uav_pos[0] - before
    corner = np.array([env.config.area_x_m[1], env.config.area_y_m[1]])
    direction = (corner - before[:2]) / np.linalg.norm(corner - before[:2])
    assert np.linalg.norm(moved) == pytest.approx(step_m)
    np.testing.assert_allclose(moved[:2] / step_m, direction, atol=1e-9)
    # naming the UAV's own position (to within a metre) keeps it there
    low, high = sim.area_low[:2], sim.area_high[:2]
    here = 2.0 * (sim.uav_pos[0, :2] - low) / (high - low) - 1.0
    action[:2] = here
    before = sim.uav_pos[0].copy()
    env.step(action.astype(np.float32))
    assert np.linalg.norm(sim.uav_pos[0] - before) < 1.0


def test_unknown_uav_control_is_refused_with_the_allowed_values():
    with pytest.raises(ValueError, match="velocity.*waypoint"):
        UAVNearFarEnv(uav_control="teleport")
