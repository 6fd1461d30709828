"""Batched state and slot dynamics of the case study, shared by the single and the vector env.

One :class:`NearFarSimulator` holds B independent networks as arrays with a leading batch axis
and advances all of them with one numpy computation per slot. Each network draws its layouts
from its own random generator, so sub-environment i of a vector env seeded s replays exactly
the single env seeded s + i. Nothing random happens inside a slot: users move on straight
lines drawn at reset, and the probabilistic line-of-sight model uses its expected gain.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from gymnasium.utils import seeding

from gaidrl.envs import physics
from gaidrl.envs import reward as rewards
from gaidrl.envs.config import UAVNearFarConfig


@dataclass
class SlotPlan:
    """What happens in one slot, for every network: where the UAV is and the powers sent.

    uav_position: (B, 3) metres, after this slot's flight; bs_power_w: (B, K_near + 1), the
    last column the BS -> UAV relay beam; uav_power_w: (B, K_far), one sub-band each.
    """

    uav_position: np.ndarray
    bs_power_w: np.ndarray
    uav_power_w: np.ndarray


@dataclass
class SlotMetrics:
    """Everything measured in one slot, batched. Rates are bit/s/Hz of the BS band."""

    near_rates: np.ndarray  # (B, K_near)
    far_rates: np.ndarray  # (B, K_far), after decode-and-forward
    relay_rate: np.ndarray  # (B,) BS -> UAV
    sum_rate: np.ndarray
    mean_rate: np.ndarray
    fairness: np.ndarray  # Jain's index over active users (1 when every rate is 0)
    utility: np.ndarray  # mean alpha-fair utility of the active users' rates
    bs_power_w: np.ndarray
    uav_power_w: np.ndarray
    boundary_violation_m: np.ndarray
    backhaul_shortfall: np.ndarray  # fraction of far users' demand the relay could not carry
    reward: np.ndarray


@dataclass
class ServedSlot:
    """Rates of one slot, batched: near rates, far rates after decode-and-forward, the relay
    rate, the far users' demand before it, all rates with their mask (near users, then far
    users) and the BS and UAV power fractions used, stacked on a leading axis of 2."""

    near_rates: np.ndarray
    far_rates: np.ndarray
    relay_rate: np.ndarray
    demand: np.ndarray
    rates: np.ndarray
    mask: np.ndarray
    power_fraction: np.ndarray


class NearFarSimulator:
    """B copies of the UAV near-field/far-field network, advanced together."""

    def __init__(
        self,
        config: UAVNearFarConfig,
        num_envs: int,
        vary_user_count: bool,
        keep_channels: bool = False,
    ):
        self.config = config
        self.keep_channels = keep_channels
        self.num_envs = num_envs
        self.vary_user_count = vary_user_count
        c = config
        self.wavelength = physics.wavelength(c.carrier_hz)
        self.spacing = c.antenna_spacing_wavelengths * self.wavelength
        self.elements = physics.array_element_positions(c.n_antennas, self.spacing, c.bs_height_m)
        self.beta0 = physics.free_space_gain_at_1m(self.wavelength)
        self.rayleigh_m = physics.rayleigh_distance(c.n_antennas, self.spacing, self.wavelength)
        self.noise_bs_w = physics.noise_power_watt(
            c.bandwidth_hz, c.noise_figure_db, c.noise_psd_dbm_hz
        )
        self.noise_uav_w = physics.noise_power_watt(
            c.uav_bandwidth_hz, c.noise_figure_db, c.noise_psd_dbm_hz
        )
        self.bs_power_max_w = float(physics.dbm_to_watt(c.bs_power_dbm))
        self.uav_power_max_w = float(physics.dbm_to_watt(c.uav_power_dbm))
        self.uav_band_share = c.uav_bandwidth_hz / c.bandwidth_hz
        self.area_low = np.array([c.area_x_m[0], c.area_y_m[0], c.uav_min_altitude_m])
        self.area_high = np.array([c.area_x_m[1], c.area_y_m[1], c.uav_max_altitude_m])
        self.rngs: list[np.random.Generator] = [seeding.np_random(None)[0] for _ in range(num_envs)]
        b, kn, kf = num_envs, c.n_near_users, c.n_far_users
        self.near_pos = np.zeros((b, kn, 3))
        self.far_pos = np.zeros((b, kf, 3))
        self.near_vel = np.zeros((b, kn, 2))
        self.far_vel = np.zeros((b, kf, 2))
        self.near_mask = np.ones((b, kn), dtype=bool)
        self.far_mask = np.ones((b, kf), dtype=bool)
        self.uav_pos = np.zeros((b, 3))
        self.t = np.zeros(b, dtype=np.int64)
        self.trail = np.zeros((b, c.episode_length + 1, 3))
        # Link state measured in the last slot (what the observation reports).
        # Raw BS channels (near users, then UAV), kept only when an observation needs them.
        self.channels = np.zeros((b, kn + 1, c.n_antennas if keep_channels else 0), complex)
        self.gains = np.zeros((b, kn + 1, kn + 1))
        self.near_gain = np.zeros((b, kn))
        self.relay_gain = np.zeros(b)
        self.far_gain = np.zeros((b, kf))
        self.last_metrics: SlotMetrics | None = None

    # ------------------------------------------------------------------ reset
    def seed(self, index: int, seed: int | None) -> None:
        self.rngs[index] = seeding.np_random(seed)[0]

    def reset(self, indices: np.ndarray) -> None:
        """Draw a new layout for the networks in ``indices`` from their own generators.

        Each network takes one block of uniforms from its generator (one call, whatever the
        batch), and the layouts are then built for all of them at once.
        """
        c = self.config
        idx = np.asarray(indices, dtype=np.int64)
        n = 6 + 3 * c.max_users + 2 * (c.far_clusters - 1)
        uniforms = np.stack(
            [
                (np.random.default_rng(c.layout_seed) if c.fixed_layout else self.rngs[i]).random(n)
                for i in idx
            ]
        ) if idx.size else np.empty((0, n))  # fmt: skip
        self._place(idx, uniforms)
        self.t[idx] = 0
        self.trail[idx] = self.uav_pos[idx, None, :]
        self._measure_links(idx)
        self._zero_last_rates(idx)

    def _place(self, idx: np.ndarray, u: np.ndarray) -> None:
        """Users, their walks and the UAV's start for networks ``idx`` from uniforms ``u``."""
        c = self.config
        kn, kf = c.n_near_users, c.n_far_users
        extra = c.far_clusters - 1  # drawn last, so one cluster replays earlier layouts
        cols = np.cumsum([0, 1, 1, kn, kn, 1, 1, kf, kf, kn + kf, 2, extra, extra])
        near_n, far_n, near_d, near_a, far_d, far_a, rad, theta, heading, start, d2, a2 = (
            u[:, a:b] for a, b in zip(cols[:-1], cols[1:], strict=True)
        )
        if self.vary_user_count:
            n_near = c.min_near_users + np.floor(near_n * (kn - c.min_near_users + 1))
            n_far = c.min_far_users + np.floor(far_n * (kf - c.min_far_users + 1))
        else:
            n_near, n_far = np.full((len(u), 1), kn), np.full((len(u), 1), kf)
        self.near_mask[idx] = np.arange(kn) < n_near
        self.far_mask[idx] = np.arange(kf) < n_far
        max_angle = np.radians(c.max_user_angle_deg)

        near_max = c.near_max_distance_fraction * self.rayleigh_m
        dist = c.near_min_distance_m + near_d * (near_max - c.near_min_distance_m)
        self.near_pos[idx] = _ground_points(dist, max_angle * (2 * near_a - 1), c.user_height_m)

        # far clusters: cluster j gets far users j, j + C, ...; its centre lies in the j-th of C
        # equal sectors of the far users' angular range, so clusters are apart in angle
        lo, hi = c.far_min_distance_fraction, c.far_max_distance_fraction
        n_clusters = c.far_clusters
        centre_d = (lo + np.concatenate([far_d, d2], -1) * (hi - lo)) * self.rayleigh_m
        sector = np.arange(n_clusters) + np.concatenate([far_a, a2], -1)
        centre_angle = 0.8 * max_angle * (2 * sector / n_clusters - 1)
        centres = _ground_points(centre_d, centre_angle, 0.0)[..., :2]
        centre = centres[:, np.arange(kf) % n_clusters]
        radius = c.far_cluster_radius_m * np.sqrt(rad)
        angle = 2 * np.pi * theta
        xy = centre + np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=-1)
        xy = self._keep_far(xy)
        self.far_pos[idx] = np.concatenate([xy, np.full((*xy.shape[:-1], 1), c.user_height_m)], -1)

        heading = 2 * np.pi * heading
        vel = c.user_speed_mps * np.stack([np.cos(heading), np.sin(heading)], axis=-1)
        self.near_vel[idx], self.far_vel[idx] = vel[:, :kn], vel[:, kn:]
        x0 = c.area_x_m[0] + 200.0 * start[:, 0]
        y0 = -100.0 + 200.0 * start[:, 1]
        uav = np.stack([x0, y0, np.full_like(x0, c.uav_altitude_m)], axis=-1)
        self.uav_pos[idx] = np.clip(uav, self.area_low, self.area_high)

    def _keep_far(self, xy: np.ndarray) -> np.ndarray:
        """Push points out to the far zone and inside the area (10 m margin)."""
        c = self.config
        d = np.linalg.norm(xy, axis=-1, keepdims=True)
        d_min = c.far_min_distance_fraction * self.rayleigh_m
        xy = np.where(d < d_min, xy * (d_min / np.maximum(d, 1e-9)), xy)
        low = np.array([max(c.area_x_m[0], 0.0), c.area_y_m[0]]) + 10.0
        high = np.array([c.area_x_m[1], c.area_y_m[1]]) - 10.0
        return np.clip(xy, low, high)

    def _zero_last_rates(self, indices: np.ndarray) -> None:
        if self.last_metrics is None:
            self.last_metrics = self.zero_metrics()
        for name in ("near_rates", "far_rates", "relay_rate"):
            fresh = getattr(self.last_metrics, name).copy()  # arrays already handed out stay put
            fresh[indices] = 0.0
            setattr(self.last_metrics, name, fresh)

    def zero_metrics(self) -> SlotMetrics:
        b, kn, kf = self.num_envs, self.config.n_near_users, self.config.n_far_users
        per_user = {"near_rates": np.zeros((b, kn)), "far_rates": np.zeros((b, kf))}
        scalars = [f.name for f in dataclasses.fields(SlotMetrics) if f.name not in per_user]
        return SlotMetrics(**per_user, **{name: np.zeros(b) for name in scalars})

    # ------------------------------------------------------------------ physics of a slot
    def _measure_links(self, idx: np.ndarray | slice = slice(None)) -> None:
        """Channels and gains for the current positions of networks ``idx``."""
        points = np.concatenate([self.near_pos[idx], self.uav_pos[idx][:, None, :]], axis=1)
        if self.keep_channels:
            h = physics.near_field_channel(points, self.elements, self.wavelength, self.beta0)
            self.channels[idx] = h
        gains = physics.focused_beam_gains(
            points, self.elements[:, 1], self.config.bs_height_m, self.wavelength, self.beta0
        )
        self.gains[idx] = gains
        focused = np.diagonal(gains, axis1=-2, axis2=-1)
        self.near_gain[idx] = focused[:, :-1]
        self.relay_gain[idx] = focused[:, -1]
        self.far_gain[idx] = physics.air_to_ground_gain(
            self.uav_pos[idx], self.far_pos[idx], self.beta0, *self.los_args()
        )

    def los_args(self) -> tuple:
        c = self.config
        return c.probabilistic_los, c.los_a, c.los_b, c.nlos_attenuation_db

    def clip_to_area(self, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Clip UAV positions into the flight area; return them and the distance cut off."""
        clipped = np.clip(position, self.area_low, self.area_high)
        return clipped, np.linalg.norm(position - clipped, axis=-1)

    def advance(
        self, plan: SlotPlan, boundary_violation_m: np.ndarray | None = None
    ) -> SlotMetrics:
        """Serve one slot with ``plan`` for every network, then move users and the clock."""
        c = self.config
        self.uav_pos = np.asarray(plan.uav_position, dtype=np.float64).copy()
        self._measure_links()
        metrics = self.evaluate(
            self.gains, self.far_gain, plan.bs_power_w, plan.uav_power_w,
            self.near_mask, self.far_mask,
            np.zeros(self.num_envs) if boundary_violation_m is None else boundary_violation_m,
        )  # fmt: skip
        self.last_metrics = metrics
        self._move_users()
        self.t += 1
        self.trail[np.arange(self.num_envs), np.minimum(self.t, c.episode_length)] = self.uav_pos
        return metrics

    def evaluate(
        self,
        gains: np.ndarray,
        far_gain: np.ndarray,
        bs_power_w: np.ndarray,
        uav_power_w: np.ndarray,
        near_mask: np.ndarray,
        far_mask: np.ndarray,
        boundary_violation_m: np.ndarray,
    ) -> SlotMetrics:
        """Rates, fairness and reward from link gains and powers; broadcasts over leading axes.

        The oracle calls this with many candidate plans per network at once.
        """
        c = self.config
        s = self.serve(gains, far_gain, bs_power_w, uav_power_w, near_mask, far_mask)
        sum_rate = s.rates.sum(axis=-1)
        utility = rewards.mean_utility(s.rates, s.mask, c.reward_alpha)
        violation = self.violation(boundary_violation_m)
        reward = rewards.reward(c, utility, s.power_fraction.mean(axis=0), violation)
        demand_sum = s.demand.sum(-1)
        shortfall = np.where(
            demand_sum > 0, 1.0 - s.far_rates.sum(-1) / np.maximum(demand_sum, 1e-30), 0.0
        )
        return SlotMetrics(
            near_rates=s.near_rates, far_rates=s.far_rates, relay_rate=s.relay_rate,
            sum_rate=sum_rate, mean_rate=sum_rate / s.mask.sum(axis=-1),
            fairness=physics.jain_fairness(s.rates, s.mask), utility=utility,
            bs_power_w=s.power_fraction[0] * self.bs_power_max_w,
            uav_power_w=s.power_fraction[1] * self.uav_power_max_w,
            boundary_violation_m=np.broadcast_to(boundary_violation_m, sum_rate.shape).copy(),
            backhaul_shortfall=shortfall, reward=reward,
        )  # fmt: skip

    def serve(
        self,
        gains: np.ndarray,
        far_gain: np.ndarray,
        bs_power_w: np.ndarray,
        uav_power_w: np.ndarray,
        near_mask: np.ndarray,
        far_mask: np.ndarray,
    ) -> ServedSlot:
        """The rates of a slot: what :meth:`evaluate` and the searches' scores build on."""
        bs_power_w = bs_power_w * np.concatenate([near_mask, np.ones_like(near_mask[..., :1])], -1)
        uav_power_w = uav_power_w * far_mask
        bs_rates = physics.spectral_efficiency(physics.sinr(gains, bs_power_w, self.noise_bs_w))
        near_rates = bs_rates[..., :-1] * near_mask
        relay_rate = bs_rates[..., -1]
        n_sub = np.maximum(far_mask.sum(axis=-1, keepdims=True), 1)
        demand = (
            physics.subband_rates(far_gain, uav_power_w, self.noise_uav_w, n_sub)
            * self.uav_band_share
            * far_mask
        )
        far_rates = physics.decode_and_forward(demand, relay_rate)
        rates = np.concatenate([near_rates, far_rates], axis=-1)
        power = np.stack([bs_power_w.sum(-1) / self.bs_power_max_w,
                          uav_power_w.sum(-1) / self.uav_power_max_w])  # fmt: skip
        return ServedSlot(
            near_rates, far_rates, relay_rate, demand, rates,
            np.broadcast_to(np.concatenate([near_mask, far_mask], axis=-1), rates.shape), power,
        )  # fmt: skip

    def violation(self, boundary_violation_m: np.ndarray) -> np.ndarray:
        """Boundary violation as a share of one slot's longest flight, capped at 1."""
        step_m = self.config.uav_max_speed_mps * self.config.slot_s
        return np.minimum(boundary_violation_m / step_m, 1.0)

    def _move_users(self) -> None:
        """Users walk straight; one who would leave its zone turns back (stays near or far)."""
        c = self.config
        if c.user_speed_mps == 0:
            return
        step = c.slot_s
        near_max = c.near_max_distance_fraction * self.rayleigh_m
        far_min = c.far_min_distance_fraction * self.rayleigh_m
        for pos, vel, lo, hi in (
            (self.near_pos, self.near_vel, c.near_min_distance_m, near_max),
            (self.far_pos, self.far_vel, far_min, np.inf),
        ):
            moved = pos[..., :2] + vel * step
            d = np.linalg.norm(moved, axis=-1)
            inside_area = (
                (moved[..., 0] > max(c.area_x_m[0], 0.0) + 1.0)
                & (moved[..., 0] < c.area_x_m[1])
                & (moved[..., 1] > c.area_y_m[0])
                & (moved[..., 1] < c.area_y_m[1])
            )
            ok = (d >= lo) & (d <= hi) & inside_area
            pos[..., :2] = np.where(ok[..., None], moved, pos[..., :2])
            vel[...] = np.where(ok[..., None], vel, -vel)

    # ------------------------------------------------------------------ helpers
    def power_from_fractions(
        self, bs_fraction: np.ndarray, bs_split: np.ndarray, uav_fraction: np.ndarray,
        uav_split: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Watts per beam / sub-band from total fractions and splits that sum to one."""
        bs = self.bs_power_max_w * bs_fraction[..., None] * bs_split
        uav = self.uav_power_max_w * uav_fraction[..., None] * uav_split
        return bs, uav

    @property
    def done(self) -> np.ndarray:
        return self.t >= self.config.episode_length

    @property
    def bs_receiver_mask(self) -> np.ndarray:
        """(B, K_near + 1): which of the BS's receivers are present, the near users and then
        the UAV (always): the rows of ``gains`` and ``channels``, the BS's beams."""
        return np.concatenate([self.near_mask, np.ones((self.num_envs, 1), bool)], axis=-1)


def _ground_points(distance: np.ndarray, angle: np.ndarray, height: float) -> np.ndarray:
    """Points at ``distance`` from the BS foot and ``angle`` from the x-axis, at ``height``."""
    distance, angle = np.asarray(distance), np.asarray(angle)
    return np.stack(
        [distance * np.cos(angle), distance * np.sin(angle), np.full(distance.shape, height)],
        axis=-1,
    )
