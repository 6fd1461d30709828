"""The case study's yardstick per scenario preset: random, heuristic, planner and oracle.

For each preset, every reference serves the same ``--episodes`` layouts (one whole episode
each, seeds from ``--seed0``); figures are per-episode slot means with 95 % Student-t
intervals across layouts, the heuristic-to-planner gap as a paired interval, and each
policy's time per slot. Then the oracle's cost: its time per slot now beside the oracle of
an earlier commit (``--before-commit``, run from ``git archive`` in a subprocess on the same
layouts), and the UAV-candidate gain computation with the near users' channels shared
against recomputing them for every candidate.

    python benchmarks/references.py                  # 3 presets x 20 layouts x 100 slots
    python benchmarks/references.py --quick          # smoke run: 2 layouts x 5 slots

Human tables first; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench_machine import run_facts
from gaidrl.envs import PRESETS, UAVNearFarVectorEnv, physics
from gaidrl.envs.policies import make_reference, run_reference_episodes
from gaidrl.experiments.stats import mean_ci

REFERENCES = ("random", "heuristic", "planner", "oracle")
METRICS = ("sum_rate", "fairness", "reward")
REPO = Path(__file__).resolve().parent.parent

OLD_ORACLE = """
import json, sys, time
from gaidrl.envs import UAVNearFarVectorEnv
from gaidrl.envs.policies import make_reference, run_reference_episodes
episodes, slots, seed = (int(v) for v in sys.argv[1:4])
env = UAVNearFarVectorEnv(episodes, episode_length=slots)
start = time.perf_counter()
run_reference_episodes(make_reference("oracle"), env, seed)
print(json.dumps({"ms_per_slot": 1000 * (time.perf_counter() - start) / slots}))
"""


def run_preset(preset: str, episodes: int, slots: int, seed0: int) -> dict:
    """Every reference on the same layouts: per-episode means and time per slot."""
    env = UAVNearFarVectorEnv(episodes, preset=preset, episode_length=slots)
    out = {}
    for name in REFERENCES:
        policy = make_reference(name, seed=seed0) if name == "random" else make_reference(name)
        start = time.perf_counter()
        means = run_reference_episodes(policy, env, seed0)
        wall = time.perf_counter() - start
        out[name] = {m: means[m] for m in METRICS} | {"ms_per_slot": 1000 * wall / slots}
    return out


def old_oracle_ms(commit: str, episodes: int, slots: int, seed: int) -> float | None:
    """The oracle of ``commit`` (its own defaults), timed per slot in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src"],
                                 capture_output=True)  # fmt: skip
        if archive.returncode != 0:
            print(f"(no oracle of {commit}: {archive.stderr.decode().strip()})")
            return None
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = dict(os.environ, PYTHONPATH=str(Path(tmp) / "src"))
        done = subprocess.run(
            [sys.executable, "-c", OLD_ORACLE, str(episodes), str(slots), str(seed)],
            capture_output=True, text=True, env=env, check=True,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])["ms_per_slot"]


def gain_speedup(networks: int, candidates: int, repeats: int) -> dict[str, float]:
    """UAV-candidate beam gains: near users' channels shared vs recomputed per candidate."""
    env = UAVNearFarVectorEnv(networks)
    env.reset(seed=0)
    sim = env.sim
    rng = np.random.default_rng(0)
    xy = rng.uniform(sim.area_low[:2], sim.area_high[:2], (networks, candidates, 2))
    uav = np.concatenate([xy, np.full((networks, candidates, 1), 100.0)], -1)
    args = (sim.elements[:, 1], sim.config.bs_height_m, sim.wavelength, sim.beta0)
    near = np.broadcast_to(sim.near_pos[:, None], (networks, candidates, *sim.near_pos.shape[1:]))
    points = np.concatenate([near, uav[:, :, None]], axis=2)

    def timed(fn) -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return 1000 * float(np.median(times))

    full = timed(lambda: physics.focused_beam_gains(points, *args))
    shared = timed(lambda: physics.gains_with_moving_receiver(sim.near_pos, uav, *args))
    return {"full_ms": full, "shared_ms": shared, "speedup": full / shared}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default=",".join(PRESETS))
    parser.add_argument("--episodes", type=int, default=20, help="layouts per preset")
    parser.add_argument("--slots", type=int, default=100, help="slots per episode")
    parser.add_argument("--seed0", type=int, default=80_000)
    parser.add_argument(
        "--before-commit", default="ac1b85b", help="commit whose oracle is timed too ('' skips)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 layouts x 5 slots")
    args = parser.parse_args(argv)
    if args.quick:
        args.episodes, args.slots = 2, 5
    presets = [p for p in args.presets.split(",") if p]
    unknown = sorted(set(presets) - set(PRESETS))
    if unknown:
        parser.error(f"unknown presets {unknown}; allowed: {', '.join(PRESETS)}")

    results = {}
    for preset in presets:
        refs = run_preset(preset, args.episodes, args.slots, args.seed0)
        planner, oracle = refs["planner"], refs["oracle"]
        print(f"\npreset {preset}: {args.episodes} layouts (seeds {args.seed0}..), "
              f"{args.slots} slots; mean ± 95 % interval across layouts")  # fmt: skip
        print(f"{'policy':<10}" + "".join(f"{m:>22}" for m in METRICS)
              + f"{'% planner':>11}{'% oracle':>10}{'ms/slot':>9}")  # fmt: skip
        rows = {}
        for name, r in refs.items():
            cis = {m: mean_ci(r[m]) for m in METRICS}
            pct_planner = 100 * cis["reward"].mean / float(np.mean(planner["reward"]))
            pct_oracle = 100 * cis["reward"].mean / float(np.mean(oracle["reward"]))
            rows[name] = {
                m: {"mean": c.mean, "low": c.low, "high": c.high} for m, c in cis.items()
            } | {  # fmt: skip
                "percent_of_planner_reward": pct_planner,
                "percent_of_oracle_reward": pct_oracle,
                "ms_per_slot": r["ms_per_slot"],
            }
            shares = f"{pct_planner:>10.1f}%{pct_oracle:>9.1f}%{r['ms_per_slot']:>9.1f}"
            print(f"{name:<10}" + "".join(f"{str(cis[m]):>22}" for m in METRICS) + shares)
        gap = {m: mean_ci(planner[m] - refs["heuristic"][m]) for m in METRICS}
        relative = 100 * gap["reward"].mean / float(np.mean(refs["heuristic"]["reward"]))
        bound = bool(np.all(oracle["reward"] >= planner["reward"] - 1e-6))
        print(
            f"planner - heuristic (paired): reward {gap['reward']} ({relative:+.1f} %), "
            f"sum rate {gap['sum_rate']}; oracle >= planner on every layout: {bound}"
        )
        results[preset] = {
            "policies": rows,
            "planner_minus_heuristic": {
                m: {"mean": c.mean, "low": c.low, "high": c.high} for m, c in gap.items()
            },  # fmt: skip
            "planner_over_heuristic_reward_percent": relative,
            "oracle_at_least_planner_every_layout": bound,
        }

    timing_episodes, timing_slots = (2, 3) if args.quick else (10, 10)
    env = UAVNearFarVectorEnv(timing_episodes, episode_length=timing_slots)
    start = time.perf_counter()
    run_reference_episodes(make_reference("oracle"), env, args.seed0)
    now_ms = 1000 * (time.perf_counter() - start) / timing_slots
    before_ms = (old_oracle_ms(args.before_commit, timing_episodes, timing_slots, args.seed0)
                 if args.before_commit else None)  # fmt: skip
    gains = gain_speedup(timing_episodes, 143, 3 if args.quick else 7)
    print(f"\noracle, paper preset, {timing_episodes} networks: {now_ms:.0f} ms per slot now"
          + (f", {before_ms:.0f} ms at {args.before_commit} (ratio {before_ms / now_ms:.2f})"
             if before_ms else ""))  # fmt: skip
    print(f"UAV-candidate gains ({timing_episodes} networks x 143 candidates): "
          f"{gains['full_ms']:.1f} ms recomputing the near users, {gains['shared_ms']:.1f} ms "
          f"sharing them ({gains['speedup']:.1f}x)")  # fmt: skip
    result = {
        "benchmark": "references", "presets": results, "episodes": args.episodes,
        "slots": args.slots, "seed0": args.seed0, "quick": args.quick,
        "oracle_ms_per_slot": {"now": now_ms, "before": before_ms,
                               "before_commit": args.before_commit,
                               "networks": timing_episodes},
        "candidate_gains": gains, **run_facts(),
    }  # fmt: skip
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
