"""Search over one slot's decisions: UAV positions and power allocations, scored by the env's
own arithmetic (:meth:`NearFarSimulator.serve`, which its step uses too). The planner and the
oracle are built from these pieces; nothing here learns.

* :func:`candidate_links` gives the link gains at many candidate UAV positions at once (the
  near users' channels are computed once per network, not once per candidate);
* :func:`template_powers` gives a small grid of power allocations (relay shares x split rules);
* :func:`best_position` keeps, per network, the best (position, powers) over candidates;
* :func:`refine_power` climbs the objective from several starting allocations by projected
  gradient ascent (central differences, Adam steps) on the power fractions and split logits,
  and never returns less than the best start; :func:`optimise_power_at` runs it from the
  best template allocation and a given one at each candidate position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from gaidrl.envs import physics
from gaidrl.envs import reward as rewards
from gaidrl.envs.actions import masked_softmax
from gaidrl.envs.simulator import NearFarSimulator

Objective = Literal["reward", "sum_rate", "fairness", "utility"]
OBJECTIVES: tuple[str, ...] = ("reward", "sum_rate", "fairness", "utility")
RELAY_SHARES = (0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8)
LOG_FLOOR = -20.0  # split logit of a zero share (exp(-20) ~ 2e-9 of the power)


@dataclass
class Choice:
    """Per network: a UAV position (B, 3), BS and UAV powers in watts, and its score (B,)."""

    position: np.ndarray
    bs_w: np.ndarray
    uav_w: np.ndarray
    score: np.ndarray

    def better_of(self, other: Choice) -> Choice:
        """Per network, this choice or ``other``, whichever scores higher (ties keep this)."""
        keep = self.score >= other.score
        pick = lambda a, b: np.where(keep.reshape(keep.shape + (1,) * (a.ndim - 1)), a, b)  # noqa: E731
        return Choice(*(pick(getattr(self, f), getattr(other, f))
                        for f in ("position", "bs_w", "uav_w", "score")))  # fmt: skip


def check_objective(objective: str) -> None:
    if objective not in OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")


def candidate_links(sim: NearFarSimulator, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link gains with the UAV at each of P positions (B, P, 3): BS beam gains
    (B, P, K_near + 1, K_near + 1) and UAV -> far-user gains (B, P, K_far)."""
    c = sim.config
    gains = physics.gains_with_moving_receiver(
        sim.near_pos, positions, sim.elements[:, 1], c.bs_height_m, sim.wavelength, sim.beta0
    )
    far = physics.air_to_ground_gain(positions, sim.far_pos[:, None], sim.beta0, *sim.los_args())
    return gains, far


def score(
    sim: NearFarSimulator,
    gains: np.ndarray,
    far_gain: np.ndarray,
    bs_w: np.ndarray,
    uav_w: np.ndarray,
    objective: str,
) -> np.ndarray:
    """Objective of powers (B, P, A, .) at links (B, P, ...): (B, P, A), no boundary penalty.

    The same numbers as :meth:`NearFarSimulator.evaluate`, computing only what the
    objective needs (the searches score hundreds of thousands of plans a slot).
    """
    served = sim.serve(
        gains[:, :, None], far_gain[:, :, None], bs_w, uav_w,
        sim.near_mask[:, None, None], sim.far_mask[:, None, None],
    )  # fmt: skip
    if objective == "sum_rate":
        return served.rates.sum(axis=-1)
    if objective == "fairness":
        return physics.jain_fairness(served.rates, served.mask)
    utility = rewards.mean_utility(served.rates, served.mask, sim.config.reward_alpha)
    if objective == "utility":
        return utility
    power = served.power_fraction.mean(axis=0)
    return rewards.reward(sim.config, utility, power, np.zeros(utility.shape))


def template_powers(
    sim: NearFarSimulator,
    far_gain: np.ndarray,
    relay_shares: tuple[float, ...] = RELAY_SHARES,
    bs_fractions: tuple[float, ...] = (1.0,),
    uav_fractions: tuple[float, ...] = (1.0,),
) -> tuple[np.ndarray, np.ndarray]:
    """A grid of allocations in watts: (B, P, A, K_near + 1) for the BS, (B, P, A, K_far).

    BS: total fraction in ``bs_fractions``, the relay beam a share in ``relay_shares``, the
    near users the rest, equally, inversely to their focused gain (equal received power) or
    in proportion to it. UAV: total fraction in ``uav_fractions``, split equally or inversely
    to the path gain (equal received SNR).
    """
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
    for bs_fraction in bs_fractions:
        for share in relay_shares:
            relay = np.full((b, 1, near_splits.shape[2], 1), share)
            bs_split = bs_fraction * np.concatenate([(1.0 - share) * near_splits, relay], -1)
            for uav_fraction in uav_fractions:
                for near_option in range(near_splits.shape[2]):
                    for far_option in range(far_splits.shape[2]):
                        bs_options.append(bs_split[:, :, near_option])
                        uav_options.append(uav_fraction * far_splits[:, :, far_option])
    bs_w = np.stack(bs_options, axis=2)
    bs_w = np.broadcast_to(bs_w, (b, p, *bs_w.shape[2:]))
    uav_w = np.stack(uav_options, axis=2)
    return bs_w * sim.bs_power_max_w, uav_w * sim.uav_power_max_w


def best_position(sim: NearFarSimulator, xy: np.ndarray, objective: str) -> Choice:
    """Best (position, template powers) per network over candidate points xy (B, P, 2) at the
    UAV's current altitude."""
    b, p = xy.shape[:2]
    altitude = np.broadcast_to(sim.uav_pos[:, None, 2:3], (b, p, 1))
    positions = np.concatenate([xy, altitude], axis=-1)
    gains, far_gain = candidate_links(sim, positions)
    bs_w, uav_w = template_powers(sim, far_gain)
    scores = score(sim, gains, far_gain, bs_w, uav_w, objective).reshape(b, -1)
    flat = np.argmax(scores, axis=1)
    pos_i, opt_i = np.unravel_index(flat, (p, bs_w.shape[2]))
    rows = np.arange(b)
    return Choice(
        positions[rows, pos_i], bs_w[rows, pos_i, opt_i], uav_w[rows, pos_i, opt_i],
        scores[rows, flat],
    )  # fmt: skip


def grid_search(
    sim: NearFarSimulator,
    objective: str,
    grid: tuple[int, int],
    refine_rounds: int,
    refine_points: int,
) -> Choice:
    """Teleporting search: a ``grid`` over the flight area, then ``refine_rounds`` finer
    ``refine_points`` x ``refine_points`` grids around the best point so far, each spanning
    two spacings of the grid before."""
    low, high = sim.area_low[:2], sim.area_high[:2]
    xs = np.linspace(low[0], high[0], grid[0])
    ys = np.linspace(low[1], high[1], grid[1])
    points = np.stack(np.meshgrid(xs, ys, indexing="ij"), -1).reshape(1, -1, 2)
    best = best_position(sim, np.broadcast_to(points, (sim.num_envs, *points.shape[1:])), objective)
    spacing = np.array([xs[1] - xs[0], ys[1] - ys[0]])
    offsets = np.linspace(-1.0, 1.0, refine_points)
    local = np.stack(np.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(1, -1, 2)
    for _ in range(refine_rounds):
        around = np.clip(best.position[:, None, :2] + local * spacing, low, high)
        best = best.better_of(best_position(sim, around, objective))
        spacing = spacing * 2.0 / (refine_points - 1)
    return best


def optimise_power_at(
    sim: NearFarSimulator,
    positions: np.ndarray,
    objective: str,
    iterations: int,
    own: tuple[np.ndarray, np.ndarray] | None = None,
) -> Choice:
    """Best powers per (network, position) at UAV positions (B, P, 3): the best template
    allocation and ``own`` ((B, P, .) watts; default the equal full-power split), each
    climbed by :func:`refine_power`. Arrays of the result are (B, P, ...)."""
    gains, far_gain = candidate_links(sim, positions)
    bs_t, uav_t = template_powers(sim, far_gain)
    best = np.argmax(score(sim, gains, far_gain, bs_t, uav_t, objective), axis=2)
    pick = best[..., None, None]
    best_template = (np.take_along_axis(bs_t, pick, 2)[:, :, 0],
                     np.take_along_axis(uav_t, pick, 2)[:, :, 0])  # fmt: skip
    p = positions.shape[1]
    if own is None:
        own = equal_full_power(sim, p)
    bs_w, uav_w, scores = refine_power(
        sim, gains, far_gain, [best_template, own], objective, iterations
    )
    return Choice(positions, bs_w, uav_w, scores)


def equal_full_power(sim: NearFarSimulator, positions: int) -> tuple[np.ndarray, np.ndarray]:
    """The heuristic's powers, (B, positions, .) watts: full power, split equally."""
    return tuple(
        np.broadcast_to(equal_split(mask)[:, None] * full,
                        (sim.num_envs, positions, mask.shape[1]))
        for mask, full in ((sim.bs_receiver_mask, sim.bs_power_max_w),
                           (sim.far_mask, sim.uav_power_max_w))
    )  # fmt: skip


# ----------------------------------------------------------------------------- power ascent
def _to_params(sim: NearFarSimulator, bs_w: np.ndarray, uav_w: np.ndarray) -> np.ndarray:
    """Watts -> parameters [BS fraction, BS split logits, UAV fraction, UAV split logits]."""
    parts = []
    for watts, full in ((bs_w, sim.bs_power_max_w), (uav_w, sim.uav_power_max_w)):
        total = watts.sum(-1, keepdims=True)
        share = watts / np.maximum(total, 1e-300)
        logits = np.maximum(np.log(np.maximum(share, 1e-300)), LOG_FLOOR)
        parts += [np.clip(total / full, 0.0, 1.0), logits]
    return np.concatenate(parts, axis=-1)


def _to_watts(sim: NearFarSimulator, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kn = sim.config.n_near_users
    lead = params.shape[:-1]
    bs_mask = np.broadcast_to(_lead_mask(sim.bs_receiver_mask, params.ndim), (*lead, kn + 1))
    far_mask = _lead_mask(sim.far_mask, params.ndim)
    far_mask = np.broadcast_to(far_mask, (*lead, far_mask.shape[-1]))
    bs = params[..., :1] * masked_softmax(params[..., 1 : kn + 2], bs_mask)
    uav = params[..., kn + 2 : kn + 3] * masked_softmax(params[..., kn + 3 :], far_mask)
    return bs * sim.bs_power_max_w, uav * sim.uav_power_max_w


def _lead_mask(mask: np.ndarray, ndim: int) -> np.ndarray:
    """(B, K) -> (B, 1, ..., 1, K) to broadcast against parameters with ``ndim`` axes."""
    return mask.reshape(mask.shape[0], *(1,) * (ndim - 2), mask.shape[1])


def refine_power(
    sim: NearFarSimulator,
    gains: np.ndarray,
    far_gain: np.ndarray,
    starts: list[tuple[np.ndarray, np.ndarray]],
    objective: str,
    iterations: int = 80,
    step: float = 0.2,
    delta: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Climb the objective over power allocations at fixed links, from several starts.

    gains (B, P, K_near + 1, K_near + 1) and far_gain (B, P, K_far) are the links at P
    positions per network; each start is a (bs_w (B, P, K_near + 1), uav_w (B, P, K_far))
    pair in watts. Parameters: the BS and UAV total power fractions (projected onto [0, 1])
    and the split logits (softmax over present users), moved by Adam steps along central
    difference gradients, all starts and positions at once. Returns the best (bs_w, uav_w,
    score) per (network, position) seen, never below the best start (which is kept exactly).
    """
    start_bs = np.stack([s[0] for s in starts], axis=2)  # (B, P, S, K + 1)
    start_uav = np.stack([s[1] for s in starts], axis=2)
    start_score = score(sim, gains, far_gain, start_bs, start_uav, objective)  # (B, P, S)
    params = _to_params(sim, start_bs, start_uav)
    kn = sim.config.n_near_users
    fraction_index = np.array([0, kn + 2])
    dim = params.shape[-1]
    eye = np.eye(dim) * delta
    moment, second = np.zeros_like(params), np.zeros_like(params)
    best_params, best_score = params.copy(), np.full(start_score.shape, -np.inf)
    for it in range(iterations):
        probes = np.concatenate([params[..., None, :], params[..., None, :] + eye,
                                 params[..., None, :] - eye], axis=-2)  # fmt: skip
        probes[..., fraction_index] = np.clip(probes[..., fraction_index], 0.0, 1.0)
        b, p, s, m, _ = probes.shape
        bs_w, uav_w = _to_watts(sim, probes.reshape(b, p, s * m, dim))
        values = score(sim, gains, far_gain, bs_w, uav_w, objective).reshape(b, p, s, m)
        current = values[..., 0]
        improved = current > best_score
        best_score = np.where(improved, current, best_score)
        best_params = np.where(improved[..., None], params, best_params)
        spread = probes[..., 1 : dim + 1, :] - probes[..., dim + 1 :, :]
        spread = np.diagonal(spread, axis1=-2, axis2=-1)
        grad = np.where(spread > 0, (values[..., 1 : dim + 1] - values[..., dim + 1 :])
                        / np.maximum(spread, 1e-300), 0.0)  # fmt: skip
        moment = 0.9 * moment + 0.1 * grad
        second = 0.999 * second + 0.001 * grad * grad
        rate = step * 0.5 * (1.0 + np.cos(np.pi * it / iterations))  # cosine decay
        m_hat = moment / (1 - 0.9 ** (it + 1))
        v_hat = second / (1 - 0.999 ** (it + 1))
        params = params + rate * m_hat / (np.sqrt(v_hat) + 1e-12)
        params[..., fraction_index] = np.clip(params[..., fraction_index], 0.0, 1.0)
    climbed_bs, climbed_uav = _to_watts(sim, best_params)
    use_start = start_score >= best_score
    bs = np.where(use_start[..., None], start_bs, climbed_bs)
    uav = np.where(use_start[..., None], start_uav, climbed_uav)
    total = np.maximum(start_score, best_score)
    pick = np.argmax(total, axis=2)[..., None]  # best start per (network, position)
    take = lambda a: np.take_along_axis(a, pick[..., None], axis=2)[:, :, 0]  # noqa: E731
    return take(bs), take(uav), np.take_along_axis(total, pick, axis=2)[..., 0]


def equal_split(mask: np.ndarray) -> np.ndarray:
    """Equal shares over the active entries of ``mask`` (B, K)."""
    weights = mask.astype(float)
    return weights / weights.sum(axis=-1, keepdims=True)


def inverse_split(gain: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Shares inversely proportional to ``gain`` over active users: equal received power."""
    weights = np.where(mask, 1.0 / np.maximum(gain, 1e-300), 0.0)
    return weights / weights.sum(axis=-1, keepdims=True)
