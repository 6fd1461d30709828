"""Several seeds of one algorithm on the case study, against the reference policies.

Trains ``--seeds`` runs of ``--config`` (in parallel processes, one torch thread each), then
evaluates every trained agent greedily on one common set of layouts, on which random,
heuristic, planner and oracle are run too (a paired comparison). Reports per-seed figures, the mean
over seeds with a 95 % Student-t interval, and whether the interval clears the heuristic.

    python benchmarks/uav_seeds.py --config configs/td3_uav.yaml --seeds 5 --jobs 2
    python benchmarks/uav_seeds.py --quick          # smoke run: 1 seed, a few hundred steps
    # the same sweep again (same --tag and --out: nothing is retrained), on 20 fresh layouts
    python benchmarks/uav_seeds.py ... --tag T --episodes 20 --eval-seed0 70000

Human table first; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench_machine import cpu_name, json_safe

METRICS = ("sum_rate", "fairness", "reward")
EVAL_SEED0 = 50_000  # layouts no training run's own evaluation uses


def train_one(config: Path, seed: int, steps: int, out: Path, sets: list[str]) -> float:
    """Train one seed through the CLI in its own process (or continue the run already in
    ``out`` from its last checkpoint); return the wall time."""
    cmd = [sys.executable, "-m", "gaidrl.cli", "train", "--no-progress",
           "--set", f"trainer.total_steps={steps}"]  # fmt: skip
    if (out / "config.yaml").exists():
        cmd += ["--resume", str(out)]
    else:
        cmd += ["--config", str(config), "--seed", str(seed), "--out", str(out),
                "--set", "trainer.oracle_reference=false"]  # fmt: skip
        for s in sets:
            cmd += ["--set", s]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"seed {seed} failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def evaluate_run(run_dir: Path, seeds: list[int]) -> dict[str, float]:
    """Greedy episodes of the run's final agent on the common layouts: metric means."""
    from gaidrl.envs import UAVNearFarVectorEnv
    from gaidrl.train.evaluate import evaluate
    from gaidrl.train.trainer import Trainer

    trainer = Trainer.resume(run_dir)
    env = UAVNearFarVectorEnv(len(seeds), **trainer.config.env.kwargs)
    episodes = evaluate(trainer.agent, env, seeds).episodes
    trainer.close()
    out = {m: float(np.mean(episodes[m])) for m in ("sum_rate", "fairness")}
    out["reward"] = float(np.mean(episodes["return"] / episodes["length"]))
    return out


def cached_references(env_kwargs: dict, seeds: list[int], out: Path) -> dict[str, dict[str, float]]:
    """:func:`evaluate_references`, kept in ``out`` per env options and layouts: sweeps of
    several configs over one preset (the same env) run the planner and oracle once."""
    key = json.dumps({"env": env_kwargs, "seeds": seeds}, sort_keys=True)
    path = out / f"references-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    if path.exists():
        return json.loads(path.read_text())["references"]
    refs = evaluate_references(env_kwargs, seeds)
    path.write_text(json.dumps({"key": json.loads(key), "references": refs}))
    return refs


def evaluate_references(env_kwargs: dict, seeds: list[int]) -> dict[str, dict[str, float]]:
    from gaidrl.envs.policies import score_references

    scores = score_references(env_kwargs, seeds[0], len(seeds))
    return {name: {m: float(np.mean(per_episode[m])) for m in METRICS}
            for name, per_episode in scores.items()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=Path("configs/td3_uav.yaml"))
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=100_000, help="env steps per seed")
    parser.add_argument("--jobs", type=int, default=2, help="seeds trained at once")
    parser.add_argument("--episodes", type=int, default=10, help="common evaluation layouts")
    parser.add_argument("--eval-seed0", type=int, default=EVAL_SEED0,
                        help="first layout seed of the common evaluation; another value "
                        "re-checks a finished sweep (same --tag) on fresh layouts")  # fmt: skip
    parser.add_argument("--out", type=Path, default=Path("runs/uav_seeds"))
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 seed, 600 steps")
    parser.add_argument("--tag", default=None,
                        help="run-folder prefix; an existing sweep with this tag is continued "
                             "from its checkpoints (default: the start time)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.quick:
        args.seeds, args.steps, args.episodes = 1, 600, 2
        args.sets += ["algo.params.learning_starts=200", "trainer.eval_every=600",
                      "trainer.eval_episodes=1", "env.kwargs.episode_length=20"]  # fmt: skip
    from gaidrl.experiments.config import load_config
    from gaidrl.experiments.stats import mean_ci

    config = load_config(args.config, args.sets)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = args.tag or time.strftime("%Y%m%d-%H%M%S")
    runs = [args.out / f"{stamp}-seed{s}" for s in range(args.seeds)]
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        walls = list(pool.map(lambda s: train_one(args.config, s, args.steps, runs[s], args.sets),
                              range(args.seeds)))  # fmt: skip
    train_wall = time.perf_counter() - start
    eval_seeds = list(range(args.eval_seed0, args.eval_seed0 + args.episodes))
    per_seed = [evaluate_run(run, eval_seeds) for run in runs]
    refs = cached_references(config.env.kwargs, eval_seeds, args.out)
    algo = config.algo.name
    summary = {m: mean_ci([r[m] for r in per_seed]) for m in METRICS}

    print(f"{algo} on {config.env.id} ({args.config}, {args.steps} steps, {args.seeds} seeds, "
          f"{args.episodes} common evaluation layouts)")  # fmt: skip
    print(f"{'policy':<14}" + "".join(f"{m:>26}" for m in METRICS))
    for i, r in enumerate(per_seed):
        print(f"{algo + ' seed ' + str(i):<14}" + "".join(f"{r[m]:>26.4f}" for m in METRICS))
    print(f"{algo + ' mean':<14}" + "".join(f"{str(summary[m]):>26}" for m in METRICS))
    for name, r in refs.items():
        print(f"{name:<14}" + "".join(f"{r[m]:>26.4f}" for m in METRICS))
    verdict = {}
    for m in METRICS:
        ci, heur = summary[m], refs["heuristic"][m]
        verdict[m] = {
            "beats_heuristic_ci": bool(ci.low > heur),
            "below_heuristic_ci": bool(ci.high < heur),
        } | {f"percent_of_{name}": 100.0 * ci.mean / refs[name][m]
             for name in ("heuristic", "planner", "oracle")}  # fmt: skip
        print(f"{m}: {algo} {ci} vs heuristic {heur:.4f} -> "
              + ("above" if ci.low > heur else "below" if ci.high < heur else "not separated")
              + f"; {verdict[m]['percent_of_planner']:.1f} % of planner, "
              + f"{verdict[m]['percent_of_oracle']:.1f} % of oracle")  # fmt: skip
    result = {
        "benchmark": "uav_seeds", "config": str(args.config), "algo": algo, "steps": args.steps,
        "sets": args.sets, "seeds": args.seeds, "eval_seeds": eval_seeds,
        "per_seed": per_seed, "train_wall_s": walls, "total_train_wall_s": train_wall,
        "mean": {m: {"mean": c.mean, "low": c.low, "high": c.high} for m, c in summary.items()},
        "references": refs, "verdict": verdict, "jobs": args.jobs, "quick": args.quick,
        "machine": cpu_name(), "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }  # fmt: skip
    print(json.dumps(json_safe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
