"""Env throughput: env-steps per second of UAVNearFar-v0, single env vs vector env, on ONE core.

Cases, measured side by side in one run (DESIGN.md section 4):

* ``python_loop``: a plain reference step of ONE network that loops over antennas in Python
  (math / cmath), kept here for comparison only. Before timing, its rates are checked against
  the vector env's on the same positions and actions, so it computes the same thing;
* ``single_env``: ``gymnasium.make("gaidrl/UAVNearFar-v0")`` (continuous actions, compact
  observations, with Gymnasium's wrappers), reset when an episode ends;
* ``single_env_unwrapped``: the same env class without Gymnasium's wrappers;
* ``vector_B``: ``UAVNearFarVectorEnv(num_envs=B)`` for B = 1, 64, 1024 (same-step autoreset).

Actions are sampled up front. Each case is warmed up, then timed for a wall budget, three
times, round-robin over the cases; the median is reported. Without ``--quick`` each timed
window of an env holds whole episodes, so it pays for exactly its share of resets. An
env-step is one network served for one slot: a vector step of B sub-environments counts B.

Usage: ``python benchmarks/env_throughput.py [--quick] [--budget S] [--repeats R] [--no-pin]``.
Prints a table, then one JSON object with every figure as the LAST line.
"""

from __future__ import annotations

import os

# One core: the BLAS / OpenMP pools must be sized before numpy is imported.
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
for _var in THREAD_VARS:
    os.environ[_var] = "1"

import argparse  # noqa: E402
import cmath  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402

import gaidrl  # noqa: E402, F401  (registers gaidrl/UAVNearFar-v0)
from bench_machine import cpu_name  # noqa: E402
from gaidrl.envs import ENV_ID, UAVNearFarEnv, UAVNearFarVectorEnv  # noqa: E402

try:  # optional: confirms the BLAS pools really run one thread
    import threadpoolctl  # noqa: E402
except ImportError:  # pragma: no cover - depends on the environment
    threadpoolctl = None

VECTOR_SIZES = (1, 64, 1024)
TARGET_VECTOR_1024_STEPS_PER_S = 50_000.0
TARGET_RATIO_OVER_PYTHON_LOOP = 50.0
CHECK_RTOL = 1e-4  # reference vs vector env: sum rate, relative
CHECK_NETWORKS = 16
CHECK_STEPS = 3


# --------------------------------------------------------------------------- reference
class PythonLoopNetwork:
    """One network stepped the straightforward way: Python loops over antennas and users.

    For comparison only. It reads its constants and its starting state from a simulator
    (``sim``, network ``index``) and then keeps its own state in lists of floats. Supports the
    default setting: continuous actions, no altitude control, line-of-sight UAV links, every
    user active.
    """

    def __init__(self, sim, index: int):
        c = sim.config
        if c.uav_altitude_control or c.probabilistic_los:
            raise ValueError("the reference supports the default config only")
        if not (sim.near_mask[index].all() and sim.far_mask[index].all()):
            raise ValueError("the reference assumes every user is active")
        self.c = c
        self.elements = [tuple(float(v) for v in e) for e in sim.elements]
        self.wavelength = sim.wavelength
        self.beta0 = sim.beta0
        self.noise_bs = sim.noise_bs_w
        self.noise_uav = sim.noise_uav_w
        self.p_bs_max = sim.bs_power_max_w
        self.p_uav_max = sim.uav_power_max_w
        self.band_share = sim.uav_band_share
        self.low = [float(v) for v in sim.area_low]
        self.high = [float(v) for v in sim.area_high]
        self.rayleigh = sim.rayleigh_m
        self.near = [list(map(float, p)) for p in sim.near_pos[index]]
        self.far = [list(map(float, p)) for p in sim.far_pos[index]]
        self.near_vel = [list(map(float, v)) for v in sim.near_vel[index]]
        self.far_vel = [list(map(float, v)) for v in sim.far_vel[index]]
        self.uav = list(map(float, sim.uav_pos[index]))
        self.t = 0

    def channel(self, p):
        """h_n = sqrt(beta0) / r_n exp(-j 2 pi r_n / lambda), one antenna at a time."""
        h = []
        for ax, ay, az in self.elements:
            r = math.sqrt((p[0] - ax) ** 2 + (p[1] - ay) ** 2 + (p[2] - az) ** 2)
            h.append(math.sqrt(self.beta0) / r * cmath.exp(-2j * math.pi * r / self.wavelength))
        return h

    def serve(self, uav, bs_power, uav_power) -> dict:
        """Rates, fairness and reward of one slot: the same model as the env, in loops."""
        channels = [self.channel(p) for p in self.near] + [self.channel(uav)]
        beams = []
        for h in channels:
            norm = math.sqrt(sum(abs(x) ** 2 for x in h))
            beams.append([x / norm for x in h])
        k_bs = len(channels)
        gain = [[0.0] * k_bs for _ in range(k_bs)]
        for k in range(k_bs):
            for j in range(k_bs):
                acc = 0j
                for n in range(len(self.elements)):
                    acc += channels[k][n].conjugate() * beams[j][n]
                gain[k][j] = abs(acc) ** 2
        bs_rates = []
        for k in range(k_bs):
            interference = sum(bs_power[j] * gain[k][j] for j in range(k_bs) if j != k)
            sinr = bs_power[k] * gain[k][k] / (interference + self.noise_bs)
            bs_rates.append(math.log2(1.0 + sinr))
        near_rates, relay_rate = bs_rates[:-1], bs_rates[-1]
        k_far = len(self.far)
        demand = []
        for p, q in zip(self.far, uav_power, strict=True):
            d_sq = (p[0] - uav[0]) ** 2 + (p[1] - uav[1]) ** 2 + (p[2] - uav[2]) ** 2
            snr = q * (self.beta0 / d_sq) / (self.noise_uav / k_far)
            demand.append(math.log2(1.0 + snr) / k_far * self.band_share)
        total = sum(demand)
        scale = relay_rate / total if total > relay_rate else 1.0
        far_rates = [r * scale for r in demand]
        rates = near_rates + far_rates
        sum_rate = sum(rates)
        sum_sq = sum(r * r for r in rates)
        fairness = sum_rate**2 / (len(rates) * sum_sq) if sum_sq > 0 else 1.0
        power = 0.5 * (sum(bs_power) / self.p_bs_max + sum(uav_power) / self.p_uav_max)
        return {
            "rates": rates,
            "sum_rate": sum_rate,
            "fairness": fairness,
            "mean_rate": sum_rate / len(rates),
            "power_fraction": power,
        }

    @staticmethod
    def softmax(logits):
        top = max(logits)
        e = [math.exp(v - top) for v in logits]
        s = sum(e)
        return [v / s for v in e]

    def step(self, action) -> tuple[float, dict]:
        """Decode a continuous action, fly, serve the slot, move the users; return the reward."""
        c = self.c
        a = [min(max(float(v), -1.0), 1.0) for v in action]
        kn = len(self.near)
        norm = max(math.hypot(a[0], a[1]), 1.0)
        target = [
            self.uav[0] + c.uav_max_speed_mps * a[0] / norm * c.slot_s,
            self.uav[1] + c.uav_max_speed_mps * a[1] / norm * c.slot_s,
            self.uav[2],
        ]
        bounds = zip(target, self.low, self.high, strict=True)
        self.uav = [min(max(v, lo), hi) for v, lo, hi in bounds]
        violation = math.dist(target, self.uav)
        p = a[2:]
        bs_split = self.softmax([c.split_logit_scale * v for v in p[1 : kn + 2]])
        uav_split = self.softmax([c.split_logit_scale * v for v in p[kn + 3 :]])
        bs_power = [self.p_bs_max * (p[0] + 1.0) / 2.0 * s for s in bs_split]
        uav_power = [self.p_uav_max * (p[kn + 2] + 1.0) / 2.0 * s for s in uav_split]
        m = self.serve(self.uav, bs_power, uav_power)
        utility = sum(self.utility(r) for r in m["rates"]) / len(m["rates"])
        served = math.tanh(utility / self.utility(c.rate_reference_bps_hz))
        reward = served * (1.0 - c.reward_power_weight * m["power_fraction"]) - (
            c.reward_boundary_weight * min(violation / (c.uav_max_speed_mps * c.slot_s), 1.0)
        )
        self.move_users()
        self.t += 1
        return reward, m

    def utility(self, rate: float) -> float:
        """Alpha-fair utility of one rate, as documented in the env."""
        alpha = self.c.reward_alpha
        if alpha == 1.0:
            return math.log(1.0 + rate)
        return ((1.0 + rate) ** (1.0 - alpha) - 1.0) / (1.0 - alpha)

    def move_users(self) -> None:
        c = self.c
        if c.user_speed_mps == 0:
            return
        x_min = max(c.area_x_m[0], 0.0) + 1.0
        zones = (
            (self.near, self.near_vel, c.near_min_distance_m,
             c.near_max_distance_fraction * self.rayleigh),
            (self.far, self.far_vel, c.far_min_distance_fraction * self.rayleigh, math.inf),
        )  # fmt: skip
        for positions, velocities, lo, hi in zones:
            for pos, vel in zip(positions, velocities, strict=True):
                x, y = pos[0] + vel[0] * c.slot_s, pos[1] + vel[1] * c.slot_s
                inside = x_min < x < c.area_x_m[1] and c.area_y_m[0] < y < c.area_y_m[1]
                if lo <= math.hypot(x, y) <= hi and inside:
                    pos[0], pos[1] = x, y
                else:
                    vel[0], vel[1] = -vel[0], -vel[1]


def check_reference(seed: int) -> dict:
    """Step the reference and a vector env on the same states and actions; compare them."""
    env = UAVNearFarVectorEnv(num_envs=CHECK_NETWORKS)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    refs = [PythonLoopNetwork(env.sim, i) for i in range(CHECK_NETWORKS)]
    worst = {"sum_rate_rel": 0.0, "rate_abs": 0.0, "fairness_abs": 0.0, "reward_abs": 0.0}
    worst["position_abs_m"] = 0.0
    for _ in range(CHECK_STEPS):
        actions = env.action_space.sample()
        _, rewards, _, _, info = env.step(actions)
        for i, ref in enumerate(refs):
            reward, m = ref.step(actions[i])
            err = abs(m["sum_rate"] - info["sum_rate"][i]) / abs(info["sum_rate"][i])
            worst["sum_rate_rel"] = max(worst["sum_rate_rel"], err)
            rate_err = np.max(np.abs(np.asarray(m["rates"]) - info["rates"][i]))
            worst["rate_abs"] = max(worst["rate_abs"], float(rate_err))
            fair_err = abs(m["fairness"] - info["fairness"][i])
            worst["fairness_abs"] = max(worst["fairness_abs"], fair_err)
            worst["reward_abs"] = max(worst["reward_abs"], abs(reward - rewards[i]))
            pos = np.array([ref.uav, *ref.near, *ref.far])
            sim_pos = np.concatenate(
                [env.sim.uav_pos[i][None], env.sim.near_pos[i], env.sim.far_pos[i]]
            )
            worst["position_abs_m"] = max(
                worst["position_abs_m"], float(np.max(np.abs(pos - sim_pos)))
            )
    worst = {k: float(v) for k, v in worst.items()}
    if not worst["sum_rate_rel"] <= CHECK_RTOL or not worst["reward_abs"] <= CHECK_RTOL:
        raise RuntimeError(f"python-loop reference disagrees with the vector env: {worst}")
    if not worst["position_abs_m"] <= 1e-6:
        raise RuntimeError(f"python-loop reference moves differently: {worst}")
    worst["networks"] = CHECK_NETWORKS
    worst["steps"] = CHECK_STEPS
    return worst


# --------------------------------------------------------------------------- timing
def warm_up(step: Callable[[], None], seconds: float, min_calls: int = 2) -> None:
    start = time.perf_counter()
    calls = 0
    while calls < min_calls or time.perf_counter() - start < seconds:
        step()
        calls += 1


def timed_window(
    step: Callable[[], None], env_steps_per_call: int, budget_s: float, whole: int = 1
) -> float:
    """Env-steps per second over at least ``budget_s`` seconds of back-to-back calls.

    The window holds a multiple of ``whole`` calls (an episode's length, so that it pays for
    exactly its share of resets wherever it starts).
    """
    gc.collect()
    calls = 0
    start = time.perf_counter()
    while True:
        step()
        calls += 1
        if calls % whole == 0 and time.perf_counter() - start >= budget_s:
            break
    return calls * env_steps_per_call / (time.perf_counter() - start)


def python_loop_case(seed: int, n_actions: int):
    env = UAVNearFarEnv()
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = np.stack([env.action_space.sample() for _ in range(n_actions)])
    ref = PythonLoopNetwork(env.sim, 0)
    counter = [0]

    def step() -> None:
        ref.step(actions[counter[0] % n_actions])
        counter[0] += 1

    return step


def single_env_case(env: gym.Env, seed: int, n_actions: int):
    env.reset(seed=seed)
    env.action_space.seed(seed)
    actions = [env.action_space.sample() for _ in range(n_actions)]
    counter = [0]

    def step() -> None:
        _, _, terminated, truncated, _ = env.step(actions[counter[0] % n_actions])
        counter[0] += 1
        if terminated or truncated:
            env.reset()

    return step


def vector_env_case(num_envs: int, seed: int):
    env = UAVNearFarVectorEnv(num_envs=num_envs)
    env.reset(seed=seed)
    env.action_space.seed(seed)
    n_actions = max(8, 4096 // num_envs)
    actions = [env.action_space.sample() for _ in range(n_actions)]
    counter = [0]

    def step() -> None:
        env.step(actions[counter[0] % n_actions])
        counter[0] += 1

    return step


# --------------------------------------------------------------------------- report
def pin_to_one_cpu() -> int | None:
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = max(os.sched_getaffinity(0))  # the last one: CPU 0 tends to serve interrupts
    os.sched_setaffinity(0, {cpu})
    return cpu


def blas_threads() -> int | None:
    if threadpoolctl is None:
        return None
    pools = threadpoolctl.threadpool_info()
    return max((p.get("num_threads", 1) for p in pools), default=1)


def print_table(rows: list[dict], header: str) -> None:
    titles = ["case", "sub-envs", "env-steps/s (median)", "min .. max", "us/env-step", "x loop"]
    cells = [
        [
            r["label"],
            str(r["num_envs"]),
            f"{r['median']:,.0f}",
            f"{min(r['runs']):,.0f} .. {max(r['runs']):,.0f}",
            f"{1e6 / r['median']:,.2f}",
            f"{r['x_loop']:,.1f}",
        ]
        for r in rows
    ]
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:  # pragma: no cover - rich is a dependency
        widths = [max(len(t), *(len(c[i]) for c in cells)) for i, t in enumerate(titles)]
        print(header)
        print("  ".join(t.rjust(w) for t, w in zip(titles, widths, strict=True)))
        for c in cells:
            print("  ".join(v.rjust(w) for v, w in zip(c, widths, strict=True)))
        return
    table = Table(title=header)
    for i, t in enumerate(titles):
        table.add_column(t, justify="left" if i == 0 else "right")
    for c in cells:
        table.add_row(*c)
    Console(width=120).print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~0.3 s per window (smoke run)")
    parser.add_argument("--budget", type=float, default=None, help="seconds per timed window")
    parser.add_argument("--repeats", type=int, default=3, help="timed windows per case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-pin", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args(argv)
    budget = args.budget if args.budget is not None else (0.3 if args.quick else 1.5)
    warmup = 0.1 if args.quick else 0.5
    pinned = None if args.no_pin else pin_to_one_cpu()

    check = check_reference(args.seed)

    episode = UAVNearFarEnv().config.episode_length
    whole = 1 if args.quick else episode  # full runs time whole episodes
    n_antennas = UAVNearFarEnv().config.n_antennas
    cases: list[tuple[str, str, int, Callable[[], None], int]] = [
        ("python_loop", "python loop (reference)", 1, python_loop_case(args.seed, 256), 1),
        (
            "single_env",
            "single env, gym.make",
            1,
            single_env_case(gym.make(ENV_ID), args.seed, 1024),
            whole,
        ),
        (
            "single_env_unwrapped",
            "single env, no wrappers",
            1,
            single_env_case(UAVNearFarEnv(), args.seed, 1024),
            whole,
        ),
    ]
    for b in VECTOR_SIZES:
        cases.append((f"vector_{b}", f"vector env B={b}", b, vector_env_case(b, args.seed), whole))

    # Round-robin: window r of every case before window r + 1 of any, so that a transient
    # load on the machine hits all cases alike and the ratios stay fair.
    for _, _, _, step, _ in cases:
        warm_up(step, warmup)
    runs: dict[str, list[float]] = {key: [] for key, *_ in cases}
    for _ in range(args.repeats):
        for key, _, num_envs, step, case_whole in cases:
            warm_up(step, 0.0)
            runs[key].append(timed_window(step, num_envs, budget, case_whole))
    rows = [
        {
            "key": key,
            "label": label,
            "num_envs": num_envs,
            "runs": runs[key],
            "median": statistics.median(runs[key]),
        }  # fmt: skip
        for key, label, num_envs, _, _ in cases
    ]
    steps_per_s = {r["key"]: r["median"] for r in rows}
    for r in rows:
        r["x_loop"] = r["median"] / steps_per_s["python_loop"]

    big = f"vector_{VECTOR_SIZES[-1]}"
    ratios = {
        f"{big}_over_python_loop": steps_per_s[big] / steps_per_s["python_loop"],
        f"{big}_over_single_env": steps_per_s[big] / steps_per_s["single_env"],
        f"{big}_over_single_env_unwrapped": steps_per_s[big] / steps_per_s["single_env_unwrapped"],
    }
    targets = {
        f"{big}_min_steps_per_s": TARGET_VECTOR_1024_STEPS_PER_S,
        f"{big}_steps_per_s_met": steps_per_s[big] >= TARGET_VECTOR_1024_STEPS_PER_S,
        "min_ratio_over_python_loop": TARGET_RATIO_OVER_PYTHON_LOOP,
        "ratio_over_python_loop_met": ratios[f"{big}_over_python_loop"]
        >= TARGET_RATIO_OVER_PYTHON_LOOP,
    }
    cpu = cpu_name()
    threads_seen = blas_threads()
    header = (
        f"UAVNearFar-v0 env throughput, N = {n_antennas} antennas, one core "
        f"({'/'.join(v.split('_')[0] for v in THREAD_VARS[:3])} threads = 1"
        f"{f', pinned to CPU {pinned}' if pinned is not None else ''}), {cpu}, "
        f"numpy {np.__version__}; median of {args.repeats} x {budget:g} s"
        f"{'' if args.quick else ' (whole episodes)'}"
    )
    print_table(rows, header)
    print(
        f"vector@{VECTOR_SIZES[-1]}: {steps_per_s[big]:,.0f} env-steps/s "
        f"(target >= {TARGET_VECTOR_1024_STEPS_PER_S:,.0f}: "
        f"{'met' if targets[f'{big}_steps_per_s_met'] else 'NOT met'}); "
        f"{ratios[f'{big}_over_python_loop']:.1f}x the python loop "
        f"(target >= {TARGET_RATIO_OVER_PYTHON_LOOP:g}x: "
        f"{'met' if targets['ratio_over_python_loop_met'] else 'NOT met'}); "
        f"{ratios[f'{big}_over_single_env']:.1f}x the gym.make single env"
    )
    print(
        f"reference check on {check['networks']} networks x {check['steps']} steps: "
        f"sum-rate rel. err {check['sum_rate_rel']:.2e}, reward abs. err "
        f"{check['reward_abs']:.2e} (tolerance {CHECK_RTOL:g})"
    )
    result = {
        "benchmark": "env_throughput",
        "steps_per_s": steps_per_s,
        "runs_steps_per_s": {r["key"]: r["runs"] for r in rows},
        "ratios": ratios,
        "targets": targets,
        "reference_check": check,
        "n_antennas": n_antennas,
        "episode_length": episode,
        "vector_sizes": list(VECTOR_SIZES),
        "threads": 1,
        "thread_env_vars": {v: os.environ[v] for v in THREAD_VARS},
        "blas_threads_seen": threads_seen,
        "pinned_cpu": pinned,
        "cpu": cpu,
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
        "python": platform.python_version(),
        "quick": bool(args.quick),
        "budget_s": budget,
        "repeats": args.repeats,
        "whole_episodes": not args.quick,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    sys.stdout.flush()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
