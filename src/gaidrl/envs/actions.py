"""Action spaces of the three modes and their decoding into a batched :class:`SlotPlan`.

* continuous: Box[-1, 1]^d = UAV command (2, or 3 with altitude control) + power parameters;
  the command is a velocity (``uav_control="velocity"``, scaled by the max speed) or a
  waypoint (``uav_control="waypoint"``: a point of the flight area the UAV flies toward at up
  to max speed; uniform exploration then visits the whole area);
* discrete: one index = move * n_templates + template, 9 moves (hover + 8 compass directions);
* hybrid: Tuple(Discrete(9) move, Box[-1, 1] power parameters).

With ``action_base="heuristic"`` a continuous action is a residual: scaled by
``residual_scale``, it is added to the heuristic's own command (:func:`heuristic_command`) and
clipped to [-1, 1] before decoding, so the zero action is the heuristic and an agent learns
corrections to it (residual RL, Silver et al. 2018; Johannink et al. 2019).

Power parameters: BS power fraction, K_near + 1 BS split logits (last: relay beam), UAV power
fraction, K_far UAV split logits; fractions map [-1, 1] -> [0, 1] and logits are scaled by
``split_logit_scale`` and passed through a softmax over the active users.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from gaidrl.envs.config import UAVNearFarConfig
from gaidrl.envs.simulator import NearFarSimulator, SlotPlan

N_MOVES = 9
BOX_TOLERANCE = 1e-6


class InvalidActionError(ValueError):
    """An action outside the env's action space (wrong shape, NaN, or out of bounds)."""


def move_directions() -> np.ndarray:
    """(9, 2) unit vectors: hover, then east, north-east, ... clockwise from +x by 45 degrees."""
    angles = np.arange(8) * np.pi / 4
    return np.concatenate([np.zeros((1, 2)), np.stack([np.cos(angles), np.sin(angles)], -1)])


def power_param_dim(config: UAVNearFarConfig) -> int:
    return 1 + (config.n_near_users + 1) + 1 + config.n_far_users


def velocity_dim(config: UAVNearFarConfig) -> int:
    return 3 if config.uav_altitude_control else 2


def action_space(config: UAVNearFarConfig, mode: str) -> spaces.Space:
    if mode == "continuous":
        dim = velocity_dim(config) + power_param_dim(config)
        return spaces.Box(-1.0, 1.0, (dim,), dtype=np.float32)
    if mode == "discrete":
        return spaces.Discrete(N_MOVES * len(config.power_templates))
    if mode == "hybrid":
        params = spaces.Box(-1.0, 1.0, (power_param_dim(config),), dtype=np.float32)
        return spaces.Tuple((spaces.Discrete(N_MOVES), params))
    raise ValueError(f"unknown action_mode {mode!r}; allowed: continuous, discrete, hybrid")


class ActionDecoder:
    """Validates batched actions of one mode and turns them into slot plans."""

    def __init__(self, sim: NearFarSimulator, mode: str):
        self.sim = sim
        self.mode = mode
        self.config = sim.config
        self.space = action_space(sim.config, mode)
        if sim.config.action_base != "none" and mode != "continuous":
            raise ValueError(
                f"action_base={sim.config.action_base!r} needs action_mode='continuous' "
                f"(a residual is added to a continuous command), got {mode!r}"
            )
        self.directions = move_directions()

    # ---------------------------------------------------------------- validation
    def _box(self, value, shape: tuple[int, ...], what: str) -> np.ndarray:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidActionError(f"{what} must be numeric, got {value!r}") from err
        if arr.shape != shape:
            raise InvalidActionError(f"{what} must have shape {shape}, got {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise InvalidActionError(f"{what} contains NaN or inf: {arr}")
        if np.any(np.abs(arr) > 1.0 + BOX_TOLERANCE):
            raise InvalidActionError(
                f"{what} must lie in [-1, 1]; got values from {arr.min():.4g} to {arr.max():.4g}"
            )
        return np.clip(arr, -1.0, 1.0)

    def _index(self, value, shape: tuple[int, ...], n: int, what: str) -> np.ndarray:
        arr = np.asarray(value)
        if arr.shape != shape:
            raise InvalidActionError(f"{what} must have shape {shape}, got {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            as_float = arr.astype(np.float64, copy=False) if arr.dtype.kind in "fb" else None
            if as_float is None or not np.all(np.isfinite(as_float)) or np.any(as_float % 1):
                raise InvalidActionError(
                    f"{what} must be an integer in [0, {n - 1}], got {value!r}"
                )
        arr = arr.astype(np.int64)
        if np.any((arr < 0) | (arr >= n)):
            raise InvalidActionError(f"{what} must be an integer in [0, {n - 1}], got {value!r}")
        return arr

    # ---------------------------------------------------------------- decoding
    def decode(self, action, batched: bool) -> tuple[SlotPlan, np.ndarray]:
        """Plan for every network and the distance by which the flight left the area."""
        b = self.sim.num_envs
        lead = (b,) if batched else ()
        if self.mode == "continuous":
            dim = self.space.shape[0]
            arr = self._box(action, lead + (dim,), "continuous action").reshape(b, dim)
            if self.config.action_base == "heuristic":
                residual = self.config.residual_scale * arr
                arr = np.clip(residual + heuristic_command(self.sim), -1.0, 1.0)
            return self.continuous_plan(arr)
        if self.mode == "discrete":
            n = self.space.n
            idx = self._index(action, lead, n, "discrete action").reshape(b)
            n_templates = len(self.config.power_templates)
            velocity = self._velocity_from_moves(idx // n_templates)
            return self._plan(velocity, *self._template_power(idx % n_templates))
        if not isinstance(action, (tuple, list)) or len(action) != 2:
            raise InvalidActionError(
                f"hybrid action must be a tuple (move, power_params), got {action!r}"
            )
        move = self._index(action[0], lead, N_MOVES, "hybrid move").reshape(b)
        dim = power_param_dim(self.config)
        params = self._box(action[1], lead + (dim,), "hybrid power_params").reshape(b, dim)
        velocity = self._velocity_from_moves(move)
        return self._plan(velocity, *self._power_from_params(params))

    def continuous_plan(self, command: np.ndarray) -> tuple[SlotPlan, np.ndarray]:
        """Plan of a validated (B, d) continuous command: UAV command, then power parameters."""
        vdim = velocity_dim(self.config)
        if self.config.uav_control == "waypoint":
            velocity = self._velocity_to_waypoint(command[:, :vdim])
        else:
            velocity = self._velocity_from_box(command[:, :vdim])
        return self._plan(velocity, *self._power_from_params(command[:, vdim:]))

    def _velocity_from_box(self, v: np.ndarray) -> np.ndarray:
        """Scale to max speed; a command longer than 1 (2-D, or 3-D with altitude) is shortened
        to unit length, so the UAV never flies faster than ``uav_max_speed_mps``."""
        if v.shape[1] == 2:
            v = np.concatenate([v, np.zeros((len(v), 1))], axis=-1)
        norm = np.linalg.norm(v, axis=-1, keepdims=True)
        return self.config.uav_max_speed_mps * v / np.maximum(norm, 1.0)

    def _velocity_to_waypoint(self, w: np.ndarray) -> np.ndarray:
        """Fly toward the point of the area that ``w`` in [-1, 1] names, at most at max speed."""
        sim = self.sim
        dims = w.shape[1]
        low, high = sim.area_low[:dims], sim.area_high[:dims]
        target = sim.uav_pos.copy()
        target[:, :dims] = low + (w + 1.0) / 2.0 * (high - low)
        offset = (target - sim.uav_pos) / self.config.slot_s
        speed = np.linalg.norm(offset, axis=-1, keepdims=True)
        limit = self.config.uav_max_speed_mps
        return offset * np.minimum(1.0, limit / np.maximum(speed, 1e-12))

    def _velocity_from_moves(self, move: np.ndarray) -> np.ndarray:
        horizontal = self.directions[move] * self.config.uav_max_speed_mps
        return np.concatenate([horizontal, np.zeros((len(move), 1))], axis=-1)

    def _power_from_params(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        kn = self.config.n_near_users
        scale = self.config.split_logit_scale
        bs_fraction = (p[:, 0] + 1.0) / 2.0
        bs_split = masked_softmax(scale * p[:, 1 : kn + 2], self.sim.bs_receiver_mask)
        uav_fraction = (p[:, kn + 2] + 1.0) / 2.0
        uav_split = masked_softmax(scale * p[:, kn + 3 :], self.sim.far_mask)
        return self.sim.power_from_fractions(bs_fraction, bs_split, uav_fraction, uav_split)

    def _template_power(self, template: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = self.config.power_templates
        bs_fraction = np.array([t[i].bs_fraction for i in template])
        relay_weight = np.array([t[i].relay_beam_weight for i in template])
        uav_fraction = np.array([t[i].uav_fraction for i in template])
        weights = np.concatenate([self.sim.near_mask.astype(float), relay_weight[:, None]], -1)
        bs_split = weights / weights.sum(-1, keepdims=True)
        far = self.sim.far_mask.astype(float)
        uav_split = far / far.sum(-1, keepdims=True)
        return self.sim.power_from_fractions(bs_fraction, bs_split, uav_fraction, uav_split)

    def _plan(self, velocity: np.ndarray, bs_w: np.ndarray, uav_w: np.ndarray):
        target = self.sim.uav_pos + velocity * self.config.slot_s
        position, violation = self.sim.clip_to_area(target)
        return SlotPlan(position, bs_w, uav_w), violation


def heuristic_command(sim: NearFarSimulator) -> np.ndarray:
    """(B, d) continuous command of the heuristic: toward the far users' centroid at full
    speed, full power split equally (zero split logits). The heuristic reference policy and
    ``action_base="heuristic"`` both decode it, so they cannot drift apart."""
    c = sim.config
    far = sim.far_mask[..., None]
    centroid = (sim.far_pos[..., :2] * far).sum(axis=1) / far.sum(axis=1)
    b = sim.num_envs
    if c.uav_control == "waypoint":
        low, high = sim.area_low, sim.area_high
        target = np.concatenate([centroid, sim.uav_pos[:, 2:]], axis=-1)
        uav = (2.0 * (target - low) / (high - low) - 1.0)[:, : velocity_dim(c)]
    else:
        step = (centroid - sim.uav_pos[:, :2]) / (c.uav_max_speed_mps * c.slot_s)
        step = step / np.maximum(np.linalg.norm(step, axis=-1, keepdims=True), 1.0)
        uav = np.concatenate([step, np.zeros((b, velocity_dim(c) - 2))], axis=-1)
    kn = c.n_near_users
    power = np.zeros((b, power_param_dim(c)))
    power[:, 0] = 1.0  # all of the BS budget
    power[:, kn + 2] = 1.0  # all of the UAV budget
    return np.clip(np.concatenate([uav, power], axis=-1), -1.0, 1.0)


def masked_softmax(logits: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over the entries where ``mask`` is true; masked entries get exactly zero."""
    z = np.where(mask, logits, -np.inf)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.where(mask, np.exp(z), 0.0)
    return e / e.sum(axis=-1, keepdims=True)
