"""DQN and PPO on CartPole-v1 through our trainer, in the rl-zoo budgets, over several seeds.

Each run is ``gaidrl train --config configs/{dqn,ppo}_cartpole.yaml --seed N`` done in
Python (:class:`gaidrl.train.trainer.Trainer`): DQN for 50k env steps, PPO for 100k
(rl-baselines3-zoo's budgets, where both reach 500; see /work/shared/ANCHORS.md). The figure
per run is the trainer's final deterministic evaluation: the mean return of
``eval_episodes`` (10) greedy episodes on the run's fixed evaluation seeds. Target: 475+.

Usage: ``python benchmarks/classic_control.py [--quick] [--seeds N] [--algos dqn,ppo]``.
Each run also keeps its best-evaluated checkpoint (``trainer.keep_best``); since that one is
chosen on the evaluation seeds, it is re-evaluated on ``eval_episodes`` fresh seeds and
reported apart ("best, fresh seeds"), never in place of the final figure.

Prints a table, then one JSON object with every figure as the LAST line.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):  # fmt: skip
    os.environ[_var] = "1"

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_machine import run_facts  # noqa: E402
from gaidrl.experiments.config import load_config  # noqa: E402
from gaidrl.experiments.registry import make_env  # noqa: E402
from gaidrl.experiments.stats import mean_ci  # noqa: E402
from gaidrl.train.checkpoint import load_checkpoint  # noqa: E402
from gaidrl.train.evaluate import evaluate  # noqa: E402
from gaidrl.train.trainer import BEST, CHECKPOINT_DIR, Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET = 475.0
FRESH_SEED0 = 5_000_000  # re-evaluation seeds no run's own evaluation uses
CASES = {
    "dqn": {"config": ROOT / "configs" / "dqn_cartpole.yaml", "steps": 50_000,
            "quick": ["trainer.total_steps=1500", "algo.params.learning_starts=500",
                      "algo.params.gradient_steps=16"]},
    "ppo": {"config": ROOT / "configs" / "ppo_cartpole.yaml", "steps": 100_000,
            "quick": ["trainer.total_steps=1024", "algo.params.n_epochs=2"]},
}  # fmt: skip


def run(algo: str, seed: int, quick: bool, episodes: int | None) -> dict[str, Any]:
    case = CASES[algo]
    sets = [f"seed={seed}", "device=cpu", "trainer.tensorboard=false",
            "trainer.checkpoint_every=0", "trainer.keep_best=true"]  # fmt: skip
    sets += case["quick"] if quick else [f"trainer.total_steps={case['steps']}"]
    if episodes is not None:
        sets.append(f"trainer.eval_episodes={episodes}")
    config = load_config(case["config"], sets)
    with tempfile.TemporaryDirectory(prefix=f"cc_{algo}_") as tmp:
        run_dir = Path(tmp) / "run"
        trainer = Trainer.create(config, run_dir)
        t0 = time.perf_counter()
        try:
            summary = trainer.run()
        finally:
            trainer.close()
        wall = time.perf_counter() - t0
        with open(run_dir / "eval.csv") as f:
            curve = [(int(r["step"]), float(r["return_mean"])) for r in csv.DictReader(f)]
        best = load_checkpoint(run_dir / CHECKPOINT_DIR / BEST)
        trainer.agent.load_training_state(best["agent"])
        n = config.trainer.eval_episodes
        env = make_env(config.env, num_envs=n)
        fresh = evaluate(trainer.agent, env, list(range(FRESH_SEED0, FRESH_SEED0 + n)))
        env.close()
    return {"return": float(summary["return_mean"]), "return_std": float(summary["return_std"]),
            "wall_s": wall, "steps": config.trainer.total_steps,
            "steps_per_s_incl_eval": config.trainer.total_steps / wall,
            "eval_curve": curve, "best_step": int(best["trainer"]["step"]),
            "best_fresh_return": float(fresh.summary()["return_mean"])}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: ~1k steps, 1 seed")
    parser.add_argument("--seeds", type=int, help="number of seeds, 0..N-1 (default 3)")
    parser.add_argument("--algos", default="dqn,ppo", help="comma-separated: dqn, ppo")
    parser.add_argument("--eval-episodes", type=int, help="override trainer.eval_episodes")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    algos = [a.strip() for a in args.algos.split(",") if a.strip()]
    unknown = sorted(set(algos) - set(CASES))
    if unknown:
        parser.error(f"unknown algorithm {unknown[0]!r}; choose from {', '.join(CASES)}")
    seeds = list(range(args.seeds or (1 if args.quick else 3)))
    episodes = args.eval_episodes or (2 if args.quick else None)
    results: dict[str, Any] = {}
    t_start = time.perf_counter()
    for algo in algos:
        runs = []
        for seed in seeds:
            r = run(algo, seed, args.quick, episodes)
            print(f"# {algo} seed {seed}: return {r['return']:.1f} ({r['wall_s']:.0f} s)",
                  file=sys.stderr, flush=True)  # fmt: skip
            runs.append(r)
        returns = [r["return"] for r in runs]
        best_returns = [r["best_fresh_return"] for r in runs]
        ci, best_ci = mean_ci(returns), mean_ci(best_returns)
        results[algo] = {
            "config": str(CASES[algo]["config"].relative_to(ROOT)),
            "steps": runs[0]["steps"], "return_per_seed": returns,
            "return_std_per_seed": [r["return_std"] for r in runs],
            "wall_s_per_seed": [r["wall_s"] for r in runs],
            "steps_per_s_incl_eval_per_seed": [r["steps_per_s_incl_eval"] for r in runs],
            "eval_curve_per_seed": [r["eval_curve"] for r in runs],
            "return": {"mean": ci.mean, "low": ci.low, "high": ci.high,
                       "half_width": ci.half_width},
            "seeds_reaching_target": int(sum(x >= TARGET for x in returns)),
            "mean_reaches_target": bool(ci.mean >= TARGET),
            "best_step_per_seed": [r["best_step"] for r in runs],
            "best_fresh_return_per_seed": best_returns,
            "best_fresh_return": {"mean": best_ci.mean, "low": best_ci.low,
                                  "high": best_ci.high, "half_width": best_ci.half_width},
            "best_fresh_seeds_reaching_target": int(sum(x >= TARGET for x in best_returns)),
        }  # fmt: skip
    print(f"{'algo':<5} {'steps':>7} {'seed':>4} {'final eval return':>18} "
          f"{'best at step':>13} {'best, fresh seeds':>18} {'wall s':>7}")  # fmt: skip
    for algo, res in results.items():
        for i, seed in enumerate(seeds):
            print(f"{algo:<5} {res['steps']:>7} {seed:>4} {res['return_per_seed'][i]:>18.1f} "
                  f"{res['best_step_per_seed'][i]:>13} "
                  f"{res['best_fresh_return_per_seed'][i]:>18.1f} "
                  f"{res['wall_s_per_seed'][i]:>7.0f}")  # fmt: skip
    for algo, res in results.items():
        for label, key, count in (("final", "return", "seeds_reaching_target"),
                                  ("best, fresh seeds", "best_fresh_return",
                                   "best_fresh_seeds_reaching_target")):  # fmt: skip
            iv = res[key]
            half = f"{iv['half_width']:.1f}" if np.isfinite(iv["half_width"]) else "inf (n=1)"
            print(f"{algo} {label}: mean {iv['mean']:.1f} ± {half} (95% t); "
                  f"{res[count]}/{len(seeds)} seeds >= {TARGET:.0f}")  # fmt: skip
    record = {
        "benchmark": "classic_control", "env": "CartPole-v1", "quick": args.quick,
        "seeds": seeds, "target": TARGET, "results": results,
        "threads": torch.get_num_threads(), **run_facts(),
        "total_wall_s": time.perf_counter() - t_start,
    }  # fmt: skip
    print(json.dumps(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
