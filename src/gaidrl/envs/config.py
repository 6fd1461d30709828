"""Typed configuration of the UAV near-field/far-field env: every number, with its unit."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from gaidrl.envs import physics

ActionMode = Literal["continuous", "discrete", "hybrid"]
ObsMode = Literal["compact", "channel", "tokens"]
ACTION_MODES: tuple[str, ...] = get_args(ActionMode)
OBS_MODES: tuple[str, ...] = get_args(ObsMode)
MAX_REWARD_ALPHA = 10.0
# Options of earlier versions, with what replaced them (an old config gets this, not a bare
# "unknown option").
REMOVED_OPTIONS = {
    "reward_rate_weight": "the reward is now one alpha-fair utility term; see reward_alpha",
    "reward_fairness_weight": (
        "Jain's index paid silence (all-zero rates score 1), so it left the reward and stays "
        "a reported metric; reward_alpha sets the fairness (0: mean rate, 1: proportional fair)"
    ),
}


@dataclass(frozen=True)
class PowerTemplate:
    """One discrete power allocation: total fractions and the UAV beam's weight.

    bs_fraction, uav_fraction: share of P_BS / P_UAV used, in [0, 1];
    relay_beam_weight: weight of the BS -> UAV beam against 1.0 for each near user's beam.
    Far users' sub-bands always share the UAV power equally.
    """

    bs_fraction: float = 1.0
    relay_beam_weight: float = 1.0
    uav_fraction: float = 1.0


DEFAULT_TEMPLATES: tuple[PowerTemplate, ...] = (
    PowerTemplate(1.0, 1.0, 1.0),  # full power, equal split
    PowerTemplate(1.0, 3.0, 1.0),  # favour the relay beam
    PowerTemplate(1.0, 0.3, 1.0),  # favour the near users
    PowerTemplate(0.5, 1.0, 0.5),  # half power, equal split
)


# Scenario presets: named sets of options, applied by make_config (and so by the env's keyword
# options) under any explicit option. Physics and figures: docs/case_study.md, BENCHMARKS.md.
PRESETS: dict[str, dict[str, Any]] = {
    # the paper's setting: 4 near users, one cluster of 4 far users, line of sight, 100 m
    "paper": {},
    # an urban area: far users in two clusters apart in angle, line of sight by the
    # elevation-dependent probability (NLoS 20 dB weaker), the UAV lower (60 m): the far
    # users' centroid lies between the clusters, low over the ground, and serves neither well
    "urban_split": {"far_clusters": 2, "probabilistic_los": True, "uav_altitude_m": 60.0},
    # a crowded base station: 8 near users share the array with the relay beam, and the far
    # users lie deeper (2-3.5 Rayleigh distances): an equal power split starves the relay
    "crowded_bs": {
        "n_near_users": 8,
        "far_min_distance_fraction": 2.0,
        "far_max_distance_fraction": 3.5,
        "area_x_m": (0.0, 1400.0),
        "area_y_m": (-800.0, 800.0),
    },
}


@dataclass(frozen=True)
class UAVNearFarConfig:
    """Parameters of the case study (DESIGN.md section 3). Units are in the field names.

    ``preset`` names the scenario the other fields were built from (:data:`PRESETS`);
    :func:`make_config` applies it. Constructing the dataclass directly takes every field
    as given.
    """

    preset: str = "paper"

    # --- base station: extremely large uniform linear array along y, centred at (0, 0, h) ---
    n_antennas: int = 256
    carrier_hz: float = 28e9
    antenna_spacing_wavelengths: float = 0.5
    bs_height_m: float = 10.0
    bs_power_dbm: float = 30.0
    bandwidth_hz: float = 100e6
    noise_figure_db: float = 9.0
    noise_psd_dbm_hz: float = -174.0

    # --- UAV relay ---
    uav_power_dbm: float = 30.0
    uav_bandwidth_hz: float = 100e6
    uav_altitude_m: float = 100.0
    uav_min_altitude_m: float = 50.0
    uav_max_altitude_m: float = 200.0
    uav_max_speed_mps: float = 20.0
    uav_altitude_control: bool = False
    uav_control: Literal["velocity", "waypoint"] = "velocity"  # meaning of the continuous command
    # "heuristic": a continuous action is a residual added to the heuristic's own command
    # (residual RL); the zero action then flies to the far users with full, equal power
    action_base: Literal["none", "heuristic"] = "none"
    # with a residual base, the action is multiplied by this before it is added: a saturated
    # actor then moves the heuristic's command by at most this much per dimension
    residual_scale: float = 1.0
    probabilistic_los: bool = False
    los_a: float = 9.61
    los_b: float = 0.16
    nlos_attenuation_db: float = 20.0

    # --- users; ``near`` inside, ``far`` beyond the Rayleigh distance, all at x > 0 ---
    n_near_users: int = 4
    n_far_users: int = 4
    min_near_users: int = 1
    min_far_users: int = 1
    vary_user_count: bool | None = None  # None: vary only in the ``tokens`` observation mode
    user_height_m: float = 1.5
    near_min_distance_m: float = 20.0
    near_max_distance_fraction: float = 0.8  # of the Rayleigh distance
    far_min_distance_fraction: float = 1.2
    far_max_distance_fraction: float = 2.2
    far_cluster_radius_m: float = 150.0
    far_clusters: int = 1  # far users j, j + C, ... form cluster j; clusters apart in angle
    max_user_angle_deg: float = 60.0
    user_speed_mps: float = 0.5
    fixed_layout: bool = False
    layout_seed: int = 0

    # --- area the UAV must stay in (x, y in metres) ---
    area_x_m: tuple[float, float] = (0.0, 1000.0)
    area_y_m: tuple[float, float] = (-600.0, 600.0)

    # --- episode ---
    episode_length: int = 100
    slot_s: float = 1.0

    # --- reward = tanh(U / U(rate_ref)) (1 - w_power P) - w_boundary V (see reward_bounds) ---
    # U: mean alpha-fair utility of the active users' rates (physics.alpha_fair_utility);
    # alpha 0 = mean rate, 1 = proportional fairness (log(1 + R)), larger = toward max-min
    reward_alpha: float = 1.0
    reward_power_weight: float = 0.1  # in [0, 1): the share of the utility full power costs
    reward_boundary_weight: float = 1.0
    rate_reference_bps_hz: float = 5.0

    # --- observation ---
    # compact/channel: also the BS's beam-gain matrix |h_k^H w_j|^2 in dB ((K_near + 1)^2
    # values): how much each beam leaks onto every other receiver, which the rates depend on
    observe_beam_gains: bool = False

    # --- action decoding ---
    split_logit_scale: float = 3.0
    power_templates: tuple[PowerTemplate, ...] = field(default=DEFAULT_TEMPLATES)

    def __post_init__(self) -> None:
        preset_options(self.preset)  # a known name
        positive = [
            "n_antennas", "carrier_hz", "antenna_spacing_wavelengths", "bandwidth_hz",
            "uav_bandwidth_hz", "uav_altitude_m", "uav_max_speed_mps", "n_near_users",
            "n_far_users", "min_near_users", "min_far_users", "episode_length", "slot_s",
            "rate_reference_bps_hz", "split_logit_scale", "near_min_distance_m", "far_clusters",
        ]  # fmt: skip
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if self.min_near_users > self.n_near_users:
            raise ValueError("min_near_users must be <= n_near_users")
        if self.min_far_users > self.n_far_users:
            raise ValueError("min_far_users must be <= n_far_users")
        if not 0 < self.near_max_distance_fraction < 1:
            raise ValueError(
                "near_max_distance_fraction must be in (0, 1): near users lie inside R"
            )
        near_max = self.near_max_distance_fraction * self.rayleigh_distance_m
        if self.near_min_distance_m >= near_max:
            raise ValueError(
                f"no room for near-field users: near_min_distance_m = {self.near_min_distance_m} m"
                f" but near_max_distance_fraction x Rayleigh distance = {near_max:.3g} m "
                f"(n_antennas={self.n_antennas}, carrier_hz={self.carrier_hz:g}); lower "
                "near_min_distance_m or use a larger array"
            )
        if not 1 <= self.far_min_distance_fraction <= self.far_max_distance_fraction:
            raise ValueError("need 1 <= far_min_distance_fraction <= far_max_distance_fraction")
        if not self.uav_min_altitude_m <= self.uav_altitude_m <= self.uav_max_altitude_m:
            raise ValueError("uav_altitude_m must lie in [uav_min_altitude_m, uav_max_altitude_m]")
        for name in ("area_x_m", "area_y_m"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name} must be (low, high) with low < high, got {(lo, hi)}")
        if self.uav_control not in ("velocity", "waypoint"):
            raise ValueError(
                f"uav_control must be 'velocity' or 'waypoint', got {self.uav_control!r}"
            )
        if self.action_base not in ("none", "heuristic"):
            raise ValueError(f"action_base must be 'none' or 'heuristic', got {self.action_base!r}")
        if not 0.0 < self.residual_scale <= 2.0:
            raise ValueError(f"residual_scale must lie in (0, 2], got {self.residual_scale!r}")
        if self.residual_scale != 1.0 and self.action_base == "none":
            raise ValueError("residual_scale scales a residual: it needs action_base='heuristic'")
        if not self.power_templates:
            raise ValueError("power_templates must hold at least one PowerTemplate")
        if not 0.0 <= self.reward_alpha <= MAX_REWARD_ALPHA:
            raise ValueError(
                f"reward_alpha must lie in [0, {MAX_REWARD_ALPHA:g}] (0: mean rate, 1: "
                f"proportional fairness), got {self.reward_alpha!r}"
            )
        if not 0.0 <= self.reward_power_weight < 1.0:
            raise ValueError(
                "reward_power_weight must lie in [0, 1): full power may cost a share of the "
                f"utility, never all of it; got {self.reward_power_weight!r}"
            )
        if self.reward_boundary_weight < 0:
            raise ValueError(
                f"reward_boundary_weight must be >= 0, got {self.reward_boundary_weight!r}"
            )

    @property
    def rayleigh_distance_m(self) -> float:
        """2 D^2 / lambda of the BS array: the near-field / far-field border."""
        lam = physics.wavelength(self.carrier_hz)
        return physics.rayleigh_distance(
            self.n_antennas, self.antenna_spacing_wavelengths * lam, lam
        )

    @property
    def max_users(self) -> int:
        return self.n_near_users + self.n_far_users

    def varies_user_count(self, obs_mode: str) -> bool:
        return obs_mode == "tokens" if self.vary_user_count is None else self.vary_user_count

    def reward_bounds(self) -> tuple[float, float]:
        """The reward always lies in this closed interval: the utility term in [0, 1), the
        boundary penalty in [0, w_boundary]."""
        return -self.reward_boundary_weight, 1.0


def preset_options(name: str) -> dict[str, Any]:
    """The options of preset ``name``, or an error naming the allowed presets."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; allowed: {', '.join(PRESETS)}")
    return PRESETS[name]


def make_config(overrides: dict[str, Any] | None = None) -> UAVNearFarConfig:
    """Build a config from keyword overrides on top of their ``preset`` (default "paper"),
    naming any unknown key and the allowed ones."""
    overrides = dict(overrides or {})
    overrides = {**preset_options(overrides.get("preset", "paper")), **overrides}
    allowed = {f.name for f in dataclasses.fields(UAVNearFarConfig)}
    removed = sorted(set(overrides) & set(REMOVED_OPTIONS))
    if removed:
        raise TypeError(
            "; ".join(
                f"UAVNearFar-v0 option {k!r} was removed: {REMOVED_OPTIONS[k]}" for k in removed
            )  # fmt: skip
        )
    unknown = sorted(set(overrides) - allowed)
    if unknown:
        raise TypeError(
            f"unknown UAVNearFar-v0 option(s) {unknown}; allowed: {', '.join(sorted(allowed))}"
        )
    for key in ("area_x_m", "area_y_m"):
        if key in overrides:
            overrides[key] = tuple(float(v) for v in overrides[key])
    if "power_templates" in overrides:
        overrides["power_templates"] = tuple(
            t if isinstance(t, PowerTemplate) else PowerTemplate(**t)
            for t in overrides["power_templates"]
        )
    return UAVNearFarConfig(**overrides)
