"""GAI variants of an agent beside the plain agent on the case study's presets, several seeds.

For every preset and variant, ``uav_seeds.py`` trains ``--seeds`` seeds of the variant's
config (one torch thread each) and evaluates every trained agent and the reference policies
on one common set of layouts (references computed once per preset and cached). This script
collects those results into one table: reward per slot with its 95 % t-interval, percent of
the planner and of the oracle, and each GAI variant's difference to the plain variant of the
same preset with a 95 % Welch interval (different seeds are independent runs, not pairs).

    python benchmarks/uav_gai.py --presets paper,urban_split --variants td3,td3_diffusion \\
        --seeds 5 --steps 30000 --episodes 20 --eval-seed0 80000 --jobs 2
    python benchmarks/uav_gai.py --quick      # smoke: paper, td3 + td3_diffusion, 1 seed

A finished (preset, variant) is not retrained when run again with the same ``--out``.
Human table first; the last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats as sps

from bench_machine import cpu_name, json_safe

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {  # each GAI config is the plain one with one part swapped in
    "td3": "td3_uav.yaml",
    "td3_diffusion": "td3_uav_diffusion.yaml",
    "td3_gan": "td3_uav_gan.yaml",
    "td3_transformer": "td3_uav_transformer.yaml",
    "sac_discrete": "d2sac_uav.yaml",
    "d2sac": "d2sac_uav.yaml",
}
EXTRA = {"sac_discrete": ["parts={}"]}  # discrete SAC: D2SAC's config without its actor
PLAIN = {
    "td3_diffusion": "td3",
    "td3_gan": "td3",
    "td3_transformer": "td3",
    "d2sac": "sac_discrete",
}


def run_variant(preset: str, variant: str, args: argparse.Namespace) -> dict:
    """uav_seeds.py for one (preset, variant), or its saved result."""
    saved = args.out / f"{preset}-{variant}.json"
    if saved.exists():
        return json.loads(saved.read_text())
    cmd = [sys.executable, str(ROOT / "benchmarks" / "uav_seeds.py"),
           "--config", str(ROOT / "configs" / CONFIGS[variant]), "--seeds", str(args.seeds),
           "--steps", str(args.steps), "--jobs", str(args.jobs), "--episodes", str(args.episodes),
           "--eval-seed0", str(args.eval_seed0), "--out", str(args.out),
           "--tag", f"{preset}-{variant}", "--set", f"env.kwargs.preset={preset}"]  # fmt: skip
    for s in EXTRA.get(variant, []):
        cmd += ["--set", s]
    if args.quick:
        cmd.append("--quick")
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{preset}/{variant} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    saved.write_text(json.dumps(result))
    return result


def welch_difference(a: list[float], b: list[float]) -> dict[str, float]:
    """Mean of a minus mean of b with a 95 % Welch interval (nan with fewer than 2 each)."""
    diff = float(np.mean(a) - np.mean(b))
    if len(a) < 2 or len(b) < 2:
        return {"diff": diff, "low": float("nan"), "high": float("nan"), "p": float("nan")}
    test = sps.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(0.95)
    return {"diff": diff, "low": float(ci.low), "high": float(ci.high), "p": float(test.pvalue)}


def num(value: float | None, spec: str = ".4f") -> str:
    """A figure, or n/a where one seed leaves no interval."""
    return "n/a" if value is None or not np.isfinite(value) else format(value, spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="paper,urban_split,crowded_bs")
    parser.add_argument("--variants", default="td3,td3_diffusion",
                        help=f"comma-separated, from {', '.join(CONFIGS)}")  # fmt: skip
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=30_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--eval-seed0", type=int, default=80_000)
    parser.add_argument("--out", type=Path, default=Path("runs/uav_gai"))
    parser.add_argument("--quick", action="store_true", help="smoke: paper, 1 seed, 600 steps")
    args = parser.parse_args(argv)
    presets = [p for p in args.presets.split(",") if p]
    variants = [v for v in args.variants.split(",") if v]
    unknown = sorted(set(variants) - set(CONFIGS))
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; choose from {', '.join(CONFIGS)}")
    if args.quick:  # what uav_seeds.py --quick runs
        presets, args.seeds, args.steps, args.episodes = presets[:1], 1, 600, 2
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = {p: {v: run_variant(p, v, args) for v in variants} for p in presets}

    table: dict[str, dict] = {}
    print(f"{'preset':<12}{'variant':<16}{'reward (95% t)':>24}{'% planner':>10}{'% oracle':>9}"
          f"{'vs plain (95% Welch)':>28}")  # fmt: skip
    for preset, by_variant in results.items():
        table[preset] = {}
        for variant, r in by_variant.items():
            rewards = [s["reward"] for s in r["per_seed"]]
            row = {"reward": r["mean"]["reward"], "rewards": rewards,
                   "percent_of_planner": r["verdict"]["reward"]["percent_of_planner"],
                   "percent_of_oracle": r["verdict"]["reward"]["percent_of_oracle"],
                   "sum_rate": r["mean"]["sum_rate"], "fairness": r["mean"]["fairness"],
                   "train_wall_s": r["train_wall_s"]}  # fmt: skip
            plain = PLAIN.get(variant)
            vs = ""
            if plain in by_variant:
                base = [s["reward"] for s in by_variant[plain]["per_seed"]]
                row["vs_plain"] = welch_difference(rewards, base)
                d = row["vs_plain"]
                vs = f"{d['diff']:+.4f} [{num(d['low'], '+.4f')}, {num(d['high'], '+.4f')}]"
            table[preset][variant] = row
            m = row["reward"]
            shares = f"{row['percent_of_planner']:>9.1f}%{row['percent_of_oracle']:>8.1f}%"
            print(f"{preset:<12}{variant:<16}{m['mean']:>10.4f} "
                  f"[{num(m['low'])}, {num(m['high'])}]{shares}{vs:>28}")  # fmt: skip
        refs = next(iter(by_variant.values()))["references"]
        table[preset]["references"] = refs
        print(f"{preset:<12}" + "  ".join(f"{k} {v['reward']:.4f}" for k, v in refs.items()))
    print(json.dumps(json_safe({
        "benchmark": "uav_gai", "presets": presets, "variants": variants, "seeds": args.seeds,
        "steps": args.steps, "episodes": args.episodes, "eval_seed0": args.eval_seed0,
        "quick": args.quick, "table": table, "wall_s": time.perf_counter() - start,
        "machine": cpu_name(), "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    })))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
