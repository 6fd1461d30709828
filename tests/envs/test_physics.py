"""Closed-form checks of the near-field/far-field physics (DESIGN.md section 3).

The reference numbers come from the math, not from running the code:

* planar vs spherical wavefront: to second order the spherical model differs from the planar
  one by the Fresnel phase pi y^2 (1 - u_y^2) / (lambda r) across the aperture y in [-D/2, D/2]
  (u the unit direction, the array along y). Writing it a s^2 with s uniform in [-1, 1] and
  a = (pi / 8) (R / r) (1 - u_y^2), R = 2 D^2 / lambda, the normalised correlation is
  |E exp(j a s^2)| ~ 1 - a^2 Var(s^2) / 2 = 1 - (2 / 45) a^2 for small a.
* distance selectivity: a beam focused at r1 seen at r2 on the same ray keeps the fraction
  |integral_0^1 exp(j a s^2) ds|^2 = (pi / 2a) (C(z)^2 + S(z)^2), z = sqrt(2a / pi), of the
  focused gain, with a = (pi D^2 cos^2(theta) / 4 lambda) |1/r1 - 1/r2| (Fresnel integrals).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import fresnel

from gaidrl.envs import physics

N, F_C, H_BS = 256, 28e9, 10.0
LAM = physics.wavelength(F_C)
SPACING = LAM / 2
ELEMENTS = physics.array_element_positions(N, SPACING, H_BS)
BETA0 = physics.free_space_gain_at_1m(LAM)
APERTURE = (N - 1) * SPACING
R = physics.rayleigh_distance(N, SPACING, LAM)
CENTRE = np.array([0.0, 0.0, H_BS])

FAST = settings(max_examples=40, deadline=None)


def _channel(p: np.ndarray) -> np.ndarray:
    return physics.near_field_channel(np.asarray(p, float), ELEMENTS, LAM, BETA0)


def _ray(r: float, angle_deg: float) -> np.ndarray:
    """Point at distance r from the array centre, at the array's height, angle from +x."""
    a = np.radians(angle_deg)
    return CENTRE + r * np.array([np.cos(a), np.sin(a), 0.0])


def _correlation(h1: np.ndarray, h2: np.ndarray) -> float:
    return float(np.abs(np.vdot(h1, h2)) / (np.linalg.norm(h1) * np.linalg.norm(h2)))


def _normalised_gain(focus: np.ndarray, at: np.ndarray) -> float:
    """|h(at)^H w(focus)|^2 / |h(at)|^2: the share of the best gain kept off the focus."""
    return _correlation(_channel(at), _channel(focus)) ** 2


# ----------------------------------------------------------------------------- basic numbers
def test_rayleigh_distance_with_defaults_is_about_348_m():
    assert pytest.approx(348.1, abs=0.5) == R
    # 2 D^2 / lambda by hand: D = 255 * lambda / 2.
    assert pytest.approx(2 * (255 * LAM / 2) ** 2 / LAM) == R


def test_noise_power_for_100_mhz_and_nf_9_db_is_minus_85_dbm():
    noise_w = physics.noise_power_watt(100e6, 9.0)
    assert 10 * np.log10(noise_w) + 30 == pytest.approx(-85.0, abs=1e-9)
    # -174 + 80 + 9 = -85 dBm = 10^-11.5 W
    assert noise_w == pytest.approx(10**-11.5, rel=1e-12)


def test_wavelength_and_reference_gain():
    assert pytest.approx(0.0107068735, rel=1e-8) == LAM
    assert pytest.approx((LAM / (4 * np.pi)) ** 2) == BETA0
    assert 10 * np.log10(BETA0) == pytest.approx(-61.4, abs=0.05)  # FSPL at 1 m, 28 GHz


def test_array_is_centred_on_the_z_axis_with_half_wavelength_spacing():
    assert ELEMENTS.shape == (N, 3)
    assert np.allclose(ELEMENTS.mean(axis=0), CENTRE)
    assert np.allclose(np.diff(ELEMENTS[:, 1]), SPACING)
    assert np.all(ELEMENTS[:, 0] == 0) and np.all(ELEMENTS[:, 2] == H_BS)


def test_channel_amplitude_and_phase_follow_the_element_distances():
    p = np.array([37.0, -12.0, 1.5])
    h = _channel(p)
    r = np.linalg.norm(p - ELEMENTS, axis=-1)
    assert np.allclose(np.abs(h), np.sqrt(BETA0) / r, rtol=1e-12)
    # Phase exp(-j 2 pi r / lambda), checked through the phase difference between elements.
    expected = np.exp(-2j * np.pi * (r - r[0]) / LAM)
    assert np.allclose(h / np.abs(h) / (h[0] / np.abs(h[0])), expected, atol=1e-9)


# ----------------------------------------------------------------------------- near vs far field
def test_spherical_model_approaches_planar_model_beyond_rayleigh_distance():
    points = [_ray(f * R, 0.0) for f in (0.05, 0.1, 0.2, 1.0, 2.0, 10.0)]
    broadside = [
        _correlation(_channel(p), physics.planar_channel(p, ELEMENTS, LAM, BETA0)) for p in points
    ]
    # Well inside R the planar model is a poor description of the wavefront ...
    assert broadside[0] < 0.5 and broadside[1] < 0.6 and broadside[2] < 0.9
    # ... at R it is good (the classic pi/8 phase-error criterion) and it keeps improving.
    assert broadside[3] > 0.99 and broadside[5] > 0.9999
    assert all(a < b for a, b in zip(broadside[:-1], broadside[1:], strict=True)), broadside


@pytest.mark.parametrize("angle_deg", [0.0, 25.0, -50.0])
@pytest.mark.parametrize("fraction", [1.0, 3.0, 10.0])
def test_planar_mismatch_matches_the_fresnel_closed_form(angle_deg, fraction):
    r = fraction * R
    p = _ray(r, angle_deg) + np.array([0.0, 0.0, -8.5])  # users stand below the array
    offset = p - CENTRE
    u_y = offset[1] / np.linalg.norm(offset)
    a = np.pi / 8 * R / np.linalg.norm(offset) * (1 - u_y**2)
    predicted = (2 / 45) * a**2
    mismatch = 1 - _correlation(_channel(p), physics.planar_channel(p, ELEMENTS, LAM, BETA0))
    # The continuous-aperture formula ignores the discreteness of 256 elements (~2 %).
    assert mismatch == pytest.approx(predicted, rel=0.05)


def test_planar_channel_has_the_same_power_far_away():
    p = _ray(20 * R, 10.0)
    hp = physics.planar_channel(p, ELEMENTS, LAM, BETA0)
    assert np.linalg.norm(hp) ** 2 == pytest.approx(np.linalg.norm(_channel(p)) ** 2, rel=1e-4)


# ----------------------------------------------------------------------------- beamfocusing
@pytest.mark.parametrize("r", [20.0, 50.0, 150.0, 1000.0])
@pytest.mark.parametrize("angle_deg", [0.0, 40.0])
def test_focused_gain_is_n_beta0_over_r_squared(r, angle_deg):
    p = _ray(r, angle_deg)
    h = _channel(p)
    w = h / np.linalg.norm(h)
    gain = np.abs(np.vdot(h, w)) ** 2
    assert gain == pytest.approx(N * BETA0 / r**2, rel=0.01)
    # Same through beam_gain_matrix's diagonal.
    g = physics.beam_gain_matrix(h[None, :])[0, 0]
    assert g == pytest.approx(gain, rel=1e-12)


def test_near_field_beams_are_distance_selective_far_field_beams_are_not():
    # Focus at 20 m, user at 40 m on the same ray: more than 3 dB lost (Fresnel: ~4.8 dB).
    near_loss_db = -10 * np.log10(_normalised_gain(_ray(20.0, 0.0), _ray(40.0, 0.0)))
    assert near_loss_db > 3.0
    # Focus at 50 m, user at 100 m: still a visible loss.
    assert -10 * np.log10(_normalised_gain(_ray(50.0, 0.0), _ray(100.0, 0.0))) > 0.5
    # In the far field the same doubling of distance costs nothing: beams only steer angles.
    far = _normalised_gain(_ray(2000.0, 0.0), _ray(4000.0, 0.0))
    assert far > 0.999
    assert -10 * np.log10(far) < 0.01


@pytest.mark.parametrize(
    ("r1", "r2", "angle_deg"),
    [
        (20.0, 40.0, 0.0),
        (25.0, 100.0, 0.0),
        (50.0, 100.0, 0.0),
        (30.0, 60.0, 30.0),
        (2e3, 4e3, 0.0),
    ],
)
def test_distance_selectivity_matches_fresnel_integral(r1, r2, angle_deg):
    a = np.pi * APERTURE**2 * np.cos(np.radians(angle_deg)) ** 2 / (4 * LAM) * abs(1 / r1 - 1 / r2)
    s, c = fresnel(np.sqrt(2 * a / np.pi))
    predicted = np.pi / (2 * a) * (c**2 + s**2)
    measured = _normalised_gain(_ray(r1, angle_deg), _ray(r2, angle_deg))
    assert 10 * np.log10(measured) == pytest.approx(10 * np.log10(predicted), rel=0.05, abs=1e-5)


def test_beam_leaks_less_to_users_at_other_angles():
    g = physics.beam_gain_matrix(np.stack([_channel(_ray(60.0, 0.0)), _channel(_ray(60.0, 20.0))]))
    assert g.shape == (2, 2)
    assert g[0, 1] < 1e-2 * g[0, 0] and g[1, 0] < 1e-2 * g[1, 1]


# ----------------------------------------------------------------------------- fast gains
points_strategy = st.lists(
    st.tuples(
        st.sampled_from([5.0, 20.0, 100.0, 300.0, 1000.0]),
        st.floats(1.0, 1.5),
        st.floats(-1.3, 1.3),
        st.floats(0.0, 200.0),
    ),
    min_size=1,
    max_size=6,
)


@FAST
@given(points_strategy, st.integers(1, 3))
def test_focused_beam_gains_equal_exact_beam_gain_matrix(raw, batch):
    pts = np.array([[d * s * np.cos(a), d * s * np.sin(a), z] for d, s, a, z in raw])
    pts = np.stack([pts + np.array([0.0, 3.0 * i, 0.0]) for i in range(batch)])  # (B, K, 3)
    fast = physics.focused_beam_gains(pts, ELEMENTS[:, 1], H_BS, LAM, BETA0)
    exact = physics.beam_gain_matrix(physics.near_field_channel(pts, ELEMENTS, LAM, BETA0))
    assert fast.shape == exact.shape == (batch, len(raw), len(raw))
    diag = np.diagonal(exact, axis1=-2, axis2=-1)
    np.testing.assert_allclose(np.diagonal(fast, axis1=-2, axis2=-1), diag, rtol=1e-4)
    # Leakage G[k, j] <= G[k, k]: compare it on the scale of the row's focused gain.
    assert np.all(np.abs(fast - exact) <= 1e-4 * diag[..., :, None])


def test_focused_beam_gains_handles_more_networks_than_one_chunk():
    rng = np.random.default_rng(3)
    b = physics.GAIN_CHUNK * 2 + 5
    pts = np.stack(
        [rng.uniform(10, 600, (b, 3)), rng.uniform(-300, 300, (b, 3)), rng.uniform(0, 150, (b, 3))],
        axis=-1,
    )
    fast = physics.focused_beam_gains(pts, ELEMENTS[:, 1], H_BS, LAM, BETA0)
    exact = physics.beam_gain_matrix(physics.near_field_channel(pts, ELEMENTS, LAM, BETA0))
    diag = np.diagonal(exact, axis1=-2, axis2=-1)
    assert np.all(np.abs(fast - exact) <= 1e-4 * diag[..., :, None])
    # Each network's gains do not depend on which block it was computed in.
    single = physics.focused_beam_gains(pts[-1:], ELEMENTS[:, 1], H_BS, LAM, BETA0)
    np.testing.assert_allclose(single[0], fast[-1], rtol=1e-6)


# ----------------------------------------------------------------------------- SINR and rates
def test_sinr_closed_form_for_two_users():
    g = np.array([[4.0, 1.0], [0.5, 2.0]])
    p = np.array([1.0, 3.0])
    s = physics.sinr(g, p, 0.25)
    assert s == pytest.approx([4.0 / (3.0 + 0.25), 6.0 / (0.5 + 0.25)])
    assert physics.spectral_efficiency(np.array([0.0, 1.0, 3.0])) == pytest.approx([0, 1, 2])


def test_subband_rates_split_bandwidth_and_noise():
    # One sub-band of four: noise / 4, rate / 4.
    rate = physics.subband_rates(np.array([2.0]), np.array([1.0]), 8.0, 4)
    assert rate == pytest.approx([np.log2(1 + 1.0 * 2.0 / 2.0) / 4])


def test_air_to_ground_gain_los_and_expected_probabilistic_los():
    uav = np.array([0.0, 0.0, 100.0])
    users = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0]])
    los = physics.air_to_ground_gain(uav, users, BETA0)
    assert los == pytest.approx([BETA0 / 100.0**2, BETA0 / (2 * 100.0**2)])
    prob = physics.air_to_ground_gain(uav, users, BETA0, probabilistic_los=True)
    assert np.all(prob <= los) and np.all(prob >= los * 10**-2)
    p_los_45 = 1 / (1 + 9.61 * np.exp(-0.16 * (45.0 - 9.61)))
    assert prob[1] == pytest.approx(los[1] * (p_los_45 + (1 - p_los_45) * 0.01))
    assert prob[0] / los[0] > prob[1] / los[1]  # straight down is more likely LoS


# ----------------------------------------------------------------------------- fairness
rate_vectors = st.lists(
    st.floats(0.0, 100.0, allow_nan=False, allow_subnormal=False), min_size=1, max_size=12
)


@FAST
@given(rate_vectors)
def test_jain_index_lies_between_one_over_k_and_one(rates):
    r = np.array(rates)
    j = float(physics.jain_fairness(r))
    k = len(rates)
    assert 1.0 / k - 1e-12 <= j <= 1.0 + 1e-12


@FAST
@given(st.integers(1, 12), st.floats(1e-3, 100.0))
def test_jain_index_extremes(k, value):
    assert float(physics.jain_fairness(np.full(k, value))) == pytest.approx(1.0)
    one_has_all = np.zeros(k)
    one_has_all[k // 2] = value
    assert float(physics.jain_fairness(one_has_all)) == pytest.approx(1.0 / k)


def test_jain_index_with_mask_ignores_absent_users_and_batches():
    rates = np.array([[1.0, 1.0, 0.0, 0.0], [2.0, 0.0, 0.0, 5.0]])
    mask = np.array([[True, True, False, False], [True, True, True, False]])
    j = physics.jain_fairness(rates, mask)
    assert j[0] == pytest.approx(1.0)  # two active users, equal rates
    assert j[1] == pytest.approx(1.0 / 3.0)  # the masked 5.0 does not count
    assert physics.jain_fairness(np.array([1.0, 3.0])) == pytest.approx(16 / (2 * 10))


# ----------------------------------------------------------------------------- decode and forward
rate_and_backhaul = st.tuples(
    st.lists(st.floats(0.0, 50.0, allow_subnormal=False), min_size=1, max_size=8),
    st.floats(0.0, 100.0, allow_subnormal=False),
)


@FAST
@given(rate_and_backhaul)
def test_decode_and_forward_never_exceeds_the_backhaul(args):
    rates, backhaul = np.array(args[0]), args[1]
    out = physics.decode_and_forward(rates, np.array(backhaul))
    assert out.shape == rates.shape
    assert np.all(out >= 0) and np.all(out <= rates + 1e-15)
    assert out.sum() <= backhaul * (1 + 1e-12) + 1e-12
    if rates.sum() <= backhaul:
        np.testing.assert_array_equal(out, rates)  # untouched when the relay carries it all
    else:
        assert out.sum() == pytest.approx(backhaul, rel=1e-9, abs=1e-12)
        # scaled down together: the proportions stay the same
        np.testing.assert_allclose(out * rates.sum(), rates * out.sum(), rtol=1e-9, atol=1e-12)


def test_decode_and_forward_batches_per_row():
    rates = np.array([[1.0, 1.0], [3.0, 1.0]])
    out = physics.decode_and_forward(rates, np.array([5.0, 2.0]))
    np.testing.assert_allclose(out, [[1.0, 1.0], [1.5, 0.5]])
