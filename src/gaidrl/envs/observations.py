"""Observation spaces of the three modes and their batched construction from the simulator.

Everything is normalised to order one: positions by the area's half-size (UAV altitude by its
range), link gains as (dB + 90) / 20, rates by ``rate_reference_bps_hz``. Gains, rates and
channels are those measured in the last slot (the CSI the network fed back); at reset, rates
are zero and gains are measured for the initial layout.

* compact: UAV position (3), near and far users' x, y (2 K), far users' x, y relative to the
  UAV (2 K_far, same scale: the way to fly is then a linear function of the observation),
  near, relay and far gains (K_near + 1 + K_far), near, far and relay rates (K + 1), elapsed
  fraction of the episode (1), and the active-user mask (K); with ``observe_beam_gains``
  also the BS's beam-gain matrix |h_k^H w_j|^2 in dB, row k = receiver (near users, then
  the UAV), column j = beam ((K_near + 1)^2): the interference the rates depend on;
* channel: compact plus the BS channels of the near users and the UAV, each scaled to unit
  average element power, real parts then imaginary parts ((K_near + 1) x 2N values);
* tokens: Dict(tokens = (1 + K, 11) one token per node, the UAV first; mask = which are
  present). Token features: is_uav, is_near, is_far, x, y, z, gain, rate, elapsed fraction,
  and x, y relative to the UAV.
"""

from __future__ import annotations

import numpy as np
from gymnasium import spaces

from gaidrl.envs.config import UAVNearFarConfig
from gaidrl.envs.simulator import NearFarSimulator

TOKEN_FEATURES = 11
GAIN_OFFSET_DB = 90.0
GAIN_SCALE_DB = 20.0


def compact_dim(config: UAVNearFarConfig) -> int:
    k = config.max_users
    beam_gains = (config.n_near_users + 1) ** 2 if config.observe_beam_gains else 0
    return 3 + 2 * k + 2 * config.n_far_users + (k + 1) + (k + 1) + 1 + k + beam_gains


def observation_space(config: UAVNearFarConfig, mode: str) -> spaces.Space:
    if mode == "compact":
        return spaces.Box(-np.inf, np.inf, (compact_dim(config),), dtype=np.float32)
    if mode == "channel":
        extra = (config.n_near_users + 1) * 2 * config.n_antennas
        return spaces.Box(-np.inf, np.inf, (compact_dim(config) + extra,), dtype=np.float32)
    if mode == "tokens":
        n = 1 + config.max_users
        return spaces.Dict(
            {
                "tokens": spaces.Box(-np.inf, np.inf, (n, TOKEN_FEATURES), dtype=np.float32),
                "mask": spaces.MultiBinary(n),
            }
        )
    raise ValueError(f"unknown obs_mode {mode!r}; allowed: compact, channel, tokens")


def _gain_db(gain: np.ndarray) -> np.ndarray:
    return (10.0 * np.log10(np.maximum(gain, 1e-30)) + GAIN_OFFSET_DB) / GAIN_SCALE_DB


class ObservationBuilder:
    """Builds batched observations of one mode from the simulator's state."""

    def __init__(self, sim: NearFarSimulator, mode: str):
        if mode == "tokens" and sim.config.observe_beam_gains:
            raise ValueError(
                "observe_beam_gains adds the beam-gain matrix to the compact and channel "
                "observations; the tokens observation has no place for it: set "
                "observe_beam_gains: false, or obs_mode: compact or channel"
            )
        self.sim = sim
        self.mode = mode
        self.space = observation_space(sim.config, mode)
        c = sim.config
        self.centre = np.array([sum(c.area_x_m) / 2, sum(c.area_y_m) / 2])
        self.half = np.array(
            [(c.area_x_m[1] - c.area_x_m[0]) / 2, (c.area_y_m[1] - c.area_y_m[0]) / 2]
        )

    def _xy(self, pos: np.ndarray) -> np.ndarray:
        return (pos[..., :2] - self.centre) / self.half

    def _relative_xy(self, pos: np.ndarray) -> np.ndarray:
        """Offsets (B, K, 2) from the UAV, on the same scale as :meth:`_xy`."""
        return (pos[..., :2] - self.sim.uav_pos[:, None, :2]) / self.half

    def _uav(self) -> np.ndarray:
        s = self.sim
        z = (s.uav_pos[:, 2:3] - s.area_low[2]) / (s.area_high[2] - s.area_low[2])
        return np.concatenate([self._xy(s.uav_pos), z], axis=-1)

    def build(self) -> np.ndarray | dict[str, np.ndarray]:
        s, c = self.sim, self.sim.config
        m = s.last_metrics
        ref = c.rate_reference_bps_hz
        elapsed = (s.t / c.episode_length)[:, None]
        near_m, far_m = s.near_mask, s.far_mask
        near_xy = self._xy(s.near_pos) * near_m[..., None]
        far_xy = self._xy(s.far_pos) * far_m[..., None]
        near_gain = _gain_db(s.near_gain) * near_m
        far_gain = _gain_db(s.far_gain) * far_m
        relay_gain = _gain_db(s.relay_gain)[:, None]
        near_rate, far_rate = m.near_rates / ref, m.far_rates / ref
        relay_rate = (m.relay_rate / ref)[:, None]
        if self.mode == "tokens":
            return self._tokens(near_xy, far_xy, near_gain, far_gain, relay_gain,
                                near_rate, far_rate, relay_rate, elapsed)  # fmt: skip
        b = s.num_envs
        far_rel = self._relative_xy(s.far_pos) * far_m[..., None]
        parts = [
            self._uav(), near_xy.reshape(b, -1), far_xy.reshape(b, -1), far_rel.reshape(b, -1),
            near_gain, relay_gain, far_gain, near_rate, far_rate, relay_rate, elapsed,
            near_m, far_m,
        ]  # fmt: skip
        receivers = s.bs_receiver_mask
        if c.observe_beam_gains:
            present = receivers[:, :, None] & receivers[:, None, :]
            parts.append((_gain_db(s.gains) * present).reshape(b, -1))
        compact = np.concatenate(parts, axis=-1).astype(np.float32)
        if self.mode == "compact":
            return compact
        h = s.channels * receivers[..., None]
        power = np.mean(np.abs(h) ** 2, axis=-1, keepdims=True)
        h = h / np.sqrt(np.where(power > 0, power, 1.0))
        raw = np.concatenate([h.real.reshape(b, -1), h.imag.reshape(b, -1)], axis=-1)
        return np.concatenate([compact, raw.astype(np.float32)], axis=-1)

    def _tokens(self, near_xy, far_xy, near_gain, far_gain, relay_gain,
                near_rate, far_rate, relay_rate, elapsed) -> dict[str, np.ndarray]:  # fmt: skip
        s, c = self.sim, self.sim.config
        b, kn, kf = s.num_envs, c.n_near_users, c.n_far_users
        tokens = np.zeros((b, 1 + kn + kf, TOKEN_FEATURES))
        tokens[:, 0, 0] = 1.0
        tokens[:, 1 : 1 + kn, 1] = 1.0
        tokens[:, 1 + kn :, 2] = 1.0
        tokens[:, 0, 3:6] = self._uav()
        tokens[:, 1 : 1 + kn, 3:5] = near_xy
        tokens[:, 1 + kn :, 3:5] = far_xy
        tokens[:, 0, 6], tokens[:, 0, 7] = relay_gain[:, 0], relay_rate[:, 0]
        tokens[:, 1 : 1 + kn, 6], tokens[:, 1 : 1 + kn, 7] = near_gain, near_rate
        tokens[:, 1 + kn :, 6], tokens[:, 1 + kn :, 7] = far_gain, far_rate
        tokens[:, :, 8] = elapsed
        tokens[:, 1 : 1 + kn, 9:11] = self._relative_xy(s.near_pos)
        tokens[:, 1 + kn :, 9:11] = self._relative_xy(s.far_pos)
        mask = np.concatenate([np.ones((b, 1), bool), s.near_mask, s.far_mask], axis=-1)
        tokens *= mask[..., None]
        return {"tokens": tokens.astype(np.float32), "mask": mask.astype(np.int8)}
