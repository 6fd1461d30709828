"""Physics of the UAV-assisted near-field/far-field case study: pure, batched numpy functions.

Every function broadcasts over leading batch dimensions, so the single env, the vector env
and the oracle's search all run the same arithmetic. Units: metres, hertz, watts, radians;
rates are in bit/s/Hz of the base station's band.
"""

from __future__ import annotations

import numpy as np

SPEED_OF_LIGHT = 299_792_458.0  # m/s


def wavelength(carrier_hz: float) -> float:
    """Carrier wavelength lambda = c / f_c, in metres."""
    return SPEED_OF_LIGHT / carrier_hz


def free_space_gain_at_1m(wavelength_m: float) -> float:
    """Reference path gain beta0 = (lambda / 4 pi)^2 (Friis, isotropic antennas, 1 m)."""
    return (wavelength_m / (4.0 * np.pi)) ** 2


def array_element_positions(n_elements: int, spacing_m: float, height_m: float) -> np.ndarray:
    """Positions (N, 3) of a uniform linear array along the y-axis centred at (0, 0, height)."""
    y = (np.arange(n_elements) - (n_elements - 1) / 2.0) * spacing_m
    return np.stack([np.zeros_like(y), y, np.full_like(y, height_m)], axis=-1)


def rayleigh_distance(n_elements: int, spacing_m: float, wavelength_m: float) -> float:
    """Rayleigh distance 2 D^2 / lambda with aperture D = (N - 1) d: the near/far-field border."""
    aperture = (n_elements - 1) * spacing_m
    return 2.0 * aperture**2 / wavelength_m


def dbm_to_watt(dbm: float | np.ndarray) -> float | np.ndarray:
    return 10.0 ** ((np.asarray(dbm, dtype=np.float64) - 30.0) / 10.0)


def noise_power_watt(bandwidth_hz: float, noise_figure_db: float, psd_dbm_hz: float = -174.0):
    """Thermal noise sigma^2 = N0 + 10 log10(B) + NF, in watts."""
    return float(dbm_to_watt(psd_dbm_hz + 10.0 * np.log10(bandwidth_hz) + noise_figure_db))


def element_distances(points: np.ndarray, elements: np.ndarray) -> np.ndarray:
    """Distances (..., N) from points (..., 3) to array elements (N, 3) on the y-axis."""
    # The elements share x and z, so only the y offset varies per element.
    dx = points[..., 0:1] - elements[:, 0]
    dy = points[..., 1:2] - elements[:, 1]
    dz = points[..., 2:3] - elements[:, 2]
    return np.sqrt(dx * dx + dy * dy + dz * dz)


def near_field_channel(
    points: np.ndarray, elements: np.ndarray, wavelength_m: float, beta0: float
) -> np.ndarray:
    """Exact spherical-wave channel (..., N): h_n = sqrt(beta0) / r_n * exp(-j 2 pi r_n / lambda).

    The phase is reduced modulo one wavelength in float64 before the trigonometry, so the
    channel keeps its accuracy hundreds of metres (tens of thousands of wavelengths) away.
    """
    r = element_distances(points, elements)
    cycles = r / wavelength_m
    phase = -2.0 * np.pi * (cycles - np.floor(cycles))
    amplitude = np.sqrt(beta0) / r
    return amplitude * np.exp(1j * phase)


def planar_channel(
    points: np.ndarray, elements: np.ndarray, wavelength_m: float, beta0: float
) -> np.ndarray:
    """Far-field (planar-wavefront) channel: one distance r to the array centre, linear phase.

    r_n is approximated to first order, r_n ~ r - u . (a_n - c), with u the unit direction from
    the centre c to the point; the amplitude uses r for every element.
    """
    centre = elements.mean(axis=0)
    offset = points - centre
    r = np.linalg.norm(offset, axis=-1, keepdims=True)
    u = offset / r
    r_n = r - u @ (elements - centre).T
    cycles = r_n / wavelength_m
    phase = -2.0 * np.pi * (cycles - np.floor(cycles))
    return np.sqrt(beta0) / r * np.exp(1j * phase)


def beam_gain_matrix(channels: np.ndarray) -> np.ndarray:
    """G[..., k, j] = |h_k^H w_j|^2 with matched-filter (beamfocusing) beams w_j = h_j / |h_j|.

    channels: (..., K, N) complex. The diagonal is the focused gain |h_k|^2; off-diagonal
    entries are the leakage of beam j into user k.
    """
    gram = np.abs(np.matmul(channels.conj(), np.swapaxes(channels, -1, -2))) ** 2
    norms_sq = np.einsum("...kn,...kn->...k", channels.real, channels.real) + np.einsum(
        "...kn,...kn->...k", channels.imag, channels.imag
    )
    return gram / norms_sq[..., None, :]


GAIN_CHUNK = 32  # networks per block: keeps the (chunk, K, N) temporaries in cache


def reduced_channels(
    points: np.ndarray,
    element_y: np.ndarray,
    array_height_m: float,
    wavelength_m: float,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Channels of ``points`` (..., K, 3) without their common phase: float32 (..., 2K, N),
    the K real parts stacked over the K imaginary parts (written into ``out`` if given).

    c_n = exp(j k (r_n - r_c)) / r_n (r_c the distance to the array centre, k = 2 pi / lambda;
    beta0 left out, the phase conjugated): every inner product |c_k^H c_j| equals
    |h_k^H h_j| / beta0 of the exact spherical-wave channels, and the small offsets
    r_n - r_c = (y_n^2 - 2 y y_n) / (r_n + r_c) keep float32 accurate to micrometres.
    """
    k = points.shape[-2]
    rho = (points[..., 0] ** 2 + (points[..., 2] - array_height_m) ** 2).astype(np.float32)
    y = points[..., 1].astype(np.float32)[..., None]
    rho = rho[..., None]
    yn = np.asarray(element_y, dtype=np.float64)
    wavenumber = 2.0 * np.pi / wavelength_m
    k_yn_sq = (wavenumber * yn**2).astype(np.float32)
    k_two_yn = (2.0 * wavenumber * yn).astype(np.float32)
    r_centre = np.sqrt(rho + y * y)
    r = y - yn.astype(np.float32)
    np.square(r, out=r)
    r += rho
    np.sqrt(r, out=r)
    phase = k_yn_sq - y * k_two_yn
    phase /= r + r_centre
    np.reciprocal(r, out=r)  # now the amplitude 1 / r_n
    if out is None:
        out = np.empty((*points.shape[:-2], 2 * k, yn.size), dtype=np.float32)
    re, im = out[..., :k, :], out[..., k:, :]
    np.cos(phase, out=re)
    np.sin(phase, out=im)
    re *= r
    im *= r
    return out


def _gains(real_part: np.ndarray, imag_part: np.ndarray, norms: np.ndarray, beta0: float):
    """G[..., k, j] = beta0 |c_k^H c_j|^2 / |c_j|^2 from the parts of the inner products."""
    return beta0 * (real_part**2 + imag_part**2) / norms[..., None, :]


def focused_beam_gains(
    points: np.ndarray,
    element_y: np.ndarray,
    array_height_m: float,
    wavelength_m: float,
    beta0: float,
) -> np.ndarray:
    """Fast :func:`beam_gain_matrix` of the exact spherical-wave channels of ``points``.

    points: (..., K, 3); element_y: (N,) element offsets along y of an array centred on the
    z-axis at ``array_height_m``. Returns G (..., K, K), G[k, j] = |h_k^H w_j|^2.

    Same model, no approximation, cheaper arithmetic (:func:`reduced_channels`). Blocks of
    networks keep the work in cache.
    """
    lead = points.shape[:-2]
    k = points.shape[-2]
    flat = points.reshape(-1, k, 3)
    out = np.empty((flat.shape[0], k, k))
    parts = np.empty((GAIN_CHUNK, 2 * k, np.size(element_y)), dtype=np.float32)
    for start in range(0, flat.shape[0], GAIN_CHUNK):
        block = slice(start, start + GAIN_CHUNK)
        m = flat[block].shape[0]
        reduced_channels(flat[block], element_y, array_height_m, wavelength_m, out=parts[:m])
        # One Gram of the stacked (re; im) rows holds re re^T, re im^T and im im^T.
        gram = np.matmul(parts[:m], np.swapaxes(parts[:m], -1, -2)).astype(np.float64)
        real_part = gram[:, :k, :k] + gram[:, k:, k:]
        cross = gram[:, :k, k:]
        norms = np.diagonal(real_part, axis1=-2, axis2=-1)
        out[block] = _gains(real_part, cross - np.swapaxes(cross, -1, -2), norms, beta0)
    return out.reshape(*lead, k, k)


def gains_with_moving_receiver(
    fixed: np.ndarray,
    moving: np.ndarray,
    element_y: np.ndarray,
    array_height_m: float,
    wavelength_m: float,
    beta0: float,
) -> np.ndarray:
    """Beam gains (B, P, K + 1, K + 1) of K fixed receivers (B, K, 3) plus one receiver (last
    row and column) at each of P candidate points (B, P, 3): what :func:`focused_beam_gains`
    gives for each candidate, with the fixed receivers' channels and their K x K block
    computed once instead of P times (the UAV position search of the oracle and planner)."""
    b, p = moving.shape[:2]
    k = fixed.shape[1]
    c_fixed = reduced_channels(fixed, element_y, array_height_m, wavelength_m)  # (B, 2K, N)
    c_move = reduced_channels(moving[:, :, None, :], element_y, array_height_m, wavelength_m)
    c_move = c_move.reshape(b, p, 2, -1).transpose(0, 2, 1, 3).reshape(b, 2 * p, -1)
    fixed_gram = np.matmul(c_fixed, np.swapaxes(c_fixed, -1, -2)).astype(np.float64)
    cross = np.matmul(c_fixed, np.swapaxes(c_move, -1, -2)).astype(np.float64)  # (B, 2K, 2P)
    move_sq = np.einsum("bmn,bmn->bm", c_move, c_move, dtype=np.float64)
    real_part = np.empty((b, p, k + 1, k + 1))
    imag_part = np.zeros((b, p, k + 1, k + 1))
    real_part[:, :, :k, :k] = (fixed_gram[:, :k, :k] + fixed_gram[:, k:, k:])[:, None]
    f_cross = fixed_gram[:, :k, k:]
    imag_part[:, :, :k, :k] = (f_cross - np.swapaxes(f_cross, -1, -2))[:, None]
    # c_k^H c_u: real re_k re_u + im_k im_u, imaginary re_k im_u - im_k re_u
    to_move_re = np.swapaxes(cross[:, :k, :p] + cross[:, k:, p:], 1, 2)  # (B, P, K)
    to_move_im = np.swapaxes(cross[:, :k, p:] - cross[:, k:, :p], 1, 2)
    real_part[:, :, :k, k], imag_part[:, :, :k, k] = to_move_re, to_move_im
    real_part[:, :, k, :k], imag_part[:, :, k, :k] = to_move_re, -to_move_im
    real_part[:, :, k, k] = move_sq[:, :p] + move_sq[:, p:]
    norms = np.diagonal(real_part, axis1=-2, axis2=-1)
    return _gains(real_part, imag_part, norms, beta0)


def sinr(gains: np.ndarray, powers_w: np.ndarray, noise_w: float) -> np.ndarray:
    """SINR_k = p_k G_kk / (sum_{j != k} p_j G_kj + sigma^2) for every beam k.

    gains: (..., K, K) from :func:`beam_gain_matrix`; powers_w: (..., K).
    """
    total = np.matmul(gains, powers_w[..., None])[..., 0]  # broadcasts gains over plans
    signal = np.diagonal(gains, axis1=-2, axis2=-1) * powers_w
    return signal / (total - signal + noise_w)


def spectral_efficiency(sinr_linear: np.ndarray) -> np.ndarray:
    """Shannon rate log2(1 + SINR) in bit/s/Hz."""
    return np.log2(1.0 + sinr_linear)


def los_probability(elevation_deg: np.ndarray, a: float, b: float) -> np.ndarray:
    """Air-to-ground line-of-sight probability 1 / (1 + a exp(-b (theta - a))) (sigmoid model)."""
    return 1.0 / (1.0 + a * np.exp(-b * (elevation_deg - a)))


def air_to_ground_gain(
    uav_positions: np.ndarray,
    user_positions: np.ndarray,
    beta0: float,
    probabilistic_los: bool = False,
    los_a: float = 9.61,
    los_b: float = 0.16,
    nlos_attenuation_db: float = 20.0,
) -> np.ndarray:
    """Path gain (..., K) from a UAV (..., 3) to users (..., K, 3).

    Line of sight: beta0 / d^2. With ``probabilistic_los`` the expected gain
    P_LoS beta0 / d^2 + (1 - P_LoS) eta beta0 / d^2, eta the NLoS attenuation; using the
    expectation keeps the env deterministic for a given layout.
    """
    offset = user_positions - uav_positions[..., None, :]
    d_sq = np.sum(offset * offset, axis=-1)
    gain = beta0 / d_sq
    if not probabilistic_los:
        return gain
    horizontal = np.linalg.norm(offset[..., :2], axis=-1)
    elevation = np.degrees(np.arctan2(np.abs(offset[..., 2]), horizontal))
    p_los = los_probability(elevation, los_a, los_b)
    eta = 10.0 ** (-nlos_attenuation_db / 10.0)
    return gain * (p_los + (1.0 - p_los) * eta)


def subband_rates(
    gains: np.ndarray, powers_w: np.ndarray, noise_w_full_band: float, n_subbands: int
) -> np.ndarray:
    """Rates of users on orthogonal sub-bands, in bit/s/Hz of the full band.

    Each user gets 1/n_subbands of the band, so its noise is sigma^2 / n_subbands and its rate
    counts 1/n_subbands of log2(1 + SNR).
    """
    snr = powers_w * gains / (noise_w_full_band / n_subbands)
    return spectral_efficiency(snr) / n_subbands


def decode_and_forward(far_rates: np.ndarray, backhaul_rate: np.ndarray) -> np.ndarray:
    """Scale far users' rates (..., K) down together so their sum never exceeds the backhaul.

    The relay can forward only what it decoded from the BS -> UAV link.
    """
    total = far_rates.sum(axis=-1)
    scale = np.where(total > backhaul_rate, backhaul_rate / np.maximum(total, 1e-30), 1.0)
    return far_rates * scale[..., None]


def jain_fairness(rates: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Jain's index (sum R)^2 / (K sum R^2) over active users, in [1/K, 1]; 1 if all rates are 0."""
    if mask is None:
        mask = np.ones(rates.shape, dtype=bool)
    r = np.where(mask, rates, 0.0)
    k = mask.sum(axis=-1)
    sum_sq = np.sum(r * r, axis=-1)
    total = r.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        j = total * total / (k * sum_sq)
    return np.where(sum_sq > 0, j, 1.0)


def alpha_fair_utility(rates: np.ndarray, alpha: float) -> np.ndarray:
    """Alpha-fair utility of each rate, shifted so that no rate is worth exactly nothing:
    U(R) = ((1 + R)^(1 - alpha) - 1) / (1 - alpha), and log(1 + R) at alpha = 1.

    U(0) = 0 and U rises with R for every alpha >= 0: alpha = 0 is the rate itself,
    alpha = 1 proportional fairness, larger alpha leans toward max-min fairness (Mo and
    Walrand 2000). The shift by 1 keeps the utility finite for a user who gets nothing.
    """
    if alpha == 1.0:
        return np.log1p(rates)
    return np.expm1((1.0 - alpha) * np.log1p(rates)) / (1.0 - alpha)
