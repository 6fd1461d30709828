"""TD3 with GAI parts beside plain TD3 on Pendulum-v1, same settings, same seeds, one run.

Every variant is ``configs/td3_pendulum.yaml`` (rl-zoo's TD3 settings, 20k env steps)
with the parts it names and nothing else changed; runs are interleaved per seed so a
passing load on the machine hits every variant alike. The figure per run is the mean
return of 10 greedy episodes on one fixed set of start seeds (424242 + i), the same for
every run; the goal of issue 9 is better than -250 after 20k steps. Steps/s (training
wall time, evaluations included) are reported as ratios to plain TD3 of the same seed.

    python benchmarks/gai_pendulum.py                      # plain, diffusion; 3 seeds
    python benchmarks/gai_pendulum.py --variants plain,diffusion_bc --seeds 5
    python benchmarks/gai_pendulum.py --quick              # smoke: 1 seed, 600 steps
    python benchmarks/gai_pendulum.py --budget small --variants generative_replay,world_model \
        --seeds 5                                          # data side at 5k env steps

Prints a table, then one JSON object with every figure as the LAST line.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

from bench_machine import json_safe, run_facts  # noqa: E402
from gaidrl.experiments.config import load_config  # noqa: E402
from gaidrl.experiments.registry import make_env  # noqa: E402
from gaidrl.experiments.stats import mean_ci  # noqa: E402
from gaidrl.train.evaluate import evaluate  # noqa: E402
from gaidrl.train.trainer import Trainer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "td3_pendulum.yaml"
EVAL_SEED0, EVAL_EPISODES, TARGET = 424_242, 10, -250.0
VARIANTS: dict[str, list[str]] = {
    "plain": [],
    "diffusion": ["parts.actor.name=diffusion", "parts.actor.params.n_steps=5"],
    "diffusion_bc": [
        "parts.actor.name=diffusion",
        "parts.actor.params.n_steps=5",
        "parts.actor.params.bc_weight=1.0",
    ],  # fmt: skip
    "gan_critic": ["parts.critic.name=gan"],
    "gan_critic_anchored": ["parts.critic.name=gan", "parts.critic.params.regression_weight=1.0"],
    "quantile_critic": ["parts.critic.name=quantile"],
    # the attention encoder over Pendulum's 3 values split into 3 tokens (cos, sin, speed)
    "attention_encoder": ["parts.encoder.name=transformer", "parts.encoder.params.token_size=1"],
    # data side: SynthER-style generative replay and an MBPO-style world model (defaults:
    # half of each batch synthetic; re-fitted every 10k / trained every 1k env steps)
    "generative_replay": ["parts.replay.name=generative"],
    "world_model": ["parts.replay.name=world_model"],
}
# A small budget for sample efficiency (issue 10): 5k env steps, learning from 1k.
BUDGETS = {
    "standard": [],
    "small": [
        "trainer.total_steps=5000",
        "algo.params.learning_starts=1000",
        "trainer.eval_every=5000",
    ],
}
# smoke: small networks, a few hundred updates, the data-side models fitted at least once
QUICK = ["trainer.total_steps=600", "algo.params.learning_starts=300", "trainer.eval_every=600",
         "algo.params.hidden=[64,64]"]  # fmt: skip
QUICK_EXTRA = {
    "generative_replay": ["parts.replay.params.refit_every=300", "parts.replay.params.min_real=200",
                          "parts.replay.params.fit_steps=50"],
    "world_model": ["parts.replay.params.train_every=300", "parts.replay.params.min_real=200",
                    "parts.replay.params.train_steps=50"],
}  # fmt: skip


def run(variant: str, seed: int, quick: bool, budget: str = "standard") -> dict[str, float]:
    sets = [f"seed={seed}", "device=cpu", "trainer.tensorboard=false", "trainer.checkpoint_every=0"]
    sets += BUDGETS[budget] + VARIANTS[variant]
    sets += QUICK + QUICK_EXTRA.get(variant, []) if quick else []
    config = load_config(CONFIG, sets)
    with tempfile.TemporaryDirectory(prefix=f"gai_{variant}_") as tmp:
        trainer = Trainer.create(config, Path(tmp) / "run")
        start = time.perf_counter()
        try:
            trainer.run()
        finally:
            trainer.close()
        wall = time.perf_counter() - start
        env = make_env(config.env, num_envs=EVAL_EPISODES)
        seeds = list(range(EVAL_SEED0, EVAL_SEED0 + EVAL_EPISODES))
        returns = evaluate(trainer.agent, env, seeds).episodes["return"]
        env.close()
    steps = config.trainer.total_steps
    return {"return": float(np.mean(returns)), "wall_s": wall, "steps_per_s": steps / wall}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", default="plain,diffusion",
                        help=f"comma-separated, of: {', '.join(VARIANTS)}")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="standard",
                        help="standard: td3_pendulum.yaml's 20k steps; small: 5k steps, "
                        "learning from 1k")  # fmt: skip
    args = parser.parse_args(argv)
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; allowed: {', '.join(VARIANTS)}")
    if "plain" not in variants:
        variants.insert(0, "plain")  # the baseline is always in the same run
    seeds = 1 if args.quick else args.seeds
    torch.set_num_threads(1)
    runs: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
    for seed in range(seeds):
        for variant in variants:
            runs[variant].append(run(variant, seed, args.quick, args.budget))
            r = runs[variant][-1]
            print(f"seed {seed} {variant:<13} return {r['return']:9.1f}  "
                  f"{r['steps_per_s']:6.1f} steps/s", flush=True)  # fmt: skip
    print(f"\n{'variant':<13}{'return (mean ± 95 % CI)':>28}{'seeds > -250':>14}"
          f"{'steps/s':>10}{'x plain':>9}")  # fmt: skip
    summary = {}
    for variant, rows in runs.items():
        ci = mean_ci([r["return"] for r in rows])
        ratio = float(np.mean([r["steps_per_s"] / p["steps_per_s"]
                               for r, p in zip(rows, runs["plain"], strict=True)]))  # fmt: skip
        passed = sum(r["return"] > TARGET for r in rows)
        sps = float(np.mean([r["steps_per_s"] for r in rows]))
        print(f"{variant:<13}{str(ci):>28}{f'{passed}/{len(rows)}':>14}{sps:>10.1f}{ratio:>9.2f}")
        summary[variant] = {"returns": [r["return"] for r in rows], "mean": ci.mean,
                            "low": ci.low, "high": ci.high, "above_target": passed,
                            "steps_per_s": [r["steps_per_s"] for r in rows],
                            "steps_per_s_over_plain": ratio}  # fmt: skip
    result = {"benchmark": "gai_pendulum", "variants": summary, "seeds": seeds,
              "quick": args.quick, "budget": args.budget, "target": TARGET,
              **run_facts()}  # fmt: skip
    print(json.dumps(json_safe(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
